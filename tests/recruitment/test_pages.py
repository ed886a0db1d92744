"""Recruitment pages through the test client: contact log, consent, online links, follow-ups."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import render_template
from flask_login import login_user

from fieldwork.core.time import UTC, now_utc, set_clock
from fieldwork.extensions import db
from fieldwork.recruitment.consent import record_consent
from fieldwork.recruitment.consent_versions import consent_forms_of, get_version, published_versions
from fieldwork.recruitment.contacts import access_of, log_contact_attempt, save_access
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.erasure import ERASED_NAME
from fieldwork.recruitment.links import create_consent_link, find_consent_link, revoke_consent_link
from fieldwork.recruitment.models import (
    AccessAgreement,
    Consent,
    ConsentMethod,
    ContactAttempt,
    ContactChannel,
)
from fieldwork.recruitment.referrals import record_referral, referrals_of
from fieldwork.recruitment.signals import participant_withdrawn
from fieldwork.recruitment.status import has_consent_to_take_part
from fieldwork.sampling.models import Participant, RecruitmentStatus
from fieldwork.sampling.services import get_participant
from tests.recruitment.helpers import all_yes, make_published_version


def attempt_form(**changes) -> dict:
    now = now_utc().astimezone(dt.timezone(dt.timedelta(0)))
    return {
        "attempted_on": now.date().isoformat(),
        "attempted_time": "00:00",
        "channel": "telephone",
        "disposition": "no_answer",
        "note": "Rang",
        "next_action_on": "",
        **changes,
    }


def status_of(participant_id: int) -> RecruitmentStatus:
    db.session.expire_all()
    return db.session.get(Participant, participant_id).status


def test_an_interviewer_logs_an_attempt_for_their_own_participant_only(world, client, auth):
    ann, bob = world["ann"], world["bob"]
    auth.login(world["ivy"])
    assert client.get(f"/participants/{ann.id}/contacts/new").status_code == 200
    response = client.post(f"/participants/{ann.id}/contacts/new", data=attempt_form())
    assert response.status_code == 302
    assert status_of(ann.id) == RecruitmentStatus.APPROACHED
    assert client.get(f"/participants/{bob.id}/contacts/new").status_code == 404
    assert (
        client.post(f"/participants/{bob.id}/contacts/new", data=attempt_form()).status_code == 404
    )
    assert db.session.scalar(sa.select(sa.func.count(ContactAttempt.id))) == 1


def test_the_contact_form_names_each_missing_answer(world, client, auth):
    auth.login(world["cora"])
    response = client.post(
        f"/participants/{world['ann'].id}/contacts/new",
        data=attempt_form(channel="", disposition="pigeon", attempted_on="yesterday"),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose how you tried to reach them." in page
    assert "Not a valid choice" in page
    assert 'href="#attempted_on"' in page


def test_an_attempt_with_a_refusing_organisation_asks_for_confirmation_first(world, client, auth):
    ann, cora = world["ann"], world["cora"]
    save_access(world["jcp"], cora, agreement=AccessAgreement.REFUSED)
    auth.login(cora)
    url = f"/participants/{ann.id}/contacts/new"
    assert "has refused" in client.get(url).get_data(as_text=True)
    first = client.post(url, data=attempt_form(disposition="agreed"))
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert "Are you sure?" in page and "Yes, log this attempt" in page
    assert db.session.scalar(sa.select(sa.func.count(ContactAttempt.id))) == 0
    confirmed = client.post(url, data=attempt_form(disposition="agreed", confirmed="yes"))
    assert confirmed.status_code == 302
    assert status_of(ann.id) == RecruitmentStatus.AGREED


def test_the_follow_ups_page_lists_due_people_and_interviewers_see_theirs(world, client, auth):
    ann, bob, cora = world["ann"], world["bob"], world["cora"]
    today = now_utc().date()
    for person, due in ((ann, today), (bob, today - dt.timedelta(days=2))):
        log_contact_attempt(
            person,
            cora,
            attempted_at=now_utc() - dt.timedelta(days=3),
            channel=ContactChannel.EMAIL,
            disposition=Disposition.LEFT_MESSAGE,
            next_action_on=due,
        )
    auth.login(cora)
    page = client.get("/follow-ups").get_data(as_text=True)
    assert page.index("P2-001") < page.index("P1-001")
    auth.logout()
    auth.login(world["ivy"])
    page = client.get("/follow-ups").get_data(as_text=True)
    assert "P1-001" in page and "P2-001" not in page


def test_a_coordinator_records_written_consent_through_the_form(world, client, auth):
    ann, cora = world["ann"], world["cora"]
    make_published_version(world["study"], cora)
    auth.login(cora)
    url = f"/participants/{ann.id}/consents/new"
    assert client.get(url).status_code == 200
    refused = client.post(
        url,
        data={
            "method": "written",
            "given_on": now_utc().date().isoformat(),
            "item_audio_recording": "y",
        },
    )
    assert refused.status_code == 422
    assert "there is no consent to record" in refused.get_data(as_text=True)
    response = client.post(
        url,
        data={
            "method": "written",
            "given_on": now_utc().date().isoformat(),
            "item_take_part": "y",
            "item_archiving": "y",
        },
    )
    assert response.status_code == 302
    assert has_consent_to_take_part(db.session.get(Participant, ann.id))
    auth.logout()
    auth.login(world["ivy"])
    assert client.get(url).status_code == 200, "ann's own interviewer records her consent"
    auth.logout()
    auth.login(world["ian"])
    assert client.get(url).status_code == 404, "another interviewer cannot"


def _link(world) -> str:
    version = make_published_version(world["study"], world["cora"])
    _, token = create_consent_link(world["ann"], version, world["cora"])
    return token


def _answers(**extra) -> dict[str, str]:
    """Yes to taking part and quotations, no to the rest."""
    from tests.recruitment.helpers import ITEMS

    answers = {
        f"item_{item.key}": "yes" if item.key in ("take_part", "anonymised_quotes") else "no"
        for item in ITEMS
    }
    return {**answers, **extra}


def test_online_consent_through_the_private_link(world, client):
    """Anyone with the link (no login) sees the form, consents, then sees what they agreed."""
    token = _link(world)
    form_page = client.get(f"/consent/{token}")
    assert form_page.status_code == 200
    text = form_page.get_data(as_text=True)
    assert "We are studying outcome-based contracting." in text
    assert 'name="item_take_part"' in text and 'name="typed_name"' in text
    # The study, not an internal reference, is named.
    assert "P1-001" not in text
    missing = client.post(f"/consent/{token}", data={"item_take_part": "no"})
    assert missing.status_code == 422
    errors = missing.get_data(as_text=True)
    # Every problem at once: the required item answered no, the unanswered ones, the name.
    assert "Type your full name to sign." in errors
    assert "Question 1 must be yes to take part." in errors
    assert "Answer question 2: choose yes or no." in errors
    assert db.session.scalar(sa.select(sa.func.count(Consent.id))) == 0
    response = client.post(f"/consent/{token}", data=_answers(typed_name="Ann Adams"))
    assert response.status_code == 302
    consent = db.session.scalars(sa.select(Consent)).one()
    assert consent.method == ConsentMethod.ONLINE and consent.recorded_by_id is None
    shown = client.get(f"/consent/{token}").get_data(as_text=True)
    assert "Your consent" in shown and "Signed as" in shown and "Ann Adams" in shown
    assert "Withdraw from the study" in shown


def test_the_participant_withdraws_through_the_same_link(world, client):
    token = _link(world)
    client.post(f"/consent/{token}", data=_answers(typed_name="Ann Adams"))
    withdrawn: list[str] = []

    def receiver(participant, **_):
        withdrawn.append(participant.reference)

    assert client.get(f"/consent/{token}/withdraw").status_code == 200
    with participant_withdrawn.connected_to(receiver):
        response = client.post(
            f"/consent/{token}/withdraw", data={"data_handling": "keep_anonymised", "reason": ""}
        )
    assert response.status_code == 302
    assert withdrawn == ["P1-001"]
    assert status_of(world["ann"].id) == RecruitmentStatus.WITHDRAWN
    assert "You have withdrawn" in client.get(f"/consent/{token}").get_data(as_text=True)


def test_unknown_expired_and_revoked_links_get_a_clear_page_not_a_500(world, client):
    assert client.get("/consent/not-a-real-token").status_code == 404
    assert client.post("/consent/not-a-real-token", data={}).status_code == 404
    assert client.get("/consent/" + "x" * 500).status_code == 404
    token = _link(world)
    set_clock(lambda: dt.datetime.now(UTC) + dt.timedelta(days=30))
    expired = client.get(f"/consent/{token}")
    assert expired.status_code == 410
    assert "has expired" in expired.get_data(as_text=True)
    assert (
        client.post(
            f"/consent/{token}", data={"item_take_part": "y", "typed_name": "X"}
        ).status_code
        == 410
    )
    set_clock(None)
    link = find_consent_link(token).link
    revoke_consent_link(link, world["cora"])
    revoked = client.get(f"/consent/{token}")
    assert revoked.status_code == 410
    assert "withdrawn this link" in revoked.get_data(as_text=True)
    assert client.get(f"/consent/{token}/withdraw").status_code == 410
    assert db.session.scalar(sa.select(sa.func.count(Consent.id))) == 0


def test_a_coordinator_emails_a_consent_request_and_revokes_it(world, client, auth):
    """A participant with an email address gets the link by mail through the outbox (the
    page never shows it); the link works, and revoking it from the page stops it."""
    import email
    import re
    from email.policy import default as default_policy

    from fieldwork.outbox.models import OutboxMessage

    version = make_published_version(world["study"], world["cora"])
    auth.login(world["cora"])
    response = client.post(
        f"/participants/{world['ann'].id}/consent-links",
        data={"version_id": version.id, "valid_days": "7"},
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Consent request emailed to ann.adams@example.org." in page
    row = db.session.scalars(sa.select(OutboxMessage)).one()
    message = email.message_from_bytes(row.raw, policy=default_policy)
    assert message["To"].addresses[0].addr_spec == "ann.adams@example.org"
    text = message.get_body(("plain",)).get_content()
    token = re.search(r"/consent/([A-Za-z0-9_-]+)", text).group(1)
    assert token not in page
    assert find_consent_link(token).state == "open"
    link = find_consent_link(token).link
    assert client.post(f"/consent-links/{link.id}/revoke").status_code == 302
    db.session.expire_all()
    assert find_consent_link(token).state == "revoked"


def test_without_an_email_address_the_link_is_shown_once_to_pass_on(world, client, auth):
    world["ann"].email = ""
    db.session.commit()
    version = make_published_version(world["study"], world["cora"])
    auth.login(world["cora"])
    response = client.post(
        f"/participants/{world['ann'].id}/consent-links",
        data={"version_id": version.id, "valid_days": "7"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    url = page.split('id="consent-link-url">', 1)[1].split("<", 1)[0]
    assert find_consent_link(url.rsplit("/", 1)[1]).state == "open"


def test_withdrawal_and_erasure_pages(world, client, auth):
    ann = world["ann"]
    auth.login(world["cora"])
    assert client.post(f"/participants/{ann.id}/withdraw", data={}).status_code == 422
    response = client.post(
        f"/participants/{ann.id}/withdraw",
        data={"data_handling": "destroy", "reason": "Moving abroad"},
    )
    assert response.headers["Location"].endswith(f"/participants/{ann.id}/erase")
    assert client.post(f"/participants/{ann.id}/erase", data={}).status_code == 422
    assert client.post(f"/participants/{ann.id}/erase", data={"confirm": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Participant, ann.id).name == ERASED_NAME


def test_the_published_version_edit_page_refuses_and_a_new_draft_can_be_made(world, client, auth):
    version = make_published_version(world["study"], world["cora"])
    auth.login(world["cora"])
    response = client.get(f"/consent-forms/versions/{version.id}/edit")
    assert response.status_code == 302
    assert (
        client.post(
            f"/consent-forms/versions/{version.id}/edit", data={"text": "Sneaky"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert get_version(version.id).text.startswith("We are studying")
    draft = client.post(f"/consent-forms/versions/{version.id}/new-draft")
    assert "/edit" in draft.headers["Location"]
    assert client.get(draft.headers["Location"]).status_code == 200


def test_creating_a_consent_form_through_the_pages(world, client, auth):
    auth.login(world["cora"])
    assert client.get("/consent-forms/new").status_code == 200
    assert client.post("/consent-forms/new", data={"title": ""}).status_code == 422
    response = client.post(
        "/consent-forms/new",
        data={
            "title": "Main form",
            "text": "About the study.",
            "item_take_part_text": "I agree to take part.",
            "item_take_part_required": "y",
            "item_archiving_text": "I agree to archiving.",
        },
    )
    assert response.status_code == 302
    form = consent_forms_of(world["study"])[0]
    assert client.post(f"/consent-forms/versions/{form.versions[0].id}/publish").status_code == 302
    assert published_versions(world["study"])[0].number == 1
    assert "Main form" in client.get("/consent-forms").get_data(as_text=True)
    auth.logout()
    auth.login(world["ivy"])
    assert client.get("/consent-forms").status_code == 403


def test_the_organisation_access_page(world, client, auth):
    auth.login(world["cora"])
    url = f"/organisations/{world['jcp'].id}/access"
    assert client.get(url).status_code == 200
    bad = client.post(
        url, data={"agreement": "unknown", "agreed_on": "2008-01-01", "contact_email": "nope"}
    )
    assert bad.status_code == 422
    assert (
        client.post(
            url,
            data={
                "agreement": "refused",
                "agreed_on": "2008-01-01",
                "contact_name": "Pat Gatekeeper",
                "is_do_not_contact": "y",
            },
        ).status_code
        == 302
    )
    access = access_of(world["jcp"].id)
    assert access.agreement == AccessAgreement.REFUSED and access.is_do_not_contact
    assert client.get("/organisations/999999/access").status_code == 404


def test_a_referral_is_recorded_from_the_participant_page(world, client, auth):
    auth.login(world["ivy"])
    url = f"/participants/{world['ann'].id}/referrals/new"
    assert client.post(url, data={"referred_by": "P9-999"}).status_code == 422
    assert client.post(url, data={"referred_by": "p2-001", "note": "Colleague"}).status_code == 302
    assert referrals_of(world["ann"])["referred_by"][0].note == "Colleague"


def test_the_participant_sections_show_log_consent_referrals_and_history(world, app):
    ann, cora = world["ann"], world["cora"]
    version = make_published_version(world["study"], cora)
    log_contact_attempt(
        ann,
        cora,
        attempted_at=now_utc(),
        channel=ContactChannel.EMAIL,
        disposition=Disposition.CALL_BACK,
        note="Call <after> 3",
    )
    record_consent(
        get_participant(ann.id), version, method=ConsentMethod.VERBAL, answers=all_yes(), actor=cora
    )
    record_referral(get_participant(ann.id), world["bob"], "", cora)
    with app.test_request_context("/"):
        login_user(db.session.get(type(cora), cora.id))
        html = render_template(
            "recruitment/_participant_sections.html", participant=get_participant(ann.id)
        )
    assert "Call &lt;after&gt; 3" in html
    assert "Interview consent, version 1" in html
    assert "Referred by" in html and "P2-001" in html
    assert "Cora recorded verbal consent for P1-001" in html, "the history reads as sentences"
