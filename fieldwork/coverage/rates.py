"""Response, refusal, contact and cooperation rates after AAPOR's Standard Definitions.

Every participant of a cell is one *case* with one final disposition, computed in SQL by
`fieldwork.coverage.queries` (see `CASE_DEFINITIONS`):

* **I** interview: achieved (a held interview with consent to take part; see `queries`).
* **R** refusal and break-off: declined, or withdrew without an interview that counts.
* **NC** non-contact: eligible, never reached (only "no answer", "left a message", "not
  reachable" outcomes, or status Unreachable).
* **O** other: eligible, reached, no completed interview yet (agreed, booked, awaiting the
  interview, asked to call back).
* **U** unknown eligibility: never attempted (status Identified, no contact attempt logged).
* **NE** not eligible: status Ineligible (AAPOR 4.x); left out of every rate.

There are no partial interviews (P = 0), and unknown-eligibility cases are all counted as
eligible (the "1" formulas: e = 1), which gives the most conservative rates:

* RR1   response rate    = I / (I + R + NC + O + U)
* REF1  refusal rate     = R / (I + R + NC + O + U)
* CON1  contact rate     = (I + R + O) / (I + R + NC + O + U)
* COOP1 cooperation rate = I / (I + R + O)

A rate whose denominator is 0 is None ("no cases yet"), never 0.

The no-show rate is about appointments, not people: no-shows / (held + no-shows), over the
appointments whose outcome was recorded as held or no-show (late cancellations are counted
apart, not as no-shows).
"""

from __future__ import annotations

from dataclasses import dataclass

#: The definitions in words, as the dashboard and the CSV's documentation show them.
DEFINITIONS: tuple[tuple[str, str, str], ...] = (
    ("response_rate", "Response rate (AAPOR RR1)", "I ÷ (I + R + NC + O + U)"),
    ("refusal_rate", "Refusal rate (AAPOR REF1)", "R ÷ (I + R + NC + O + U)"),
    ("contact_rate", "Contact rate (AAPOR CON1)", "(I + R + O) ÷ (I + R + NC + O + U)"),
    ("cooperation_rate", "Cooperation rate (AAPOR COOP1)", "I ÷ (I + R + O)"),
    ("no_show_rate", "No-show rate", "no-shows ÷ (held + no-shows), appointments"),
)

#: What each case letter means, for the page.
CASE_DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "I",
        "Interview: achieved (held, with consent to take part that stands or whose data is kept).",
    ),
    ("R", "Refusal or break-off: declined, or withdrew without an interview that counts."),
    ("NC", "Non-contact: tried but never reached (no answer, message left, not reachable)."),
    ("O", "Other eligible: reached, no interview yet (agreed, booked, call back)."),
    ("U", "Unknown eligibility: in the frame but never tried."),
    ("NE", "Not eligible: left out of every rate."),
)


@dataclass(frozen=True)
class CaseCounts:
    """The cases of a cell by final disposition, and its appointments by outcome."""

    interviews: int = 0
    refusals: int = 0
    non_contacts: int = 0
    others: int = 0
    unknown: int = 0
    not_eligible: int = 0
    held_appointments: int = 0
    no_show_appointments: int = 0

    def __add__(self, other: CaseCounts) -> CaseCounts:
        return CaseCounts(
            *(getattr(self, name) + getattr(other, name) for name in self.__dataclass_fields__)
        )


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _all_eligible(c: CaseCounts) -> int:
    """I + R + NC + O + U: every case that is or may be eligible (e = 1)."""
    return c.interviews + c.refusals + c.non_contacts + c.others + c.unknown


def response_rate(c: CaseCounts) -> float | None:
    """AAPOR RR1: completed interviews over all (possibly) eligible cases."""
    return _ratio(c.interviews, _all_eligible(c))


def refusal_rate(c: CaseCounts) -> float | None:
    """AAPOR REF1: refusals and break-offs over all (possibly) eligible cases."""
    return _ratio(c.refusals, _all_eligible(c))


def contact_rate(c: CaseCounts) -> float | None:
    """AAPOR CON1: cases in which someone was reached over all (possibly) eligible cases."""
    return _ratio(c.interviews + c.refusals + c.others, _all_eligible(c))


def cooperation_rate(c: CaseCounts) -> float | None:
    """AAPOR COOP1: completed interviews over the eligible cases reached."""
    return _ratio(c.interviews, c.interviews + c.refusals + c.others)


def no_show_rate(c: CaseCounts) -> float | None:
    """No-shows over appointments that came due and were held or missed."""
    return _ratio(c.no_show_appointments, c.held_appointments + c.no_show_appointments)


def all_rates(c: CaseCounts) -> dict[str, float | None]:
    """Every rate by its key in `DEFINITIONS`."""
    return {
        "response_rate": response_rate(c),
        "refusal_rate": refusal_rate(c),
        "contact_rate": contact_rate(c),
        "cooperation_rate": cooperation_rate(c),
        "no_show_rate": no_show_rate(c),
    }
