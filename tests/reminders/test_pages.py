"""The reminder pages: settings with a preview, the list with missed ones up front, resend."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from fieldwork.extensions import db
from fieldwork.messaging.templating import DEFAULTS
from fieldwork.outbox.models import OutboxMessage, OutboxState
from fieldwork.reminders import jobs, services
from fieldwork.reminders.models import Reminder, ReminderSettings, ReminderState
from tests.pagecheck import require_vnu, vnu_errors
from tests.reminders.conftest import NOW, make_appointment


def _settings_form(**changes) -> dict:
    data = {
        "offsets": "2880, 120",
        "is_for_interviewer": "y",
        "is_for_participant": "y",
        **DEFAULTS,
        "action": "save",
    }
    data.update(changes)
    return data


def _missed_and_sent(world, clock):
    """One appointment whose reminders were missed, one whose 2-day reminders were sent."""
    early = make_appointment(world, NOW + dt.timedelta(days=3))
    later = make_appointment(world, NOW + dt.timedelta(days=6))
    for appointment in (early, later):
        services.plan_reminders(appointment)
    db.session.commit()
    clock.move(NOW + dt.timedelta(days=3, minutes=5))
    jobs.sweep_due_reminders()


def test_settings_page_shows_the_defaults_to_a_coordinator(world, client, auth):
    auth.login(world["coordinator"])
    page = client.get("/reminders/settings").get_data(as_text=True)
    assert 'value="2880, 120"' in page
    assert "Reminder: interview {{ participant_reference }}" in page
    assert "recipient_name" in page  # the variables are listed


def test_interviewers_cannot_see_reminder_pages(world, client, auth):
    auth.login(world["kathryn"])
    assert client.get("/reminders").status_code == 403
    assert client.get("/reminders/settings").status_code == 403


def test_preview_renders_against_a_sample_appointment_without_saving(world, client, auth):
    auth.login(world["coordinator"])
    response = client.post(
        "/reminders/settings",
        data=_settings_form(
            action="preview",
            participant_subject="Hello {{ recipient_name }} <b>",
        ),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Hello Alex Example &lt;b&gt;" in page
    assert "(America/New_York)" in page  # the interviewer's own zone, named
    assert db.session.scalar(select(ReminderSettings)) is None


def test_a_template_error_is_shown_beside_its_field_and_nothing_is_saved(world, client, auth):
    auth.login(world["coordinator"])
    response = client.post(
        "/reminders/settings",
        data=_settings_form(
            interviewer_body="Dear {{ recipient_name ",
            participant_subject="{{ whoever }}",
            offsets="2880, soon",
        ),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in page
    assert 'id="interviewer_body-error"' in page and "Line 1" in page
    assert 'id="participant_subject-error"' in page and "whoever" in page
    assert 'id="offsets-error"' in page
    assert db.session.scalar(select(ReminderSettings)) is None


def test_the_sandbox_refuses_unsafe_templates(world, client, auth):
    auth.login(world["coordinator"])
    response = client.post(
        "/reminders/settings",
        data=_settings_form(
            participant_body="{{ recipient_name.__class__.__mro__ }}",
        ),
    )
    assert response.status_code == 422
    assert 'id="participant_body-error"' in response.get_data(as_text=True)


def test_saving_settings_changes_what_new_bookings_plan(world, client, auth):
    auth.login(world["coordinator"])
    response = client.post(
        "/reminders/settings", data=_settings_form(offsets="60, 1440", is_for_participant="")
    )
    assert response.status_code == 302
    saved = db.session.scalar(select(ReminderSettings))
    assert saved.offsets == [1440, 60] and saved.is_for_participant is False
    appointment = make_appointment(world, NOW + dt.timedelta(days=5))
    planned = services.plan_reminders(appointment)
    assert sorted(r.offset_minutes for r in planned) == [60, 1440]
    assert {r.recipient.value for r in planned} == {"interviewer"}


def test_missed_reminders_are_shown_up_front_with_what_to_do(world, clock, client, auth):
    _missed_and_sent(world, clock)
    auth.login(world["coordinator"])
    page = client.get("/reminders").get_data(as_text=True)
    assert "Needs your attention" in page
    assert "4 missed reminders" in page
    assert "contact the participant" in page
    missed = client.get("/reminders?state=missed").get_data(as_text=True)
    assert missed.count("tag--missed") == 4
    nonsense = client.get("/reminders?state=exploded&page=x")
    assert nonsense.status_code == 200
    assert "Not a valid choice" in nonsense.get_data(as_text=True)


def test_one_click_resend_of_an_interrupted_reminder(world, clock, client, auth, smtp_server):
    appointment = make_appointment(world, NOW + dt.timedelta(hours=5), participant=world["second"])
    services.plan_reminders(appointment)
    db.session.commit()
    clock.move(NOW + dt.timedelta(hours=3))
    jobs.sweep_due_reminders()
    db.session.execute(
        update(OutboxMessage).values(state=OutboxState.SENDING, claimed_at=clock.now, attempts=1)
    )
    db.session.commit()
    clock.advance(minutes=15)
    auth.login(world["coordinator"])
    page = client.get("/reminders?state=interrupted").get_data(as_text=True)
    assert "Interrupted" in page and "Send again" in page
    reminder = db.session.scalars(select(Reminder)).one()
    response = client.post(f"/reminders/{reminder.id}/resend")
    assert response.status_code == 302
    assert smtp_server.messages == []  # the request only queues; the scheduler sends
    jobs.sweep()
    db.session.expire_all()
    assert [m.rcpt_tos for m in smtp_server.messages] == [("kathryn@example.org",)]
    assert db.session.get(Reminder, reminder.id).state == ReminderState.SENT
    again = client.post(f"/reminders/{reminder.id}/resend", follow_redirects=True)
    assert "cannot be sent again" in again.get_data(as_text=True)


def test_reminder_pages_are_valid_html(world, clock, client, auth, tmp_path):
    require_vnu()
    _missed_and_sent(world, clock)
    auth.login(world["coordinator"])
    pages = {
        "/reminders": client.get("/reminders").get_data(as_text=True),
        "/reminders/settings": client.get("/reminders/settings").get_data(as_text=True),
        "preview": client.post(
            "/reminders/settings", data=_settings_form(action="preview")
        ).get_data(as_text=True),
        "errors": client.post("/reminders/settings", data=_settings_form(offsets="x")).get_data(
            as_text=True
        ),
    }
    assert vnu_errors(pages, tmp_path / "html") == []
