"""The package's README: a codebook generated from the schemas and the code definitions.

Every code list is read from the module that defines it (dispositions, the coverage rates),
so the codebook cannot drift from what the tool does. It holds no data about any person, only
the study's name and time zone and the counts of who was left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from fieldwork.coverage import rates
from fieldwork.recruitment.dispositions import RULES, AaporCategory
from fieldwork.recruitment.models import ConsentMethod, ContactChannel, DataHandling
from fieldwork.sampling.models import OrganisationKind, RecruitmentStatus
from fieldwork.scheduling.models import AppointmentMode, AppointmentStatus

if TYPE_CHECKING:
    from fieldwork.exports.package import DataPackage, Table

S = RecruitmentStatus
#: What each recruitment status means, for readers without the tool.
STATUS_MEANINGS: dict[RecruitmentStatus, str] = {
    S.IDENTIFIED: "In the sample frame; not contacted yet.",
    S.APPROACHED: "Contacted (or tried); no decision yet.",
    S.AGREED: "Agreed to be interviewed; no interview booked.",
    S.SCHEDULED: "An interview is booked.",
    S.INTERVIEWED: "Interviewed.",
    S.DECLINED: "Declined, or a gatekeeper refused on their behalf.",
    S.UNREACHABLE: "No working route to them was found.",
    S.INELIGIBLE: "Does not fit the sample, or has left the sampled role.",
    S.WITHDRAWN: "Withdrew from the study.",
}
A = AppointmentStatus
APPOINTMENT_MEANINGS: dict[AppointmentStatus, str] = {
    A.BOOKED: "Booked; no outcome recorded (yet).",
    A.CANCELLED: "Cancelled in good time.",
    A.HELD: "The interview took place.",
    A.NO_SHOW: "The participant did not come.",
    A.CANCELLED_LATE: "Cancelled at short notice.",
}
AAPOR_MEANINGS: dict[AaporCategory, str] = {
    AaporCategory.INTERVIEW: "Eligible and cooperating (AAPOR 1.x).",
    AaporCategory.REFUSAL: "Eligible, contacted, refused (AAPOR 2.11x).",
    AaporCategory.NON_CONTACT: "Eligible, never reached (AAPOR 2.2x).",
    AaporCategory.OTHER: "Eligible, reached, no decision yet (AAPOR 2.3x).",
    AaporCategory.NOT_ELIGIBLE: "Out of the sample (AAPOR 4.x).",
}


def _cell(text: object) -> str:
    """Text made safe for one cell of a Markdown table."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return lines + [""]


def _code_list(title: str, rows: Iterable[tuple[str, str, str]]) -> list[str]:
    return [f"### {title}", "", *_table(("Code", "Label", "Meaning"), rows)]


def _disclosure_section(package: DataPackage) -> list[str]:
    """What the participants file says about each person, and what the check changed."""
    result = package.disclosure
    if result is None:
        return []
    labels = {
        "role": "role (`role_id`)",
        "phase": "phase (`phase_number`)",
        "district": "district (`district_id`)",
        "organisation_kind": "kind of organisation (`organisation_kind`)",
        "organisation": "organisation (`organisation_id`)",
    }
    chosen = ", ".join(labels[name] for name in result.chosen) or "none"
    exported = ", ".join(labels[name] for name in result.attributes) or "none"
    return [
        "## Disclosure control",
        "",
        "A person's role, phase, district, kind of organisation and organisation together "
        "can identify them (quasi-identifiers). The study chose which of them the "
        f"participants file may carry: {chosen}. A disclosure check then makes sure that "
        f"every combination of those exported describes at least **k = {result.k}** "
        "participants of the file: it first generalises (an organisation becomes its kind "
        "of organisation; a district becomes its phase) and then suppresses (leaves empty) "
        "the values of anyone still in a smaller group.",
        "",
        f"In this package the participants file carries: {exported}. What the check did:",
        "",
        *(f"- {step}" for step in result.steps),
        "",
        "The participant reference (such as P1-017) begins with the phase number. The other "
        "person-level files carry no quasi-identifier, only the reference.",
        "",
    ]


def render(package: DataPackage) -> str:
    """The README.md text of `package`: one function per section."""
    lines = [
        *_introduction(package),
        *_disclosure_section(package),
        *_dates_section(package),
        *_files_section(),
    ]
    for table in package.tables:
        lines += _resource_section(table)
    lines += [*_codes_section(), *_coverage_section(), *_reading_section()]
    return "\n".join(lines)


def _introduction(package: DataPackage) -> list[str]:
    """What the package is and who is in it (and who was left out, and why)."""
    study = package.study
    ex = package.exclusions
    return [
        f"# Fieldwork record: {_cell(study.name)}",
        "",
        "The anonymised record of a qualitative interview study's fieldwork: who was sampled, "
        "approached and interviewed, and how. It is a Frictionless Data Package whose tables "
        "are Tabular Data Resources: `datapackage.json` describes every CSV file (field types, "
        "constraints, primary and foreign keys), and the files can be read without the "
        "software that made them.",
        "",
        "## Who is in it",
        "",
        f"The sample frame held {ex.in_frame} participants. The person-level resources "
        "(participants, contact_attempts, appointments, consents, consent_answers) hold only "
        "the participants whose latest consent to each form they answered is not withdrawn "
        "and agrees to the `archiving` item where the form asks it (a later consent that "
        "declines archiving overrides an earlier one that agreed): "
        + f"{ex.included} of {ex.in_frame}. "
        f"**{ex.left_out} participants were left out**:",
        "",
        f"- {ex.no_consent_recorded} with no consent recorded;",
        f"- {ex.consent_withdrawn} whose consent was withdrawn;",
        f"- {ex.did_not_agree_to_archiving} whose consent does not agree to archiving.",
        "",
        "The quotas and coverage resources are aggregate counts over the whole frame, "
        "including the people left out. No name, email address, telephone number, job "
        "title, note, signature, place or free-text reason of any participant is exported; "
        "participants appear only by a pseudonymous reference such as P1-017.",
        "",
    ]


def _dates_section(package: DataPackage) -> list[str]:
    """How exact the dates are, and where the package's own date comes from."""
    study = package.study
    return [
        "## Dates",
        "",
        f"Dates of events about participants are calendar dates in the study's time zone "
        f"({study.timezone}); times of day are never exported. In this package each such date "
        f"is {package.precision.meaning}. Dates about the study itself (phases going live, "
        "consent forms published) are exact.",
        "",
        (
            f"The package's `created` date ({package.created:%Y-%m-%d}) is the latest date in "
            "its person-level records (or a date chosen when it was made), not the time of "
            "the export, so exporting the same record twice gives identical files."
            if package.created is not None
            else "The package has no `created` date: it holds no dated person-level record."
        ),
        "",
    ]


def _files_section() -> list[str]:
    """How every CSV file is written."""
    return [
        "## Files",
        "",
        'All CSV files are UTF-8, comma-separated, with a header row, fields quoted with `"` '
        "when they hold a comma, a quote or a line break (RFC 4180). An empty field is a "
        "missing value. Booleans are `true` or `false`; dates are `YYYY-MM-DD`; rates are "
        "proportions between 0 and 1. A text value that begins with `=`, `+`, `-`, `@`, a tab "
        "or a line break is written with a leading `'` so that a spreadsheet shows it as text "
        "instead of running it as a formula (strip that one character to get the value as "
        "recorded); numbers are written as numbers.",
        "",
    ]


def _resource_section(table: Table) -> list[str]:
    """One resource: what it holds, its keys and a table of its fields."""
    lines: list[str] = []
    keys = ", ".join(table.primary_key)
    lines += [
        f"### {table.name} (`{table.path}`)",
        "",
        f"{table.description} {len(table.rows)} rows. Primary key: {keys}.",
        "",
    ]
    for foreign_key in table.foreign_keys:
        lines.append(
            f"- {', '.join(foreign_key.fields)} refers to {foreign_key.resource} "
            f"({', '.join(foreign_key.reference_fields)})"
        )
    if table.foreign_keys:
        lines.append("")
    lines += _table(
        ("Field", "Type", "Required", "Meaning"),
        (
            (
                f"`{f.name}`",
                f.type,
                "yes" if f.constraints.get("required") else "no",
                f.description
                + (
                    " One of: " + ", ".join(f"`{v}`" for v in f.constraints["enum"]) + "."
                    if "enum" in f.constraints
                    else ""
                ),
            )
            for f in table.fields
        ),
    )
    return lines


def _codes_section() -> list[str]:
    """Every code list the tables use, with what each code means."""
    return [
        "## Codes",
        "",
        *_code_list(
            "Recruitment status (participants.recruitment_status)",
            ((s.value, s.label, STATUS_MEANINGS[s]) for s in RecruitmentStatus),
        ),
        *_code_list(
            "Disposition of a contact attempt (contact_attempts.disposition)",
            (
                (
                    code.value,
                    rule.label,
                    f"AAPOR category {rule.category.value} (nearest AAPOR code "
                    f"{rule.aapor_code}). {rule.description}",
                )
                for code, rule in RULES.items()
            ),
        ),
        *_code_list(
            "AAPOR category (dispositions.aapor_category)",
            ((c.value, c.label, AAPOR_MEANINGS[c]) for c in AaporCategory),
        ),
        *_code_list(
            "Contact channel (contact_attempts.channel)",
            (
                (c.value, c.label, f"The attempt was made by {c.label.lower()}.")
                for c in ContactChannel
            ),
        ),
        *_code_list(
            "Organisation kind (organisations.kind, roles.organisation_kind)",
            ((k.value, k.label, _kind_meaning(k)) for k in OrganisationKind),
        ),
        *_code_list(
            "Interview mode (appointments.mode)",
            (
                (m.value, m.label, f"The interview was (to be) held: {m.label.lower()}.")
                for m in AppointmentMode
            ),
        ),
        *_code_list(
            "Appointment outcome (appointments.outcome)",
            ((a.value, a.label, APPOINTMENT_MEANINGS[a]) for a in AppointmentStatus),
        ),
        *_code_list(
            "Consent method (consents.method)",
            ((m.value, m.label, f"Consent was given {m.value}.") for m in ConsentMethod),
        ),
        *_code_list(
            "Data handling after withdrawal (consents.data_handling)",
            ((d.value, d.label, d.label + ".") for d in DataHandling),
        ),
    ]


def _coverage_section() -> list[str]:
    """How the coverage cases and rates are defined."""
    return [
        "## Coverage and rates",
        "",
        "Every participant of a cell is one case with one final disposition:",
        "",
        *_table(("Case", "Meaning"), rates.CASE_DEFINITIONS),
        "There are no partial interviews, and cases of unknown eligibility are all counted "
        'as eligible (AAPOR\'s conservative "1" formulas). A rate whose denominator is 0 is '
        "left empty.",
        "",
        *_table(
            ("Field", "Rate", "Definition"),
            ((f"`{name}`", label, formula) for name, label, formula in rates.DEFINITIONS),
        ),
    ]


def _reading_section() -> list[str]:
    """How to read the package with common tools."""
    return [
        "## Reading the package",
        "",
        "- Python: `frictionless validate datapackage.json`; or pandas, reading each CSV with "
        "the types its schema declares.",
        "- SQL: create one table per resource from its schema (primary and foreign keys "
        "included) and load the CSV files in the order they are listed in datapackage.json, "
        "which puts every referenced table before the tables that refer to it.",
        "",
    ]


def _kind_meaning(kind: OrganisationKind) -> str:
    return {
        OrganisationKind.DWP: "The Department for Work and Pensions.",
        OrganisationKind.JCP: "Jobcentre Plus.",
        OrganisationKind.LEAD_PROVIDER: "A provider holding a contract with the department.",
        OrganisationKind.SUBCONTRACTOR: "A provider working for a lead provider.",
        OrganisationKind.OTHER: "Any other organisation.",
    }[kind]
