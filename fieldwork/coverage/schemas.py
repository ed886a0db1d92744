"""Quota coverage as the API answers it: every figure of the dashboard."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from fieldwork.api.schemas import Arguments, Resource
from fieldwork.coverage.rates import DEFINITIONS
from fieldwork.sampling.queries import MAX_SLUG_LENGTH


def _count(description: str, **kwargs: Any) -> fields.Integer:
    return fields.Integer(
        validate=validate.Range(min=0), metadata={"description": description}, **kwargs
    )


def _name(description: str) -> fields.String:
    return fields.String(allow_none=True, metadata={"description": description})


CELL_KINDS = ("role_phase", "role_district", "kind_phase", "phase_total", "overall")

CoverageCell = type(
    "CoverageCell",
    (Resource,),
    {
        "__doc__": "The figures of one cell of the sample.",
        "cell": fields.String(
            validate=validate.OneOf(CELL_KINDS),
            metadata={
                "description": "What the row is: a role × phase cell, a finer cell (role × "
                "district, organisation kind × phase), a phase's total or the overall total."
            },
        ),
        "role": _name("The role's name, when the cell has one."),
        "phase": _name("The phase's name, when the cell has one."),
        "district": _name("For a role × district cell."),
        "organisation_kind": _name("For a kind × phase cell."),
        "target": _count("People to interview; null: no target.", allow_none=True),
        "participants": _count("People in the cell's sample."),
        "achieved": _count(
            "People with an interview held and consent to take part that stands (or was "
            "withdrawn with the data kept); each person once."
        ),
        "booked": _count("People not achieved with an interview booked ahead."),
        "pipeline": _count("People who agreed, with no interview booked ahead (not achieved)."),
        "approached": _count("People contacted who have not agreed yet."),
        "not_approached": _count("People never contacted."),
        "closed": _count("Declined, ineligible or withdrawn (not achieved)."),
        "needed": _count("Target − achieved, at least 0.", allow_none=True),
        "uncovered": _count("Target − achieved − booked, at least 0.", allow_none=True),
        "cases_interview": _count("AAPOR I."),
        "cases_refusal": _count("AAPOR R (refusals and break-offs)."),
        "cases_non_contact": _count("AAPOR NC."),
        "cases_other": _count("AAPOR O (eligible, reached, no interview yet)."),
        "cases_unknown_eligibility": _count("AAPOR U (never tried)."),
        "cases_not_eligible": _count("AAPOR NE (left out of rates)."),
        "held_appointments": _count("Appointments held."),
        "no_show_appointments": _count("Appointments missed."),
        "late_cancellations": _count("Appointments cancelled late."),
        **{
            key: fields.Float(
                allow_none=True,
                validate=validate.Range(min=0, max=1),
                metadata={"description": f"{name}: {formula}; null when nothing to divide by."},
            )
            for key, name, formula in DEFINITIONS
        },
    },
)


class CoverageWeek(Resource):
    """One week of progress (weeks run Monday to Sunday, by UTC day)."""

    starts_on = fields.Date(metadata={"description": "A Monday."})
    held = _count("People first interviewed (achieved) that week.")
    cumulative = _count("Achieved by the end of the week.")
    booked = _count("Appointments booked ahead for that week.")
    projected = _count("Achieved plus booked up to that week.")
    is_future = fields.Boolean(metadata={"description": "After the current week."})


class CoverageDefinition(Resource):
    """How a rate is computed."""

    key = fields.String()
    name = fields.String()
    formula = fields.String()


class Coverage(Resource):
    """Quota coverage of a study: every figure of the dashboard."""

    study = fields.String(attribute="study.slug", metadata={"description": "The study's slug."})
    generated_at = fields.AwareDateTime()
    total_target = _count("Sum of the role × phase targets.")
    cells = fields.List(fields.Nested(CoverageCell))
    weeks = fields.List(fields.Nested(CoverageWeek))
    definitions = fields.List(fields.Nested(CoverageDefinition))


class StudyArguments(Arguments):
    """The deprecated `?study=` form of naming the study."""

    study = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_SLUG_LENGTH),
        metadata={"description": "The study's slug, e.g. pl-pathways."},
    )
