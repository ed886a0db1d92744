"""Every recruitment page, the participant sections and the public consent pages are valid HTML
(the Nu HTML checker, errors only)."""

from __future__ import annotations

from fieldwork.core.time import now_utc
from fieldwork.recruitment.contacts import log_contact_attempt, save_access
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.links import create_consent_link
from fieldwork.recruitment.models import AccessAgreement, ContactChannel
from tests.pagecheck import require_vnu, vnu_errors
from tests.recruitment.helpers import make_published_version


def test_recruitment_pages_are_valid_html(world, client, auth, tmp_path):
    require_vnu()
    ann, cora = world["ann"], world["cora"]
    v = make_published_version(world["study"], cora)
    save_access(world["jcp"], cora, agreement=AccessAgreement.REFUSED)
    log_contact_attempt(
        ann,
        cora,
        attempted_at=now_utc(),
        channel=ContactChannel.EMAIL,
        disposition=Disposition.LEFT_MESSAGE,
        next_action_on=now_utc().date(),
    )
    _, token = create_consent_link(ann, v, cora)
    auth.login(cora)
    pages = {}
    for url in [
        f"/participants/{ann.id}/contacts/new",
        "/follow-ups",
        f"/participants/{ann.id}/consents/new",
        f"/participants/{ann.id}/withdraw",
        f"/participants/{ann.id}/erase",
        f"/participants/{ann.id}/referrals/new",
        "/consent-forms",
        "/consent-forms/new",
        f"/consent-forms/{v.form_id}",
        f"/organisations/{world['jcp'].id}/access",
        "/audit",
        f"/consent/{token}",
        "/consent/bad",
    ]:
        pages[url] = client.get(url).get_data(as_text=True)
    pages["confirm"] = client.post(
        f"/participants/{ann.id}/contacts/new",
        data={
            "attempted_on": now_utc().date().isoformat(),
            "attempted_time": "00:00",
            "channel": "email",
            "disposition": "agreed",
        },
    ).get_data(as_text=True)
    pages["errors"] = client.post(f"/participants/{ann.id}/withdraw", data={}).get_data(
        as_text=True
    )
    from flask import render_template
    from flask_login import login_user

    from fieldwork.extensions import db
    from fieldwork.sampling.services import get_participant

    with client.application.test_request_context("/"):
        login_user(db.session.get(type(cora), cora.id))
        body = render_template(
            "recruitment/_participant_sections.html", participant=get_participant(ann.id)
        )
        org = render_template("recruitment/_organisation_access.html", organisation=world["jcp"])
    pages["panel"] = (
        "<!doctype html><html lang=en><head><title>x</title></head><body><main>"
        + body
        + org
        + "</main></body></html>"
    )
    from tests.recruitment.helpers import ITEMS

    answers = {f"item_{item.key}": "yes" for item in ITEMS}
    client.post(f"/consent/{token}", data={**answers, "typed_name": "Ann"})
    pages["given"] = client.get(f"/consent/{token}").get_data(as_text=True)
    errors = vnu_errors(pages, tmp_path / "vnu")
    assert errors == []
