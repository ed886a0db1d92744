"""Disclosure control for the participants file: no combination of quasi-identifiers exported
may describe fewer than k people (k-anonymity over role, phase, district, organisation kind
and organisation, whichever the study chose to include).

The check runs on the people in the file. While a combination holds fewer than k people it
generalises, coarsest loss first: the organisation becomes its kind of organisation, then the
district becomes its phase. What still singles someone out is suppressed: the quasi-identifiers
of the people in cells smaller than k are left empty (the person stays, by reference, with
their other records). Every step is reported, for the codebook and datapackage.json.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fieldwork.exports.models import QUASI_IDENTIFIER_LABELS, QUASI_IDENTIFIERS

#: Generalisations tried in order: (attribute dropped, attribute that stands for it).
GENERALISATIONS = (("organisation", "organisation_kind"), ("district", "phase"))


@dataclass
class DisclosureResult:
    """What the participants file carries after the check, and what the check did."""

    k: int
    chosen: tuple[str, ...]
    #: The quasi-identifiers the file carries after generalisation, in file order.
    attributes: tuple[str, ...]
    #: One dict per person: the quasi-identifiers in `attributes` (None where suppressed).
    rows: list[dict[str, Any]]
    steps: list[str] = field(default_factory=list)
    generalised: list[str] = field(default_factory=list)
    suppressed: int = 0

    def descriptor(self) -> dict[str, Any]:
        return {
            "minimumCellSize": self.k,
            "quasiIdentifiersChosen": list(self.chosen),
            "quasiIdentifiersExported": list(self.attributes),
            "generalised": list(self.generalised),
            "participantsSuppressed": self.suppressed,
            "steps": list(self.steps),
        }


def _small_cells(rows: list[dict[str, Any]], attributes: tuple[str, ...], k: int) -> set[tuple]:
    counts = Counter(tuple(row[name] for name in attributes) for row in rows)
    return {cell for cell, count in counts.items() if count < k}


def _ordered(names: set[str]) -> tuple[str, ...]:
    return tuple(name for name in QUASI_IDENTIFIERS if name in names)


def control(people: list[dict[str, Any]], chosen: tuple[str, ...], k: int) -> DisclosureResult:
    """Apply the check to `people` (dicts holding every quasi-identifier) for the `chosen`
    attributes and minimum cell size `k` (at least 1)."""
    k = max(int(k), 1)
    attributes = set(chosen)
    result = DisclosureResult(k=k, chosen=_ordered(set(chosen)), attributes=(), rows=[])
    for dropped, kept in GENERALISATIONS:
        if dropped in attributes and _small_cells(people, _ordered(attributes), k):
            attributes.discard(dropped)
            attributes.add(kept)
            result.generalised.append(dropped)
            label, kept_label = QUASI_IDENTIFIER_LABELS[dropped], QUASI_IDENTIFIER_LABELS[kept]
            result.steps.append(
                f"{label} generalised to {kept_label.lower()}: some combinations with the "
                f"{label.lower()} held fewer than {k} people."
            )
    result.attributes = _ordered(attributes)
    small = _small_cells(people, result.attributes, k) if result.attributes else set()
    for person in people:
        row = {name: person[name] for name in result.attributes}
        if small and tuple(row[name] for name in result.attributes) in small:
            row = dict.fromkeys(result.attributes)
            result.suppressed += 1
        result.rows.append(row)
    if result.suppressed:
        result.steps.append(
            f"The {', '.join(QUASI_IDENTIFIER_LABELS[n].lower() for n in result.attributes)} "
            f"of {result.suppressed} participant(s) left empty (suppressed): their combination "
            f"held fewer than {k} people."
        )
    if not result.steps:
        result.steps.append(f"Every combination exported holds at least {k} people.")
    return result
