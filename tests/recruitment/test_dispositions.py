"""The status rule of every disposition code, from every starting status (a specification)."""

from __future__ import annotations

import pytest

from fieldwork.recruitment.dispositions import (
    CATEGORY_BY_CODE,
    RULES,
    AaporCategory,
    Disposition,
    next_status,
)
from fieldwork.sampling.models import RecruitmentStatus as S

D = Disposition
ALL = list(S)
#: Starting statuses in the order of ALL: identified, approached, agreed, scheduled,
#: interviewed, declined, unreachable, ineligible, withdrawn.
EXPECTED: dict[Disposition, list[S]] = {
    D.AGREED: [
        S.AGREED,
        S.AGREED,
        S.AGREED,
        S.SCHEDULED,
        S.INTERVIEWED,
        S.AGREED,
        S.AGREED,
        S.AGREED,
        S.WITHDRAWN,
    ],
    D.CALL_BACK: [
        S.APPROACHED,
        S.APPROACHED,
        S.AGREED,
        S.SCHEDULED,
        S.INTERVIEWED,
        S.DECLINED,
        S.APPROACHED,
        S.INELIGIBLE,
        S.WITHDRAWN,
    ],
    D.NO_ANSWER: [
        S.APPROACHED,
        S.APPROACHED,
        S.AGREED,
        S.SCHEDULED,
        S.INTERVIEWED,
        S.DECLINED,
        S.UNREACHABLE,
        S.INELIGIBLE,
        S.WITHDRAWN,
    ],
    D.LEFT_MESSAGE: [
        S.APPROACHED,
        S.APPROACHED,
        S.AGREED,
        S.SCHEDULED,
        S.INTERVIEWED,
        S.DECLINED,
        S.UNREACHABLE,
        S.INELIGIBLE,
        S.WITHDRAWN,
    ],
    D.REFUSED: [
        S.DECLINED,
        S.DECLINED,
        S.DECLINED,
        S.DECLINED,
        S.INTERVIEWED,
        S.DECLINED,
        S.DECLINED,
        S.DECLINED,
        S.WITHDRAWN,
    ],
    D.GATEKEEPER_REFUSED: [
        S.DECLINED,
        S.DECLINED,
        S.DECLINED,
        S.DECLINED,
        S.INTERVIEWED,
        S.DECLINED,
        S.DECLINED,
        S.DECLINED,
        S.WITHDRAWN,
    ],
    D.NOT_ELIGIBLE: [
        S.INELIGIBLE,
        S.INELIGIBLE,
        S.INELIGIBLE,
        S.INELIGIBLE,
        S.INTERVIEWED,
        S.INELIGIBLE,
        S.INELIGIBLE,
        S.INELIGIBLE,
        S.WITHDRAWN,
    ],
    D.MOVED_ON: [
        S.INELIGIBLE,
        S.INELIGIBLE,
        S.INELIGIBLE,
        S.INELIGIBLE,
        S.INTERVIEWED,
        S.INELIGIBLE,
        S.INELIGIBLE,
        S.INELIGIBLE,
        S.WITHDRAWN,
    ],
    D.NOT_REACHABLE: [
        S.UNREACHABLE,
        S.UNREACHABLE,
        S.AGREED,
        S.SCHEDULED,
        S.INTERVIEWED,
        S.DECLINED,
        S.UNREACHABLE,
        S.INELIGIBLE,
        S.WITHDRAWN,
    ],
}


def test_every_code_has_a_rule_and_an_expectation():
    assert set(RULES) == set(Disposition) == set(EXPECTED)


@pytest.mark.parametrize("code", list(Disposition), ids=lambda c: c.value)
@pytest.mark.parametrize("start", ALL, ids=lambda s: s.value)
def test_status_after_a_contact_attempt(code: Disposition, start: S):
    """Each code moves each starting status as the table above says."""
    assert next_status(start, code) == EXPECTED[code][ALL.index(start)]


@pytest.mark.parametrize("code", list(Disposition), ids=lambda c: c.value)
def test_withdrawn_and_interviewed_are_never_overwritten(code: Disposition):
    assert next_status(S.WITHDRAWN, code) == S.WITHDRAWN
    assert next_status(S.INTERVIEWED, code) == S.INTERVIEWED


@pytest.mark.parametrize("code", list(Disposition), ids=lambda c: c.value)
def test_no_contact_attempt_schedules_anyone(code: Disposition):
    """Scheduled comes only from a booking."""
    for start in ALL:
        if start != S.SCHEDULED:
            assert next_status(start, code) != S.SCHEDULED


def test_each_code_has_its_aapor_category_as_data():
    """The coverage queries read the categories from here."""
    assert CATEGORY_BY_CODE == {
        "agreed": "interview",
        "call_back": "other",
        "no_answer": "non_contact",
        "left_message": "non_contact",
        "refused": "refusal",
        "gatekeeper_refused": "refusal",
        "not_eligible": "not_eligible",
        "moved_on": "not_eligible",
        "not_reachable": "non_contact",
    }
    assert {code.category for code in Disposition} == set(AaporCategory)
    for code in Disposition:
        assert code.label and code.description and RULES[code].aapor_code
