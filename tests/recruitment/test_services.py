"""Rules of recruitment and consent, called as the pages and other domains call them."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from fieldwork.audit.models import AuditEvent
from fieldwork.core.time import UTC, now_utc, set_clock
from fieldwork.core.tokens import hash_token
from fieldwork.extensions import db
from fieldwork.recruitment.consent import record_consent, withdraw
from fieldwork.recruitment.consent_versions import (
    ItemSpec,
    PublishedVersionError,
    create_consent_form,
    get_version,
    new_draft_from,
    publish_version,
    update_draft,
)
from fieldwork.recruitment.contacts import (
    follow_ups_query,
    gatekeeper_warning,
    log_contact_attempt,
    save_access,
)
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.erasure import ERASED_NAME, erase_personal_data
from fieldwork.recruitment.links import (
    create_consent_link,
    find_consent_link,
    give_online_consent,
    revoke_consent_link,
)
from fieldwork.recruitment.models import (
    AccessAgreement,
    ConsentFormVersion,
    ConsentMethod,
    ContactChannel,
    DataHandling,
)
from fieldwork.recruitment.panel import recruitment_panel
from fieldwork.recruitment.referrals import record_referral, referrals_of
from fieldwork.recruitment.signals import participant_erased, participant_withdrawn
from fieldwork.recruitment.status import (
    ConsentRequired,
    RecruitmentError,
    has_consent_to_take_part,
    mark_interviewed,
    mark_scheduled,
    mark_unscheduled,
)
from fieldwork.sampling.models import Participant, RecruitmentStatus
from tests.factories import make_participant
from tests.recruitment.helpers import all_yes, make_published_version


def log(person, actor, disposition, *, days_ago=0, next_action_on=None, note=""):
    return log_contact_attempt(
        person,
        actor,
        attempted_at=now_utc() - dt.timedelta(days=days_ago),
        channel=ContactChannel.TELEPHONE,
        disposition=disposition,
        note=note,
        next_action_on=next_action_on,
    )


def events(action: str | None = None) -> list[AuditEvent]:
    statement = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        statement = statement.where(AuditEvent.action == action)
    return list(db.session.scalars(statement))


# --- Contact attempts and status --------------------------------------------------------------


def test_a_contact_attempt_moves_the_status_and_audits_the_change(world):
    ann, ivy = world["ann"], world["ivy"]
    log(ann, ivy, Disposition.NO_ANSWER, note="Rang twice")
    assert ann.status == RecruitmentStatus.APPROACHED
    [change] = events("participant.status_changed")
    assert change.actor_id == ivy.id and change.participant_id == ann.id
    assert change.before == {"status": "identified"}
    assert change.after["status"] == "approached"
    assert events("contact_attempt.logged")[0].after["note"] == "Rang twice"


def test_an_attempt_that_changes_nothing_writes_no_status_event(world):
    ann = world["ann"]
    log(ann, world["cora"], Disposition.NO_ANSWER)
    log(ann, world["cora"], Disposition.NO_ANSWER)
    assert len(events("participant.status_changed")) == 1
    assert len(events("contact_attempt.logged")) == 2


def test_an_attempt_in_the_future_is_refused(world):
    with pytest.raises(RecruitmentError, match="future"):
        log_contact_attempt(
            world["ann"],
            world["cora"],
            attempted_at=now_utc() + dt.timedelta(days=1),
            channel=ContactChannel.EMAIL,
            disposition=Disposition.AGREED,
        )


def test_the_gatekeeper_warning_names_a_refusing_or_do_not_contact_organisation(world):
    ann, cora = world["ann"], world["cora"]
    assert gatekeeper_warning(ann) is None
    save_access(
        world["jcp"], cora, agreement=AccessAgreement.AGREED, agreed_on=dt.date(2008, 1, 10)
    )
    assert gatekeeper_warning(ann) is None
    save_access(
        world["jcp"], cora, agreement=AccessAgreement.REFUSED, agreed_on=dt.date(2008, 2, 1)
    )
    ann = services_participant(ann.id)
    assert "has refused" in gatekeeper_warning(ann)
    save_access(world["jcp"], cora, agreement=AccessAgreement.UNKNOWN, is_do_not_contact=True)
    assert "do not contact" in gatekeeper_warning(ann)
    assert [e.after for e in events("organisation_access.changed")][-1] == {
        "agreement": "unknown",
        "agreed_on": None,
        "is_do_not_contact": True,
    }


def services_participant(participant_id: int) -> Participant:
    from fieldwork.sampling.services import get_participant

    db.session.expire_all()
    return get_participant(participant_id)


# --- Consent forms ----------------------------------------------------------------------------


def test_a_published_version_cannot_change(world):
    version = make_published_version(world["study"], world["cora"])
    with pytest.raises(PublishedVersionError):
        update_draft(version, "New text", [], world["cora"])
    with pytest.raises(PublishedVersionError):
        publish_version(version, world["cora"])
    db.session.expire_all()
    again = get_version(version.id)
    assert again.text.startswith("We are studying")
    assert [item.key for item in again.items] == [
        "take_part",
        "audio_recording",
        "anonymised_quotes",
        "archiving",
    ]


def test_editing_a_published_version_makes_a_new_draft_copying_it(world):
    version = make_published_version(world["study"], world["cora"])
    draft = new_draft_from(version, world["cora"])
    version = get_version(version.id)
    assert draft.number == 2 and not draft.is_published
    assert draft.text == version.text
    assert [(i.key, i.text, i.is_required) for i in draft.items] == [
        (i.key, i.text, i.is_required) for i in version.items
    ]
    # Asking again reuses the open draft rather than making version 3.
    assert new_draft_from(version, world["cora"]).id == draft.id
    draft = get_version(draft.id)
    update_draft(
        draft,
        "Changed text",
        [ItemSpec("take_part", "I will take part.", True)],
        world["cora"],
    )
    publish_version(get_version(draft.id), world["cora"])
    db.session.expire_all()
    assert get_version(version.id).text != "Changed text"
    assert db.session.scalar(sa.select(sa.func.count(ConsentFormVersion.id))) == 2


def test_a_version_needs_a_required_take_part_item_to_publish(world):
    form = create_consent_form(
        world["study"],
        "Odd form",
        "Text",
        [ItemSpec("audio_recording", "Recording is fine.")],
        world["cora"],
    )
    with pytest.raises(RecruitmentError, match="take part"):
        publish_version(get_version(form.versions[0].id), world["cora"])


# --- Consent ----------------------------------------------------------------------------------


def test_recording_written_consent_agrees_the_participant_and_is_audited(world):
    ann, cora = world["ann"], world["cora"]
    version = make_published_version(world["study"], cora)
    assert not has_consent_to_take_part(ann)
    answers = {**all_yes(), "archiving": False}
    consent = record_consent(
        ann, version, method=ConsentMethod.WRITTEN, answers=answers, actor=cora
    )
    assert has_consent_to_take_part(ann)
    assert ann.status == RecruitmentStatus.AGREED
    assert consent.recorded_by_id == cora.id
    [recorded] = events("consent.recorded")
    assert recorded.after["answers"] == answers and recorded.after["version"] == 1


def test_consent_without_the_required_item_is_refused(world):
    version = make_published_version(world["study"], world["cora"])
    with pytest.raises(RecruitmentError, match="no consent"):
        record_consent(
            world["ann"],
            version,
            method=ConsentMethod.VERBAL,
            answers={**all_yes(), "take_part": False},
            actor=world["cora"],
        )


def test_consent_to_a_draft_is_refused(world):
    form = create_consent_form(
        world["study"],
        "Draft",
        "Text",
        [ItemSpec("take_part", "Yes", True)],
        world["cora"],
    )
    with pytest.raises(RecruitmentError, match="published"):
        record_consent(
            world["ann"],
            get_version(form.versions[0].id),
            method=ConsentMethod.VERBAL,
            answers={"take_part": True},
            actor=world["cora"],
        )


def test_an_interview_cannot_be_marked_held_without_consent_to_take_part(world):
    ann, cora = world["ann"], world["cora"]
    mark_scheduled(ann, cora)
    assert ann.status == RecruitmentStatus.SCHEDULED
    with pytest.raises(ConsentRequired):
        mark_interviewed(ann, cora)
    record_consent(
        ann,
        make_published_version(world["study"], cora),
        method=ConsentMethod.VERBAL,
        answers=all_yes(),
        actor=cora,
    )
    assert ann.status == RecruitmentStatus.SCHEDULED  # consent does not undo the booking
    mark_interviewed(ann, cora)
    assert ann.status == RecruitmentStatus.INTERVIEWED


def test_a_cancelled_booking_returns_the_participant_to_agreed(world):
    ann, cora = world["ann"], world["cora"]
    mark_scheduled(ann, cora)
    mark_unscheduled(ann, cora)
    assert ann.status == RecruitmentStatus.AGREED


# --- Withdrawal and erasure -------------------------------------------------------------------


def test_withdrawal_withdraws_consents_signals_it_and_is_audited(world):
    ann, cora = world["ann"], world["cora"]
    version = make_published_version(world["study"], cora)
    record_consent(ann, version, method=ConsentMethod.WRITTEN, answers=all_yes(), actor=cora)
    _, token = create_consent_link(ann, version, cora)
    called: list[tuple] = []

    def receiver(participant, *, data_handling, actor):
        called.append((participant.reference, participant.status, data_handling, actor))

    with participant_withdrawn.connected_to(receiver):
        withdraw(ann, cora, reason="Too busy", data_handling=DataHandling.DESTROY)
    assert called == [("P1-001", RecruitmentStatus.WITHDRAWN, DataHandling.DESTROY, cora)]
    assert ann.status == RecruitmentStatus.WITHDRAWN
    assert not has_consent_to_take_part(ann)
    assert find_consent_link(token).state == "revoked"
    [withdrawn] = events("participant.withdrawn")
    assert withdrawn.before == {"status": "agreed"}
    assert withdrawn.after["status"] == "withdrawn"
    assert withdrawn.after["data_handling"] == "destroy"
    assert len(events("consent.withdrawn")) == 1
    with pytest.raises(RecruitmentError):
        withdraw(ann, cora)


def test_a_failing_withdrawal_receiver_rolls_the_withdrawal_back(world):
    def broken(participant, **_):
        raise RuntimeError("calendar down")

    with participant_withdrawn.connected_to(broken), pytest.raises(RuntimeError):
        withdraw(world["ann"], world["cora"])
    db.session.expire_all()
    assert db.session.get(Participant, world["ann"].id).status == RecruitmentStatus.IDENTIFIED
    assert events("participant.withdrawn") == []


def _text_columns_containing(needle: str) -> list[str]:
    """Every (table.column) whose text, JSON included, contains `needle` (case-insensitive)."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, sa.String | sa.Text | sa.JSON | sa.Enum):
                continue
            as_text = sa.cast(column, sa.Text)
            count = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(table)
                .where(sa.func.lower(as_text).contains(needle.lower()))
            )
            if count:
                found.append(f"{table.name}.{column.name}")
    return found


def test_erasure_leaves_no_personal_data_anywhere_and_keeps_the_counts(world, monkeypatch):
    ann, cora, bob = world["ann"], world["cora"], world["bob"]
    version = make_published_version(world["study"], cora)
    log(
        ann,
        cora,
        Disposition.LEFT_MESSAGE,
        note="Spoke to Ann Adams' PA",
        next_action_on=now_utc().date(),
    )
    _, token = create_consent_link(ann, version, cora)
    link = find_consent_link(token).link
    give_online_consent(link, all_yes(), "Ann Adams")
    record_referral(bob, ann, "Ann Adams suggested Bob", cora)
    record_referral(ann, None, "ann.adams@example.org came via the JCP list", cora)
    withdraw(ann, cora, reason="Ann Adams is leaving", data_handling="keep_anonymised")
    for needle in ("Ann Adams", "ann.adams@example.org"):
        assert _text_columns_containing(needle), "the set-up should spread the data around"

    counts_before = _counts()
    erased_hook: list[int] = []

    def receiver(sender, person, **_):
        erased_hook.append(person.participant_id)

    with participant_erased.connected_to(receiver):
        erase_personal_data(ann, cora)

    for needle in (
        "Ann Adams",
        "ann.adams@example.org",
        "020 7946 0101",
        "prefers mornings",
        "Partnership manager",
    ):
        assert _text_columns_containing(needle) == [], needle
    assert erased_hook == [ann.id]
    assert _counts() == counts_before
    db.session.expire_all()
    kept = db.session.get(Participant, ann.id)
    assert kept.reference == "P1-001" and kept.name == ERASED_NAME
    assert kept.status == RecruitmentStatus.WITHDRAWN
    [erased] = events("participant.erased")
    assert "Ann" not in str(erased.after) and "example.org" not in str(erased.after)
    assert find_consent_link(token).state == "revoked"
    with pytest.raises(RecruitmentError, match="already erased"):
        erase_personal_data(kept, cora)


def _counts() -> list[tuple]:
    """Participants by status, role and district: what coverage figures count."""
    return db.session.execute(
        sa.select(Participant.status, Participant.role_id, Participant.district_id, sa.func.count())
        .group_by(Participant.status, Participant.role_id, Participant.district_id)
        .order_by(Participant.status, Participant.role_id, Participant.district_id)
    ).all()


# --- Online consent links ---------------------------------------------------------------------


def test_a_consent_link_is_stored_hashed_expires_and_can_be_revoked(world):
    ann, cora = world["ann"], world["cora"]
    version = make_published_version(world["study"], cora)
    link, token = create_consent_link(ann, version, cora, valid_days=7)
    assert len(token) >= 43 and link.token_hash == hash_token(token)
    assert token not in str(db.session.execute(sa.text("SELECT * FROM consent_link")).all())
    assert find_consent_link(token).state == "open"
    assert find_consent_link(token + "x").state == "unknown"
    set_clock(lambda: dt.datetime.now(UTC) + dt.timedelta(days=8))
    assert find_consent_link(token).state == "expired"
    set_clock(None)
    revoke_consent_link(link, cora)
    assert find_consent_link(token).state == "revoked"


def test_online_consent_is_recorded_without_a_user_and_keeps_the_link_for_viewing(world):
    ann, cora = world["ann"], world["cora"]
    version = make_published_version(world["study"], cora)
    link, token = create_consent_link(ann, version, cora, valid_days=1)
    consent = give_online_consent(link, all_yes(), "Ann Adams")
    assert consent.method == ConsentMethod.ONLINE and consent.recorded_by_id is None
    assert consent.typed_name == "Ann Adams"
    set_clock(lambda: dt.datetime.now(UTC) + dt.timedelta(days=3))
    assert find_consent_link(token).state == "used"
    with pytest.raises(RecruitmentError):
        give_online_consent(find_consent_link(token).link, all_yes(), "Ann")


# --- Follow-ups -------------------------------------------------------------------------------


def test_follow_ups_list_latest_due_attempts_oldest_first_and_scope_interviewers(world):
    study, cora, ivy = world["study"], world["cora"], world["ivy"]
    today = now_utc().date()
    ann, bob = world["ann"], world["bob"]
    cat = make_participant(
        study,
        district=world["north"],
        organisation=world["jcp"],
        role=world["tppm"],
        reference="P1-002",
        interviewer_id=ivy.id,
    )
    dan = make_participant(
        study,
        district=world["north"],
        organisation=world["jcp"],
        role=world["tppm"],
        reference="P1-003",
    )
    log(ann, cora, Disposition.NO_ANSWER, days_ago=5, next_action_on=today - dt.timedelta(3))
    log(bob, cora, Disposition.CALL_BACK, days_ago=4, next_action_on=today)
    log(cat, cora, Disposition.LEFT_MESSAGE, days_ago=6, next_action_on=today - dt.timedelta(5))
    # dan's older attempt was due, but his latest one is not due yet: he is not listed.
    log(dan, cora, Disposition.NO_ANSWER, days_ago=6, next_action_on=today - dt.timedelta(4))
    log(dan, cora, Disposition.CALL_BACK, days_ago=1, next_action_on=today + dt.timedelta(2))

    rows = list(db.session.scalars(follow_ups_query(study, cora, today)))
    assert [row.participant.reference for row in rows] == ["P1-002", "P1-001", "P2-001"]
    mine = list(db.session.scalars(follow_ups_query(study, ivy, today)))
    assert [row.participant.reference for row in mine] == ["P1-002", "P1-001"]


def test_referrals_are_recorded_both_ways(world):
    ann, bob, cora = world["ann"], world["bob"], world["cora"]
    record_referral(bob, ann, "Her colleague", cora)
    assert [r.participant.reference for r in referrals_of(ann)["referred"]] == ["P2-001"]
    assert referrals_of(bob)["referred_by"][0].referred_by.reference == "P1-001"
    with pytest.raises(RecruitmentError):
        record_referral(ann, ann, "", cora)


def test_the_participant_panel_costs_the_same_queries_with_a_long_history(world, count_queries):
    ann, bob, cora = world["ann"], world["bob"], world["cora"]
    version = make_published_version(world["study"], cora)
    log(bob, cora, Disposition.NO_ANSWER)
    person = services_participant(bob.id)
    with count_queries() as small:
        recruitment_panel(person)
    for days in range(12):
        log(ann, cora, Disposition.NO_ANSWER, days_ago=days, note=f"try {days}")
    record_consent(ann, version, method=ConsentMethod.VERBAL, answers=all_yes(), actor=cora)
    create_consent_link(ann, version, cora)
    record_referral(ann, bob, "", cora)
    person = services_participant(ann.id)
    with count_queries() as large:
        panel = recruitment_panel(person)
    assert len(panel["attempts"]) == 12 and panel["has_consent_to_take_part"]
    assert large.count == small.count == 7
