"""The whole-file rules for the organisations and districts a file names.

A row may name an organisation or district the study does not have yet; the file then creates
it, and every row naming it must agree on its kind, lead provider or phase. `FrameFacts` keeps,
during the first pass, a few facts per organisation and district (never per row); lead providers
are checked in the second pass (`LeadProviders`), once every organisation's kind is known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
    District,
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
class _OrganisationFacts:
    """What the rows said so far about one organisation."""

    #: The first spelling in the file, and the line it is on.
    name: str
    line: int
    existing: Organisation | None
    #: For a new organisation: the kind the first row to give one gave.
    kind: OrganisationKind | None = None
    #: Whether any row wrote a kind (a bad one is reported once, not again as "missing").
    has_kind_text: bool = False


class FrameFacts:
    """The first pass's record of each organisation and district the rows name (a few per
    organisation and district, not per row). Disagreements are reported as rows are read."""

    def __init__(self, lookups: StudyLookups) -> None:
        self.lookups = lookups
        self.organisations: dict[str, _OrganisationFacts] = {}
        self.district_names: dict[str, str] = {}
        #: Each new district's first (line, phase); existing districts named with a phase.
        self.new_district_phases: dict[str, tuple[int, Phase]] = {}
        self.existing_districts: dict[str, District] = {}

    def note(
        self, line: int, record: dict[str, str], row: PlannedRow, problems: list[ImportProblem]
    ) -> None:
        """Keep what a checked row says; report where it disagrees with earlier rows."""
        kind_text = record.get("organisation_kind", "")
        kind = _kind(line, kind_text, problems)
        if row.organisation_key:
            facts = self.organisations.get(row.organisation_key)
            if facts is None:
                existing = self.lookups.organisations.get(row.organisation_key)
                facts = _OrganisationFacts(row.organisation_name, line, existing)
                self.organisations[row.organisation_key] = facts
            facts.has_kind_text = facts.has_kind_text or bool(kind_text)
            if kind is not None:
                _note_kind(facts, line, kind, problems)
        if row.district_key:
            self.district_names.setdefault(row.district_key, row.district_name)
            if row.phase is not None:
                self._note_phase(line, row.district_key, row.phase, problems)

    def _note_phase(self, line: int, key: str, phase: Phase, problems: list[ImportProblem]) -> None:
        """Existing districts keep their phase; a new one is in the phase its first row gives."""
        existing = self.lookups.districts.get(key)
        if existing is not None:
            self.existing_districts[key] = existing
            if phase.id != existing.phase_id:
                problems.append(
                    ImportProblem(
                        line,
                        "phase",
                        f"{existing.name} is in {existing.phase.name}, not {phase.name}.",
                    )
                )
            return
        first_line, first_phase = self.new_district_phases.setdefault(key, (line, phase))
        if phase.id != first_phase.id:
            problems.append(
                ImportProblem(
                    line,
                    "phase",
                    f"{self.district_names[key]} is a new district in {first_phase.name} "
                    f"on line {first_line}; a district is in one phase.",
                )
            )

    def settle(self, plan: ImportPlan) -> None:
        """After the first pass: the organisations and districts the file names or creates,
        and each organisation's kind, into the plan."""
        for key, facts in self.organisations.items():
            if facts.existing is not None:
                plan.organisations[key] = facts.existing
                plan.kinds[key] = facts.existing.kind
                continue
            new = NewOrganisation(name=facts.name, line=facts.line, kind=facts.kind)
            if new.kind is not None:
                plan.kinds[key] = new.kind
            elif not facts.has_kind_text:
                plan.problems.append(
                    ImportProblem(
                        new.line,
                        "organisation_kind",
                        f"{new.name} is a new organisation: say "
                        f"what kind it is ({', '.join(k.value for k in OrganisationKind)}).",
                    )
                )
            plan.new_organisations[key] = new
        plan.districts.update(self.existing_districts)
        for key, (line, phase) in self.new_district_phases.items():
            plan.new_districts[key] = NewDistrict(self.district_names[key], line, phase)


def _note_kind(
    facts: _OrganisationFacts, line: int, kind: OrganisationKind, problems: list[ImportProblem]
) -> None:
    """An existing organisation's kind is fixed; a new one's is the first row's that gives one."""
    if facts.existing is not None:
        if kind != facts.existing.kind:
            existing = facts.existing
            problems.append(
                ImportProblem(
                    line,
                    "organisation_kind",
                    f"{existing.name} is already recorded as {existing.kind.label} "
                    f"({existing.kind.value}), not {kind.label}.",
                )
            )
    elif facts.kind is None:
        facts.kind = kind
    elif kind != facts.kind:
        problems.append(
            ImportProblem(
                line,
                "organisation_kind",
                f"{facts.name} is a new {facts.kind.label.lower()} on an earlier line; "
                f"a row cannot make it {kind.label}.",
            )
        )


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


class LeadProviders:
    """The second pass's lead-provider rules: each sub-contractor has one lead provider, a
    lead provider the study or the file has, and an existing one keeps what it has."""

    def __init__(self, plan: ImportPlan, lookups: StudyLookups) -> None:
        self.plan = plan
        self.lookups = lookups
        #: The lead provider each organisation's rows chose so far; which rows named one.
        self.chosen: dict[str, str] = {}
        self.named: set[str] = set()

    def note(self, line: int, key: str, lead_provider: str) -> None:
        """Check one row's lead provider for the organisation `key`."""
        if not key or not lead_provider:
            return
        self.named.add(key)
        plan = self.plan
        existing = plan.organisations.get(key)
        name = existing.name if existing else plan.new_organisations[key].name
        lead_key = lead_provider.lower()
        message = self._problem(name, plan.kinds.get(key), lead_provider, self.chosen.get(key))
        if message is None:
            self.chosen[key] = lead_key
            message = self._recorded_problem(existing, lead_key)
        if message is not None:
            plan.problems.append(ImportProblem(line, "lead_provider", message))

    def finish(self) -> None:
        """Record the lead providers chosen; a new sub-contractor without one is a problem."""
        plan = self.plan
        for key, kind in plan.kinds.items():
            if kind != OrganisationKind.SUBCONTRACTOR:
                continue
            chosen = self.chosen.get(key)
            existing = plan.organisations.get(key)
            if existing is None:
                new = plan.new_organisations[key]
                if key not in self.named:
                    plan.problems.append(
                        ImportProblem(
                            new.line,
                            "lead_provider",
                            f"{new.name} is a new sub-contractor: name its lead provider.",
                        )
                    )
                new.lead_provider_key = chosen
            elif chosen is not None and existing.lead_provider_id is None:
                plan.lead_provider_updates[key] = chosen

    def _problem(
        self, name: str, kind: OrganisationKind | None, lead_provider: str, chosen: str | None
    ) -> str | None:
        """Why a row's lead provider cannot be the organisation's, or None when it can."""
        lead_key = lead_provider.lower()
        if kind is not None and kind != OrganisationKind.SUBCONTRACTOR:
            return (
                f"Only a sub-contractor has a lead provider; "
                f"{name} is of the kind {kind.label}. Leave this empty."
            )
        existing_lead = self.lookups.organisations.get(lead_key)
        lead_kind = self.plan.kinds.get(lead_key) or (existing_lead.kind if existing_lead else None)
        if lead_kind is None and lead_key not in self.plan.new_organisations:
            return (
                f"The study has no organisation called "
                f"{quote(lead_provider)}; add a row for it or correct the name."
            )
        if lead_kind is not None and lead_kind != OrganisationKind.LEAD_PROVIDER:
            return f"{quote(lead_provider)} is of the kind {lead_kind.label}, not a lead provider."
        if chosen is not None and lead_key != chosen:
            return f"An earlier row gives {name} another lead provider; a sub-contractor has one."
        return None

    def _recorded_problem(self, existing: Organisation | None, lead_key: str) -> str | None:
        """An existing sub-contractor keeps its recorded lead provider (changed on its page)."""
        if existing is None or existing.lead_provider_id is None:
            return None
        current = self.lookups.organisations_by_id.get(existing.lead_provider_id)
        if current is not None and current.name.strip().lower() != lead_key:
            return (
                f"{existing.name} is recorded with the lead "
                f"provider {current.name}; change it on the organisation's page."
            )
        return None
