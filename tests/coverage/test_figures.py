"""Every figure of the hand-built study (tests/coverage/conftest.py), cell by cell, against
numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
import functools
from fractions import Fraction

import pytest

from fieldwork.coverage import queries, services
from fieldwork.coverage.rates import CaseCounts
from fieldwork.recruitment.contacts import log_contact_attempt
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.models import ContactChannel
from tests.coverage.conftest import NOW, at

FIELDS = (
    "target",
    "participants",
    "achieved",
    "booked",
    "pipeline",
    "approached",
    "not_approached",
    "closed",
    "needed",
    "uncovered",
)

#: role, phase → the figures above, worked out by hand from the conftest's story.
HAND = {
    # A01, A02 achieved (A02 withdrew, data kept); A04 booked; A05 agreed, no-show: pipeline;
    # A06, A07 approached; A08 never tried; A03 (destroyed), A09 refused, A10 moved on: out.
    ("TPPM", 1): (4, 10, 2, 1, 1, 2, 1, 3, 2, 1),
    # B01 achieved; B02 held without consent: pipeline; B03 booked then refused: out.
    ("TPPM", 2): (2, 3, 1, 0, 1, 0, 0, 1, 1, 1),
    # C01–C03 achieved (C03 twice, counted once); C04 cancelled late, still agreed: pipeline.
    ("Manager", 1): (2, 4, 3, 0, 1, 0, 0, 0, 0, 0),
    # D01 not reachable: approached; no target.
    ("Manager", 2): (None, 1, 0, 0, 0, 1, 0, 0, None, None),
}

#: role, phase → CaseCounts (I, R, NC, O, U, NE, held appointments, no-show appointments).
CASES = {
    # I: A01 A02; R: A03 (withdrew, destroyed) A09; NC: A07; O: A04 A05 A06; U: A08; NE: A10.
    ("TPPM", 1): CaseCounts(2, 2, 1, 3, 1, 1, 3, 1),
    # I: B01; R: B03; O: B02.
    ("TPPM", 2): CaseCounts(1, 1, 0, 1, 0, 0, 2, 0),
    # I: C01 C02 C03; O: C04. Four interviews held.
    ("Manager", 1): CaseCounts(3, 0, 0, 1, 0, 0, 4, 0),
    ("Manager", 2): CaseCounts(0, 0, 1, 0, 0, 0, 0, 0),
}


@pytest.fixture
def board(hand_study):
    return services.dashboard(hand_study["study"])


def _cell(board, hand_study, role: str, phase: int):
    role_id = hand_study["tppm" if role == "TPPM" else "manager"].id
    return board.cell(role_id, hand_study[f"p{phase}"].id)


@pytest.mark.parametrize("cell", list(HAND), ids=lambda c: f"{c[0]}-phase{c[1]}")
def test_each_cell_has_the_figures_worked_out_by_hand(board, hand_study, cell):
    figures = _cell(board, hand_study, *cell)
    assert tuple(getattr(figures, name) for name in FIELDS) == HAND[cell]


@pytest.mark.parametrize("cell", list(CASES), ids=lambda c: f"{c[0]}-phase{c[1]}")
def test_each_cell_has_its_cases_and_appointments_worked_out_by_hand(board, hand_study, cell):
    assert _cell(board, hand_study, *cell).cases == CASES[cell]


def test_a_cells_buckets_add_up_to_its_participants(board):
    for figures in [*board.grid.values(), board.overall]:
        buckets = (
            figures.achieved
            + figures.booked
            + figures.pipeline
            + figures.approached
            + figures.not_approached
            + figures.closed
        )
        assert buckets == figures.participants


def test_late_cancellations_are_counted_apart_from_no_shows(board, hand_study):
    assert _cell(board, hand_study, "Manager", 1).late_cancellations == 1
    assert board.overall.late_cancellations == 1


def test_phase_totals_and_the_overall_total_add_the_cells(board, hand_study):
    phase_one = board.by_phase[hand_study["p1"].id]
    assert (phase_one.target, phase_one.participants, phase_one.achieved) == (6, 14, 5)
    assert phase_one.counted_toward_target == 4  # Manager's 3 count as 2 (its target)
    phase_two = board.by_phase[hand_study["p2"].id]
    assert (phase_two.target, phase_two.participants, phase_two.achieved) == (2, 4, 1)
    overall = board.overall
    assert (
        overall.target,
        overall.participants,
        overall.achieved,
        overall.booked,
        overall.pipeline,
        overall.approached,
        overall.not_approached,
        overall.closed,
    ) == (8, 18, 6, 1, 3, 3, 1, 4)
    assert board.total_target == 8


def test_the_heat_map_band_and_words_follow_the_share_achieved(board, hand_study):
    assert (
        _cell(board, hand_study, "TPPM", 1).band,
        _cell(board, hand_study, "TPPM", 1).verdict,
    ) == (5, ("◑", "Halfway"))
    assert (
        _cell(board, hand_study, "Manager", 1).band,
        _cell(board, hand_study, "Manager", 1).verdict,
    ) == (10, ("✔", "Target met"))
    assert (
        _cell(board, hand_study, "Manager", 2).band,
        _cell(board, hand_study, "Manager", 2).verdict,
    ) == (None, ("–", "No target"))


def test_the_rates_of_a_cell_are_the_hand_calculations(board, hand_study):
    rates = _cell(board, hand_study, "TPPM", 1).rates
    # I=2 R=2 NC=1 O=3 U=1: all eligible = 9; reached = I+R+O = 7.
    assert Fraction(rates["response_rate"]).limit_denominator(100) == Fraction(2, 9)
    assert Fraction(rates["refusal_rate"]).limit_denominator(100) == Fraction(2, 9)
    assert Fraction(rates["contact_rate"]).limit_denominator(100) == Fraction(7, 9)
    assert Fraction(rates["cooperation_rate"]).limit_denominator(100) == Fraction(2, 7)
    assert rates["no_show_rate"] == 0.25  # one no-show, three held


def test_the_overall_rates_are_the_hand_calculations(board):
    # I=6 R=3 NC=2 O=5 U=1 (NE=1 left out): all eligible = 17; reached = 14.
    rates = board.overall.rates
    assert rates["response_rate"] == pytest.approx(6 / 17)
    assert rates["refusal_rate"] == pytest.approx(3 / 17)
    assert rates["contact_rate"] == pytest.approx(14 / 17)
    assert rates["cooperation_rate"] == pytest.approx(6 / 14)
    assert rates["no_show_rate"] == pytest.approx(1 / 10)  # 1 no-show, 9 held


def test_finer_cells_have_their_own_targets_and_figures(board):
    cells = {cell.label: cell.figures for cell in board.finer}
    north = cells["TPPM in North"]
    # A01, A02 achieved; A05 pipeline; A06 approached; A09, A10 out.
    assert (
        north.target,
        north.participants,
        north.achieved,
        north.pipeline,
        north.approached,
        north.closed,
        north.needed,
    ) == (2, 6, 2, 1, 1, 2, 0)
    lead = cells["Lead provider staff, Phase 1"]
    assert (lead.target, lead.participants, lead.achieved, lead.pipeline) == (3, 4, 3, 1)


def test_the_attempt_latest_by_date_decides_the_case_type_not_the_last_one_logged(hand_study):
    """D01's attempt of 1 May (not reachable: a non-contact) stays the latest when a call back
    dated 1 April is logged after it; a call back dated 2 May then makes D01 an "other"."""
    d1 = hand_study["people"]["D01"]
    manager, p2 = hand_study["manager"].id, hand_study["p2"].id
    log = functools.partial(
        log_contact_attempt,
        d1,
        hand_study["coordinator"],
        channel=ContactChannel.TELEPHONE,
        disposition=Disposition.CALL_BACK,
    )
    log(attempted_at=at(4, 1))
    cases = services.dashboard(hand_study["study"]).cell(manager, p2).cases
    assert (cases.non_contacts, cases.others) == (1, 0)
    log(attempted_at=at(5, 2))
    cases = services.dashboard(hand_study["study"]).cell(manager, p2).cases
    assert (cases.non_contacts, cases.others) == (0, 1)


def test_progress_by_week_counts_people_by_their_first_interview(board):
    rows = [
        (w.starts_on, w.held, w.cumulative, w.booked, w.projected, w.is_future) for w in board.weeks
    ]
    assert rows == [
        # A01, C01, C02, C03 (C03's second interview on 29 May does not count again)
        (dt.date(2008, 5, 19), 4, 4, 0, 4, False),
        (dt.date(2008, 5, 26), 1, 5, 0, 5, False),  # A02 (A03's data was destroyed)
        (dt.date(2008, 6, 2), 1, 6, 0, 6, False),  # B01; today is Wednesday 4 June
        (dt.date(2008, 6, 9), 0, 6, 1, 7, True),  # A04 booked for 10 June
        (dt.date(2008, 6, 16), 0, 6, 1, 8, True),  # B03's appointment still stands
    ]


def test_gaps_are_the_cells_behind_furthest_first_with_candidates_nearest_first(hand_study):
    gaps = services.gaps(hand_study["study"])
    assert [(g.role.name, g.phase.number) for g in gaps] == [("TPPM", 1), ("TPPM", 2)]
    assert [(c.reference, c.bucket) for c in gaps[0].candidates] == [
        ("A04", "booked"),
        ("A05", "pipeline"),
        ("A06", "approached"),
        ("A07", "approached"),
        ("A08", "not_approached"),
    ]
    assert [c.reference for c in gaps[1].candidates] == ["B02"]


def test_candidates_come_only_from_the_cells_asked_for(hand_study):
    """TPPM in phase 1 and Manager in phase 2 pair up with TPPM in phase 2 (B02) and Manager
    in phase 1 (C04), who are candidates there but not asked for."""
    tppm, manager = hand_study["tppm"].id, hand_study["manager"].id
    p1, p2 = hand_study["p1"].id, hand_study["p2"].id
    rows = queries.candidates(hand_study["study"].id, NOW, [(tppm, p1), (manager, p2)], 50)
    assert {(row.role_id, row.phase_id) for row in rows} == {(tppm, p1), (manager, p2)}
    assert {row.reference for row in rows} == {"A04", "A05", "A06", "A07", "A08", "D01"}


def test_an_interviewer_sees_only_their_own_candidates(hand_study):
    gaps = services.gaps(hand_study["study"], hand_study["interviewer"])
    assert [c.reference for c in gaps[0].candidates] == ["A04"]
    assert gaps[1].candidates == []


def test_a_cell_breaks_down_by_district_and_organisation(hand_study):
    detail = services.cell_detail(hand_study["study"], hand_study["tppm"].id, hand_study["p1"].id)
    districts = {
        name: (f.target, f.participants, f.achieved, f.booked, f.closed)
        for name, f in detail.by_district
    }
    assert districts == {"East": (None, 4, 0, 1, 1), "North": (2, 6, 2, 0, 2)}
    assert [(name, f.participants) for name, f in detail.by_organisation] == [("JCP One", 10)]
    assert [c.label for c in detail.finer] == ["TPPM in North"]
    assert [c.reference for c in detail.candidates] == ["A04", "A05", "A06", "A07", "A08"]


def test_a_cell_of_another_study_is_not_found(hand_study, app):
    from tests.factories import make_role, make_study

    other = make_study(slug="other")
    role = make_role(other)
    assert services.cell_detail(hand_study["study"], role.id, hand_study["p1"].id) is None


def test_the_demo_targets_fill_the_grid_for_both_phases(app):
    """The demo study's five roles each get a target in phase 1 and in phase 2."""
    from fieldwork.coverage.demo import DEMO_TARGETS_PER_PHASE, load_coverage_demo
    from fieldwork.sampling.demo import load_demo

    study = load_demo()
    load_coverage_demo(study)
    board = services.dashboard(study)
    assert board.cells_with_targets == 10
    assert board.total_target == 2 * sum(DEMO_TARGETS_PER_PHASE.values())
    assert board.overall.participants > 0
