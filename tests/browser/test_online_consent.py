"""A participant gives consent online through their private link, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fieldwork.extensions import db
from fieldwork.recruitment.links import create_consent_link, find_consent_link, revoke_consent_link
from fieldwork.recruitment.models import Consent, ConsentMethod
from tests.browser.test_self_booking import SHOTS
from tests.factories import make_frame, make_participant, make_user
from tests.pagecheck import describe_axe, every_axe_violation
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
    link, token = create_consent_link(person, version, coordinator)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server(f"/consent/{token}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Interview consent")
    expect(page.get_by_text("Taking part is voluntary.")).to_be_visible()
    # The study and its team are named; no internal reference is shown.
    expect(page.locator("header")).to_have_text(frame["study"].name)
    assert "P1-001" not in page.content()
    problems = describe_axe("consent form 390", every_axe_violation(page))
    page.screenshot(path=f"{SHOTS}/consent-390.png", full_page=True)

    # Every error at once, in the summary and beside each question.
    console.expect_status(422)
    page.get_by_role("group", name="1. I agree to take part in an interview.").get_by_label(
        "Yes"
    ).check()
    page.get_by_role("button", name="Send my answers").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Answer question 2: choose yes or no.")
    expect(summary).to_contain_text("Answer question 3: choose yes or no.")
    expect(summary).to_contain_text("Answer question 4: choose yes or no.")
    expect(summary).to_contain_text("Type your full name to sign.")
    expect(page.locator("#typed_name-error")).to_contain_text("Type your full name to sign.")
    problems += describe_axe("consent errors 390", every_axe_violation(page))
    page.screenshot(path=f"{SHOTS}/consent-errors-390.png", full_page=True)
    for box in page.locator(".yes-no__item label, button").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [e.textContent.trim(), r.width, r.height]; })"
    ):
        assert box[1] >= 44 and box[2] >= 44, box
    take_part = page.get_by_role("group", name="1. I agree to take part in an interview.")
    expect(take_part.get_by_label("Yes")).to_be_checked()

    for number, answer in ((2, "No"), (3, "Yes"), (4, "No")):
        page.locator(f"fieldset.question:nth-of-type({number})").get_by_label(answer).check()
    page.get_by_label("Type your full name to sign").fill("Ann Adams")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your consent")
    expect(page.get_by_role("status")).to_contain_text("your consent is recorded")
    expect(page.locator(".summary")).to_contain_text("I agree to take part in an interview.")
    expect(page.locator(".summary")).to_contain_text("version")
    problems += describe_axe("consent given 390", every_axe_violation(page))
    page.screenshot(path=f"{SHOTS}/consent-given-390.png", full_page=True)
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("link", name="Withdraw from the study")).to_be_hidden()
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 1280, "height": 900})
    problems += describe_axe("consent given 1280", every_axe_violation(page))
    assert problems == []

    consent = db.session.scalars(db.select(Consent)).one()
    assert consent.method == ConsentMethod.ONLINE and consent.typed_name == "Ann Adams"

    revoke_consent_link(find_consent_link(token).link, coordinator)
    console.expect_status(410, 404)
    response = page.goto(live_server(f"/consent/{token}"))
    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    response = page.goto(live_server("/consent/made-up-token"))
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We cannot find this link")
