"""A participant gives consent online through their private link, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fieldwork.extensions import db
from fieldwork.recruitment import services
from fieldwork.recruitment.models import Consent, ConsentMethod
from tests.factories import make_frame, make_participant, make_user
from tests.pagecheck import AXE_SCRIPT, axe_violations, describe_axe
from tests.recruitment.helpers import make_published_version

pytestmark = pytest.mark.browser


def test_a_participant_consents_online_prints_and_a_revoked_link_gets_a_clear_page(
    app, page, live_server, console
):
    """The link shows the form in plain language with one checkbox per item and a typed name;
    CSRF is on; afterwards the same link shows what they agreed; once revoked, it answers 410
    with a page that says so."""
    frame = make_frame()
    coordinator = make_user("coordinator")
    person = make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        name="Ann Adams",
        reference="P1-001",
    )
    version = make_published_version(frame["study"], coordinator)
    link, token = services.create_consent_link(person, version, coordinator)

    page.goto(live_server(f"/consent/{token}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Interview consent")
    expect(page.get_by_text("Taking part is voluntary.")).to_be_visible()
    if AXE_SCRIPT.exists():
        assert describe_axe("consent form", axe_violations(page)) == []

    console.expect_status(422)
    page.get_by_label("I agree to take part in an interview.").check()
    page.get_by_role("button", name="Give my consent").click()
    expect(page.locator("#typed_name-error")).to_contain_text("Type your full name to sign.")
    expect(page.get_by_label("I agree to take part in an interview.")).to_be_checked()

    page.get_by_label("I agree to anonymised quotations being used.").check()
    page.get_by_label("Type your full name to sign").fill("Ann Adams")
    page.get_by_role("button", name="Give my consent").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your consent")
    expect(page.get_by_role("status")).to_contain_text("your consent is recorded")
    expect(page.locator(".summary")).to_contain_text("I agree to take part in an interview.")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("link", name="Withdraw from the study")).to_be_hidden()
    page.emulate_media(media="screen")

    consent = db.session.scalars(db.select(Consent)).one()
    assert consent.method == ConsentMethod.ONLINE and consent.typed_name == "Ann Adams"

    services.revoke_consent_link(services.find_consent_link(token).link, coordinator)
    console.expect_status(410, 404)
    response = page.goto(live_server(f"/consent/{token}"))
    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    response = page.goto(live_server("/consent/made-up-token"))
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We cannot find this link")
