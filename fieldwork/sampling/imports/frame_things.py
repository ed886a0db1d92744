"""The whole-file rules for the organisations and districts a file names.

A row may name an organisation or district the study does not have yet; the file then creates
it, and every row naming it must agree on its kind, lead provider or phase. These checks need the
whole file, so rows leave their facts in `FrameFacts` as they are read and the rules run after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fieldwork.sampling.imports.lookups import StudyLookups, quote
from fieldwork.sampling.imports.plan import (
    ImportPlan,
    ImportProblem,
    NewDistrict,
    NewOrganisation,
    PlannedRow,
)
from fieldwork.sampling.models import (
    ORGANISATION_KIND_LABELS,
    Organisation,
    OrganisationKind,
    Phase,
)


def _kind_key(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


#: "lead_provider", "Lead provider", "lead-provider", "JCP", "Jobcentre Plus" ... -> the kind.
_KINDS_BY_KEY: dict[str, OrganisationKind] = {
    **{_kind_key(kind.value): kind for kind in OrganisationKind},
    **{_kind_key(label): kind for kind, label in ORGANISATION_KIND_LABELS.items()},
}


@dataclass
class RowFacts:
    """What one row says about its organisation, for the whole-file checks."""

    line: int
    kind: OrganisationKind | None
    #: The kind as written (a bad one is reported once, not again as "missing").
    kind_text: str
    lead_provider: str


@dataclass
class FrameFacts:
    """What the rows said about each organisation and district, by lower-case name."""

    organisations: dict[str, list[RowFacts]] = field(default_factory=dict)
    #: The first spelling of each organisation's and district's name in the file.
    organisation_names: dict[str, str] = field(default_factory=dict)
    district_names: dict[str, str] = field(default_factory=dict)
    district_phases: dict[str, list[tuple[int, Phase]]] = field(default_factory=dict)

    def note(
        self, line: int, record: dict[str, str], row: PlannedRow, problems: list[ImportProblem]
    ) -> None:
        """Keep what a checked row says; a kind that is no kind is reported here, once."""
        kind_text = record.get("organisation_kind", "")
        kind = _kind(line, kind_text, problems)
        if row.organisation_key:
            self.organisation_names.setdefault(row.organisation_key, row.organisation_name)
            self.organisations.setdefault(row.organisation_key, []).append(
                RowFacts(line, kind, kind_text, record.get("lead_provider", ""))
            )
        if row.district_key:
            self.district_names.setdefault(row.district_key, row.district_name)
        if row.district_key and row.phase is not None:
            self.district_phases.setdefault(row.district_key, []).append((line, row.phase))


def _kind(line: int, text: str, problems: list[ImportProblem]) -> OrganisationKind | None:
    if not text:
        return None
    kind = _KINDS_BY_KEY.get(_kind_key(text))
    if kind is None:
        labels = ", ".join(f"{k.value} ({k.label})" for k in OrganisationKind)
        problems.append(
            ImportProblem(
                line,
                "organisation_kind",
                f"{quote(text)} is not a kind of organisation. Use one of: {labels}.",
            )
        )
    return kind


def resolve_organisations(
    lookups: StudyLookups, plan: ImportPlan, facts: FrameFacts
) -> dict[str, OrganisationKind]:
    """Each organisation's kind (existing, or given in the file), and the lead providers."""
    kinds: dict[str, OrganisationKind] = {}
    for key, rows in facts.organisations.items():
        existing = lookups.organisations.get(key)
        if existing is not None:
            plan.organisations[key] = existing
            kinds[key] = existing.kind
            _check_existing_kind(existing, rows, plan.problems)
            continue
        new = _new_organisation(facts.organisation_names[key], rows, plan.problems)
        if new.kind is not None:
            kinds[key] = new.kind
        plan.new_organisations[key] = new
    for key, rows in facts.organisations.items():
        _resolve_lead_provider(lookups, plan, key, rows, kinds)
    return kinds


def _check_existing_kind(
    existing: Organisation, rows: list[RowFacts], problems: list[ImportProblem]
) -> None:
    for fact in rows:
        if fact.kind is not None and fact.kind != existing.kind:
            problems.append(
                ImportProblem(
                    fact.line,
                    "organisation_kind",
                    f"{existing.name} is already recorded as {existing.kind.label} "
                    f"({existing.kind.value}), not {fact.kind.label}.",
                )
            )


def _new_organisation(
    name: str, rows: list[RowFacts], problems: list[ImportProblem]
) -> NewOrganisation:
    """A new organisation's kind: the first row that gives one; the others must agree."""
    new = NewOrganisation(name=name, line=rows[0].line)
    for fact in rows:
        if fact.kind is None:
            continue
        if new.kind is None:
            new.kind = fact.kind
        elif fact.kind != new.kind:
            problems.append(
                ImportProblem(
                    fact.line,
                    "organisation_kind",
                    f"{new.name} is a new {new.kind.label.lower()} on an earlier line; "
                    f"a row cannot make it {fact.kind.label}.",
                )
            )
    if new.kind is None and not any(fact.kind_text for fact in rows):
        problems.append(
            ImportProblem(
                new.line,
                "organisation_kind",
                f"{new.name} is a new organisation: say "
                f"what kind it is ({', '.join(k.value for k in OrganisationKind)}).",
            )
        )
    return new


def _resolve_lead_provider(
    lookups: StudyLookups,
    plan: ImportPlan,
    key: str,
    rows: list[RowFacts],
    kinds: dict[str, OrganisationKind],
) -> None:
    """The one lead provider the rows give a sub-contractor (or none), recorded in the plan."""
    existing = plan.organisations.get(key)
    name = existing.name if existing else plan.new_organisations[key].name
    kind = kinds.get(key)
    chosen: str | None = None
    for fact in rows:
        if not fact.lead_provider:
            continue
        lead_key = fact.lead_provider.lower()
        message = _lead_provider_problem(lookups, plan, name, kind, fact, kinds, chosen)
        if message is None:
            chosen = lead_key
            if lead_key in lookups.organisations:
                plan.organisations.setdefault(lead_key, lookups.organisations[lead_key])
            message = _recorded_lead_provider_problem(lookups, existing, lead_key)
        if message is not None:
            plan.problems.append(ImportProblem(fact.line, "lead_provider", message))
    if kind != OrganisationKind.SUBCONTRACTOR:
        return
    if existing is None:
        new = plan.new_organisations[key]
        if not any(fact.lead_provider for fact in rows):
            plan.problems.append(
                ImportProblem(
                    new.line,
                    "lead_provider",
                    f"{name} is a new sub-contractor: name its lead provider.",
                )
            )
        new.lead_provider_key = chosen
    elif chosen is not None and existing.lead_provider_id is None:
        plan.lead_provider_updates[key] = chosen


def _lead_provider_problem(
    lookups: StudyLookups,
    plan: ImportPlan,
    name: str,
    kind: OrganisationKind | None,
    fact: RowFacts,
    kinds: dict[str, OrganisationKind],
    chosen: str | None,
) -> str | None:
    """Why a row's lead provider cannot be the organisation's, or None when it can."""
    lead_key = fact.lead_provider.lower()
    if kind is not None and kind != OrganisationKind.SUBCONTRACTOR:
        return (
            f"Only a sub-contractor has a lead provider; "
            f"{name} is of the kind {kind.label}. Leave this empty."
        )
    lead_kind = kinds.get(lead_key) or (
        lookups.organisations[lead_key].kind if lead_key in lookups.organisations else None
    )
    if lead_kind is None and lead_key not in plan.new_organisations:
        return (
            f"The study has no organisation called "
            f"{quote(fact.lead_provider)}; add a row for it or correct the name."
        )
    if lead_kind is not None and lead_kind != OrganisationKind.LEAD_PROVIDER:
        return f"{quote(fact.lead_provider)} is of the kind {lead_kind.label}, not a lead provider."
    if chosen is not None and lead_key != chosen:
        return f"An earlier row gives {name} another lead provider; a sub-contractor has one."
    return None


def _recorded_lead_provider_problem(
    lookups: StudyLookups, existing: Organisation | None, lead_key: str
) -> str | None:
    """An existing sub-contractor keeps its recorded lead provider (changed on its page)."""
    if existing is None or existing.lead_provider_id is None:
        return None
    current = lookups.organisations_by_id.get(existing.lead_provider_id)
    if current is not None and current.name.strip().lower() != lead_key:
        return (
            f"{existing.name} is recorded with the lead "
            f"provider {current.name}; change it on the organisation's page."
        )
    return None


def resolve_districts(lookups: StudyLookups, plan: ImportPlan, facts: FrameFacts) -> None:
    """Existing districts keep their phase; a new one is in the phase its first row gives."""
    for key, mentions in facts.district_phases.items():
        existing = lookups.districts.get(key)
        if existing is not None:
            plan.districts[key] = existing
            for line, phase in mentions:
                if phase.id != existing.phase_id:
                    plan.problems.append(
                        ImportProblem(
                            line,
                            "phase",
                            f"{existing.name} is in {existing.phase.name}, not {phase.name}.",
                        )
                    )
            continue
        name = facts.district_names[key]
        first_line, first_phase = mentions[0]
        plan.new_districts[key] = NewDistrict(name, first_line, first_phase)
        for line, phase in mentions[1:]:
            if phase.id != first_phase.id:
                plan.problems.append(
                    ImportProblem(
                        line,
                        "phase",
                        f"{name} is a new district in {first_phase.name} "
                        f"on line {first_line}; a district is in one phase.",
                    )
                )
