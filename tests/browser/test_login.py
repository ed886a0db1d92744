"""Logging in with the keyboard alone, in a real browser."""

from __future__ import annotations

import re

import pytest

from tests.factories import PASSWORD, make_user
from tests.pagecheck import expect

pytestmark = pytest.mark.browser


def tab_to(page, selector: str, limit: int = 15) -> None:
    """Press Tab until the element matching `selector` has the focus (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with {limit} presses of Tab")


def test_a_coordinator_logs_in_with_the_keyboard_alone(app, page, live_server):
    """Tab reaches the email and password fields, Enter submits, and the overview opens."""
    user = make_user("coordinator", email="sandra@example.org", name="Sandra Bell")
    page.goto(live_server("/login"))
    tab_to(page, "input[name=email]")
    page.keyboard.type("Sandra@Example.org")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_server("/"))
    expect(page.get_by_role("status")).to_contain_text(f"Welcome, {user.name}.")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_a_wrong_password_is_refused_with_the_message_beside_the_field(
    app, page, live_server, console
):
    """The error summary takes the focus and links to the password field, which shows why."""
    make_user("coordinator", email="sandra@example.org")
    console.expect_status(422)
    page.goto(live_server("/login"))
    tab_to(page, "input[name=email]")
    page.keyboard.type("sandra@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("not the password")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/login"))
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_be_focused()
    expect(page.locator("#password-error")).to_have_text(
        re.compile("The email address or password is not right.")
    )
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    # The summary's link moves to the field that needs fixing.
    summary.get_by_role("link").click()
    expect(page.locator("#password")).to_be_focused()
    # The person typed the email correctly: it is kept, the password is not.
    expect(page.locator("#email")).to_have_value("sandra@example.org")
    expect(page.locator("#password")).to_have_value("")
    page.goto(live_server("/participants"))
    expect(page).to_have_url(re.compile(r"/login\?next="))
