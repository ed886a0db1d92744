"""Disposition codes of contact attempts, and how each one moves a participant's status.

This module is the ONE place where the codes and their rules live. The codes follow the spirit
of AAPOR's Standard Definitions (final dispositions of case codes): each code belongs to one
AAPOR category, from which the coverage figures compute response, refusal, contact and
cooperation rates per quota cell.

Two rules hold for every code:

* A contact attempt never overwrites WITHDRAWN (only the participant withdraws, and only an
  explicit service call changes it) nor INTERVIEWED (the interview happened; what follows does
  not undo it).
* SCHEDULED and INTERVIEWED are reached through appointments (`services.mark_scheduled` and
  `services.mark_interviewed`), never by a contact attempt.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from fieldwork.sampling.models import RecruitmentStatus as S


class AaporCategory(enum.StrEnum):
    """AAPOR's top-level groups of final dispositions."""

    #: Eligible and cooperating (AAPOR 1.x: interview; here: agreed to be interviewed).
    INTERVIEW = "interview"
    #: Eligible, contacted, refused (AAPOR 2.11x).
    REFUSAL = "refusal"
    #: Eligible, never reached (AAPOR 2.2x).
    NON_CONTACT = "non_contact"
    #: Eligible, reached, no decision yet (AAPOR 2.3x "other").
    OTHER = "other"
    #: Out of the sample (AAPOR 4.x).
    NOT_ELIGIBLE = "not_eligible"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-").capitalize()


class Disposition(enum.StrEnum):
    """The outcome of one contact attempt."""

    #: Agreed to be interviewed → Agreed (Scheduled stays Scheduled).
    AGREED = "agreed"
    #: Reached, asked to be contacted later → Approached if Identified/Unreachable.
    CALL_BACK = "call_back"
    #: Nobody answered → Approached if Identified, else unchanged.
    NO_ANSWER = "no_answer"
    #: Message left → Approached if Identified, else unchanged.
    LEFT_MESSAGE = "left_message"
    #: The person refused → Declined.
    REFUSED = "refused"
    #: A manager or the organisation refused on their behalf → Declined.
    GATEKEEPER_REFUSED = "gatekeeper_refused"
    #: Does not fit the sample → Ineligible.
    NOT_ELIGIBLE = "not_eligible"
    #: No longer in the sampled role → Ineligible (their successor is a new participant).
    MOVED_ON = "moved_on"
    #: No working route to them → Unreachable if Identified/Approached, else unchanged.
    NOT_REACHABLE = "not_reachable"

    @property
    def label(self) -> str:
        return RULES[self].label

    @property
    def category(self) -> AaporCategory:
        return RULES[self].category

    @property
    def description(self) -> str:
        return RULES[self].description


#: Statuses no contact attempt may change.
PROTECTED = frozenset({S.WITHDRAWN, S.INTERVIEWED})


@dataclass(frozen=True)
class DispositionRule:
    """A code's label, its AAPOR category and code, and its status rule."""

    label: str
    category: AaporCategory
    #: The nearest AAPOR Standard Definitions code, for reports.
    aapor_code: str
    #: The rule, in words, as the help text shows it.
    description: str
    #: The participant's new status given the current one (PROTECTED statuses never reach it).
    next_status: Callable[[S], S]


def _approached_if_new(current: S) -> S:
    return S.APPROACHED if current == S.IDENTIFIED else current


def _agreed(current: S) -> S:
    """Agreement moves anyone to AGREED except those already further on (scheduled)."""
    return current if current == S.SCHEDULED else S.AGREED


def _call_back(current: S) -> S:
    """Contact was made: someone new or unreachable becomes approached; others stay."""
    return S.APPROACHED if current in (S.IDENTIFIED, S.UNREACHABLE) else current


def _not_reachable(current: S) -> S:
    """Only people not yet engaged become unreachable; an agreed or booked person stays."""
    return S.UNREACHABLE if current in (S.IDENTIFIED, S.APPROACHED, S.UNREACHABLE) else current


RULES: dict[Disposition, DispositionRule] = {
    Disposition.AGREED: DispositionRule(
        "Agreed to take part",
        AaporCategory.INTERVIEW,
        "1.0",
        "The person agreed to be interviewed. Status becomes Agreed, unless they are already "
        "Scheduled (the booking stands).",
        _agreed,
    ),
    Disposition.CALL_BACK: DispositionRule(
        "Call back",
        AaporCategory.OTHER,
        "2.30",
        "Reached, but asked to be contacted again later. Identified or Unreachable becomes "
        "Approached; any other status is unchanged.",
        _call_back,
    ),
    Disposition.NO_ANSWER: DispositionRule(
        "No answer",
        AaporCategory.NON_CONTACT,
        "2.20",
        "Nobody answered. Identified becomes Approached (we have tried); any other status is "
        "unchanged.",
        _approached_if_new,
    ),
    Disposition.LEFT_MESSAGE: DispositionRule(
        "Left a message",
        AaporCategory.NON_CONTACT,
        "2.22",
        "A message was left (voicemail, email, letter, with a colleague). Identified becomes "
        "Approached; any other status is unchanged.",
        _approached_if_new,
    ),
    Disposition.REFUSED: DispositionRule(
        "Refused (by the person)",
        AaporCategory.REFUSAL,
        "2.112",
        "The person declined to take part. Status becomes Declined.",
        lambda current: S.DECLINED,
    ),
    Disposition.GATEKEEPER_REFUSED: DispositionRule(
        "Refused by a gatekeeper or the organisation",
        AaporCategory.REFUSAL,
        "2.111",
        "Their manager or organisation refused access on their behalf. Status becomes Declined; "
        "record the organisation's refusal on its access page too.",
        lambda current: S.DECLINED,
    ),
    Disposition.NOT_ELIGIBLE: DispositionRule(
        "Not eligible",
        AaporCategory.NOT_ELIGIBLE,
        "4.70",
        "The person does not fit the sample (wrong role, not involved in the programme). "
        "Status becomes Ineligible.",
        lambda current: S.INELIGIBLE,
    ),
    Disposition.MOVED_ON: DispositionRule(
        "Moved on / left the organisation",
        AaporCategory.NOT_ELIGIBLE,
        "4.50",
        "The person no longer holds the sampled role. The sample is of roles in organisations, "
        "so they fall out of it: status becomes Ineligible (not Unreachable, which would count "
        "against the contact rate). Add their successor as a new participant.",
        lambda current: S.INELIGIBLE,
    ),
    Disposition.NOT_REACHABLE: DispositionRule(
        "Not reachable",
        AaporCategory.NON_CONTACT,
        "2.20",
        "No working route to the person (wrong details, long-term absence). Identified or "
        "Approached becomes Unreachable; someone who has agreed or is booked is unchanged.",
        _not_reachable,
    ),
}


def next_status(current: S, disposition: Disposition) -> S:
    """The status a participant has after a contact attempt with this outcome."""
    if current in PROTECTED:
        return current
    return RULES[disposition].next_status(current)


def choices() -> list[tuple[str, str]]:
    """(value, label) pairs for a select field, in the order above."""
    return [(code.value, code.label) for code in Disposition]


#: Code → AAPOR category, as plain strings, for SQL `case()` in the coverage queries.
CATEGORY_BY_CODE: dict[str, str] = {code.value: rule.category.value for code, rule in RULES.items()}
