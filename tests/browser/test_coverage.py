"""The coverage dashboard in a real browser: numbers in every heat-map cell, the drill-down,
the gaps' one-click actions and the quota grid's messages; axe-core on each page."""

from __future__ import annotations

import re

import pytest

from tests.coverage import conftest as coverage_fixtures
from tests.pagecheck import axe_violations, describe_axe, expect, require_axe

pytestmark = pytest.mark.browser

# The hand-built study of the coverage tests, and its fixed clock.
clock = coverage_fixtures.clock
hand_study = coverage_fixtures.hand_study


def _no_serious_axe_violations(page, label: str) -> None:
    require_axe()
    problems = describe_axe(label, axe_violations(page))
    assert not problems, "\n".join(problems)


def test_the_heat_map_has_numbers_in_every_cell_and_drills_down(
    hand_study,
    page,
    live_server,
    log_in,
):
    log_in(hand_study["coordinator"])
    page.goto(live_server("/"))
    page.get_by_role("navigation").get_by_role("link", name="Coverage", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Quota coverage")

    cells = page.locator("#heatmap tbody td")
    expect(cells).to_have_count(6)
    for text in cells.all_inner_texts():
        assert re.search(r"\d+ / (\d+|–)", text), text
        assert re.search(r"Target met|Nearly there|Halfway|Behind|Far behind|No target", text)
    row = page.locator("#heatmap tbody tr", has=page.get_by_role("rowheader", name="TPPM"))
    expect(row.locator("td").first).to_contain_text("2 / 4")
    expect(row.locator("td").first).to_contain_text("Halfway")
    expect(page.locator("#progress-phase-1")).to_have_attribute("value", "4")
    expect(page.locator("#weeks tbody tr")).to_have_count(5)
    expect(page.locator("svg[role=img] title")).to_have_text(re.compile("total target"))
    _no_serious_axe_violations(page, "/coverage")

    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("TPPM, Phase 1")
    expect(page.locator("#by-district tbody th")).to_have_text(["East", "North"])
    expect(page.locator("#candidates tbody th")).to_have_text(["A04", "A05", "A06", "A07", "A08"])
    _no_serious_axe_violations(page, "/coverage/cell")


def test_a_gap_is_one_click_from_logging_a_contact(
    hand_study,
    page,
    live_server,
    log_in,
):
    log_in(hand_study["coordinator"])
    page.goto(live_server("/coverage/gaps"))
    expect(page.get_by_role("heading", level=2).first).to_have_text("TPPM, Phase 1")
    _no_serious_axe_violations(page, "/coverage/gaps")
    page.get_by_role("link", name="Log a contact with A05").click()
    expect(page).to_have_url(
        re.compile(rf"/participants/{hand_study['people']['A05'].id}/contacts/new$")
    )


def test_a_bad_target_is_named_beside_its_cell_then_saved_once_fixed(
    hand_study,
    page,
    live_server,
    log_in,
    console,
):
    log_in(hand_study["coordinator"])
    page.goto(live_server("/coverage/quotas"))
    target = page.get_by_label("Target for TPPM, Phase 1")
    expect(target).to_have_value("4")
    target.fill("-1")
    console.expect_status(422)
    page.get_by_role("button", name="Save targets").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Enter a whole number from 0 to 9999")
    expect(page.get_by_label("Target for TPPM, Phase 1")).to_have_attribute("aria-invalid", "true")
    _no_serious_axe_violations(page, "/coverage/quotas (errors)")
    page.get_by_label("Target for TPPM, Phase 1").fill("5")
    page.get_by_role("button", name="Save targets").click()
    expect(page.get_by_role("status")).to_contain_text("Targets saved.")
    page.goto(live_server("/coverage"))
    row = page.locator("#heatmap tbody tr", has=page.get_by_role("rowheader", name="TPPM"))
    expect(row.locator("td").first).to_contain_text("2 / 5")
