"""Adding a participant through the form and filtering the list, in a real browser."""

from __future__ import annotations

import re

import pytest

from fieldwork.extensions import db
from fieldwork.sampling.models import Participant, RecruitmentStatus
from tests.factories import make_frame, make_participant, make_user
from tests.pagecheck import expect

pytestmark = pytest.mark.browser


def expect_rows(page, *participants: Participant) -> None:
    """The participants table lists these people, by reference, in this order."""
    expect(page.locator("#participants tbody tr td[data-label=Reference]")).to_have_text(
        [person.reference for person in participants]
    )


def test_a_coordinator_adds_a_participant_after_fixing_a_bad_email(
    app, page, live_server, log_in, console
):
    """A malformed email is named beside the field and in the error summary; once fixed, the
    person is saved with a reference from their district's phase."""
    frame = make_frame()
    log_in(make_user("coordinator"))
    page.goto(live_server("/participants"))
    page.get_by_role("link", name="Add a participant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a participant")

    page.get_by_label("Full name").fill("Ada O'Neill <b>")
    page.get_by_label("Job title").fill("Third Party Provision Manager")
    page.get_by_label("Organisation", exact=True).select_option(str(frame["jcp"].id))
    page.get_by_label("Stakeholder role").select_option(str(frame["tppm"].id))
    page.get_by_label("District", exact=True).select_option(str(frame["north"].id))
    page.get_by_label("Email address").fill("ada.example.org")
    console.expect_status(422)
    page.get_by_role("button", name="Add participant").click()

    message = "Enter an email address like name@example.org."
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name=message)).to_have_attribute("href", "#email")
    expect(page.locator("#email-error")).to_contain_text(message)
    expect(page.get_by_label("Email address")).to_have_attribute("aria-invalid", "true")
    # What was typed and chosen is kept.
    expect(page.get_by_label("Full name")).to_have_value("Ada O'Neill <b>")
    expect(page.get_by_label("District", exact=True)).to_have_value(str(frame["north"].id))
    assert db.session.scalar(db.select(db.func.count(Participant.id))) == 0

    page.get_by_label("Email address").fill("Ada@Example.org")
    page.get_by_role("button", name="Add participant").click()

    expect(page.get_by_role("status")).to_contain_text(
        re.compile(r"Ada O'Neill <b> is in the sample as P1-\d{3}\.")
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada O'Neill <b>")
    person = db.session.scalars(db.select(Participant)).one()
    assert person.email == "ada@example.org"
    assert person.reference.startswith("P1-")
    expect(page).to_have_url(live_server(f"/participants/{person.id}"))


def test_the_list_filters_by_status_role_phase_and_search(app, page, live_server, log_in):
    """Each filter narrows the table to the matching people, and they combine."""
    frame = make_frame()
    tppm, manager = frame["tppm"], frame["manager"]
    alice = make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["jcp"],
        role=tppm,
        name="Alice Walker",
        reference="P1-001",
        status=RecruitmentStatus.AGREED,
    )
    bob = make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["provider"],
        role=manager,
        name="Bob Hughes",
        reference="P1-002",
    )
    carol = make_participant(
        frame["study"],
        district=frame["south"],
        organisation=frame["provider"],
        role=manager,
        name="Carol Singh",
        reference="P2-001",
        status=RecruitmentStatus.AGREED,
    )
    log_in(make_user("coordinator"))
    page.goto(live_server("/participants"))
    expect_rows(page, alice, bob, carol)

    page.get_by_label("Status", exact=True).select_option(label="Agreed")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("table")).to_contain_text("(filtered)")
    expect_rows(page, alice, carol)

    page.get_by_label("Role", exact=True).select_option(label=manager.name)
    page.get_by_role("button", name="Filter").click()
    expect_rows(page, carol)

    page.get_by_role("link", name="Clear filters").click()
    page.get_by_label("Phase", exact=True).select_option(label="Phase 1")
    page.get_by_role("button", name="Filter").click()
    expect_rows(page, alice, bob)

    page.get_by_role("link", name="Clear filters").click()
    page.get_by_role("searchbox", name="Search").fill("hughes")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"q=hughes"))
    expect_rows(page, bob)

    page.get_by_role("searchbox", name="Search").fill("nobody like this")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No participant matches these filters.")).to_be_visible()
