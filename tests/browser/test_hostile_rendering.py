"""Script stored in names runs nowhere: in chromium, the pages that show a participant and an
organisation named with markup open no dialog and log no console error (an inline script or
handler that reached the page would either run, opening a dialog, or be blocked by the
Content-Security-Policy, which logs an error)."""

from __future__ import annotations

import pytest

from tests.factories import (
    make_district,
    make_organisation,
    make_participant,
    make_role,
    make_study,
    make_user,
)
from tests.pagecheck import expect

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert('participant')</script>"
ATTRIBUTE = "\"><img src=x onerror=alert('organisation')>"
SVG = "<svg onload=alert('notes')>"


def test_markup_in_stored_names_is_shown_as_text_and_never_runs(app, page, live_server, log_in):
    study = make_study()
    district = make_district(study, "North")
    organisation = make_organisation(study, ATTRIBUTE + " Ltd", districts=[district])
    role = make_role(study, SCRIPT, organisation_kind=organisation.kind)
    interviewer = make_user("interviewer")
    person = make_participant(
        study,
        district=district,
        organisation=organisation,
        role=role,
        name=SCRIPT,
        job_title=ATTRIBUTE,
        notes=SVG,
        interviewer_id=interviewer.id,
    )
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    log_in(make_user("coordinator"))
    for url in (
        "/participants",
        f"/participants/{person.id}",
        f"/participants/{person.id}/edit",
        "/organisations",
        f"/organisations/{organisation.id}",
        f"/organisations/{organisation.id}/edit",
        "/roles",
        "/",
    ):
        page.goto(live_server(url))
        page.wait_for_load_state("load")
    page.goto(live_server(f"/participants/{person.id}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(SCRIPT)

    page.get_by_role("button", name="Log out").click()
    log_in(interviewer)
    for url in ("/participants", f"/participants/{person.id}", "/appointments"):
        page.goto(live_server(url))
        page.wait_for_load_state("load")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    assert dialogs == [], f"script ran: {dialogs}"
