"""The AAPOR-style rates against hand calculations, including the empty cases."""

from __future__ import annotations

import pytest

from fieldwork.coverage import rates
from fieldwork.coverage.rates import CaseCounts


def test_rates_follow_the_aapor_formulas():
    """I=3 R=2 NC=4 O=1 U=10 NE=5: all (possibly) eligible = 20, reached = 6."""
    cases = CaseCounts(
        interviews=3,
        refusals=2,
        non_contacts=4,
        others=1,
        unknown=10,
        not_eligible=5,
        held_appointments=3,
        no_show_appointments=1,
    )
    assert rates.response_rate(cases) == pytest.approx(3 / 20)
    assert rates.refusal_rate(cases) == pytest.approx(2 / 20)
    assert rates.contact_rate(cases) == pytest.approx(6 / 20)
    assert rates.cooperation_rate(cases) == pytest.approx(3 / 6)
    assert rates.no_show_rate(cases) == pytest.approx(1 / 4)


def test_not_eligible_cases_change_no_rate():
    base = CaseCounts(interviews=2, refusals=1, non_contacts=1, others=1, unknown=1)
    with_ineligible = CaseCounts(
        interviews=2, refusals=1, non_contacts=1, others=1, unknown=1, not_eligible=40
    )
    assert rates.all_rates(base) == rates.all_rates(with_ineligible)


def test_a_rate_with_nothing_to_divide_by_is_none_not_zero():
    empty = rates.all_rates(CaseCounts())
    assert empty == dict.fromkeys(empty, None)
    only_unknown = CaseCounts(unknown=4)
    assert rates.response_rate(only_unknown) == 0
    assert rates.cooperation_rate(only_unknown) is None
    assert rates.no_show_rate(only_unknown) is None


def test_case_counts_add_up_field_by_field():
    total = CaseCounts(1, 2, 3, 4, 5, 6, 7, 8) + CaseCounts(1, 1, 1, 1, 1, 1, 1, 1)
    assert total == CaseCounts(2, 3, 4, 5, 6, 7, 8, 9)


def test_every_rate_is_defined_in_words_for_the_page():
    assert [key for key, _, _ in rates.DEFINITIONS] == list(rates.all_rates(CaseCounts()))
    assert {letter for letter, _ in rates.CASE_DEFINITIONS} == {"I", "R", "NC", "O", "U", "NE"}
