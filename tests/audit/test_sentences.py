"""The audit trail reads as sentences in the viewer's zone, with the details expandable; every
booking, move, cancellation, outcome, assignment, import, export, user and token change is an
event."""

from __future__ import annotations

from sqlalchemy import select

from fieldwork.accounts import services as accounts
from fieldwork.audit.models import AuditEvent
from fieldwork.extensions import db
from fieldwork.sampling import assignment
from fieldwork.sampling.imports import reader, writer
from fieldwork.scheduling.booking import cancel_appointment, record_outcome, reschedule_appointment
from fieldwork.scheduling.models import AppointmentStatus
from tests.factories import make_user
from tests.sampling.test_importing import frame_file, person
from tests.scheduling.conftest import at, book, give_consent


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_bookings_moves_cancellations_and_outcomes_read_as_sentences(world, client, auth, clock):
    """Each change of an appointment is an event; the audit page says it in words, in the
    viewer's zone with the zone named, with the stored values in a <details> element and no
    dotted code, JSON or microseconds up front."""
    give_consent(world, world["first"])
    item = book(world, at(2026, 3, 23, 10))
    reschedule_appointment(item, at(2026, 3, 24, 14), 60, world["coordinator"])
    clock.move(at(2026, 3, 24, 16))
    record_outcome(item, AppointmentStatus.HELD, 50, True, world["coordinator"])
    other = book(world, at(2026, 3, 26, 10), participant=world["second"], confirmed=True)
    cancel_appointment(other, "Ill <b>", world["coordinator"])
    assert {
        "appointment.booked",
        "appointment.moved",
        "appointment.outcome_recorded",
        "appointment.cancelled",
        "participant.assigned",
    } <= set(actions())
    viewer = make_user("coordinator", name="Nora Newyork", timezone="America/New_York")
    auth.login(viewer)
    page = client.get("/audit").get_data(as_text=True)
    listing = page[page.index('id="audit-events"') :]
    assert "Cora booked P1-004 with Kathryn for Mon 23 Mar 06:00 EDT." in listing
    assert (
        "Cora moved P1-004&#39;s interview from Mon 23 Mar 06:00 EDT to Tue 24 Mar 10:00 EDT"
        in listing
    )
    assert "Cora recorded P1-004&#39;s interview of Tue 24 Mar 10:00 EDT as held" in listing
    assert "Cora cancelled P1-005&#39;s interview of Thu 26 Mar 06:00 EDT" in listing
    assert "Cora assigned P1-005 to Kathryn Interviewer" in listing
    assert "<details" in listing and "Ill &lt;b&gt;" in listing
    up_front = [
        chunk.split("</p>")[0]
        for marker in ('class="audit-entry__sentence">', 'class="audit-entry__meta">')
        for chunk in listing.split(marker)[1:]
    ]
    assert len(up_front) >= 10
    for text in up_front:
        assert "appointment." not in text and "{" not in text and ".000" not in text


def test_assignments_imports_exports_users_and_tokens_are_events(world, client, auth, clock):
    """An assignment, an import, the open-data export, a new user, a changed user, a password
    change and an API token made and revoked each leave an event naming who did it."""
    assignment.assign_interviewer([world["second"].id], world["other"].id, world["coordinator"])
    frame = reader.CsvFrame.from_bytes(frame_file(person()).encode())
    writer.import_frame(world["study"], frame, world["coordinator"])
    auth.login(world["coordinator"])
    assert client.get(f"/studies/{world['study'].slug}/export.zip").status_code == 200
    new = accounts.create_user("new@example.org", "New Person", "interviewer", "a long password")
    accounts.update_user(
        new,
        name="New Person",
        email="new@example.org",
        role="interviewer",
        timezone="Europe/Paris",
        is_enabled=True,
    )
    accounts.change_password(new, "another long password")
    token, _ = accounts.create_api_token(new, "laptop")
    accounts.revoke_api_token(new, token.id)
    seen = actions()
    for action in (
        "participant.assigned",
        "import.completed",
        "export.downloaded",
        "user.created",
        "user.updated",
        "user.password_changed",
        "token.created",
        "token.revoked",
    ):
        assert action in seen, action
    export = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export.downloaded")
    ).one()
    assert export.actor_id == world["coordinator"].id
    changed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.updated")
    ).one()
    assert changed.before == {"timezone": "Europe/London"}
    assert "password" not in str(changed.after) and "hash" not in str(changed.after)
    page = client.get("/audit").get_data(as_text=True)
    assert "Cora imported the sample frame: 1 new participants, 0 updated" in page
    assert "Cora downloaded the open-data export" in page
    assert "The system added the user New Person (interviewer)" in page
    assert "revoked the API token “laptop”" in page
    assert 'value="export.downloaded">Export downloaded</option>' in page


def test_a_value_shaped_like_a_date_that_is_not_one_is_shown_as_typed():
    """A stored string such as 2026-02-31 (typed into a free-text field) reads as typed, never
    breaking the audit page."""
    from fieldwork.audit.sentences import plain_value

    assert plain_value("2026-02-31", "Europe/London") == "2026-02-31"
    assert plain_value("2026-02-03", "Europe/London") == "Tue 3 Feb 2026"
