"""The pipeline resources of the export: how far held interviews have gone after the interview
(counts and dates, no names), and the anonymised transcripts consent allows to be archived.

No figure is computed here: `fieldwork.pipeline.figures` counts the steps (one grouped query)
and lists the transcripts; this module lays them out as tables with schemas.
"""

from __future__ import annotations

from sqlalchemy import Select

from fieldwork.exports.package import (
    DatePrecision,
    Field,
    ForeignKey,
    Table,
    coarsen,
    count_field,
    ordinal_field,
)
from fieldwork.pipeline.figures import archivable_transcripts, step_counts
from fieldwork.sampling.models import Study


# Long by design: the resource's field list with a description for each, which
# the Data Package publishes; it is a declaration, not logic.
def _steps_table(study: Study, precision: DatePrecision) -> Table:
    held, counts = step_counts(study)
    return Table(
        "pipeline_steps",
        "Steps after the interview",
        "The study's steps after a held interview (recording received, transcribed, "
        "anonymised, checked, archived, ...), in order, with how many held interviews have done "
        "each. Counts over every held interview of the frame (aggregate, no person).",
        [
            ordinal_field("step_number", "The step's place in the order, 1 first."),
            Field("step", "string", "The step's name, as the study calls it.", {"required": True}),
            count_field(
                "due_working_days",
                "Working days after the interview by which the step is due (weekends and bank "
                "holidays skipped); empty when the study set no due date.",
                required=False,
            ),
            count_field("held_interviews", "Interviews held in the study (the same on every row)."),
            count_field(
                "interviews_done", "Held interviews for which the step is done (and not undone)."
            ),
            count_field(
                "interviews_undone",
                "Steps undone because the participant withdrew asking for their data to be "
                "destroyed.",
            ),
            Field(
                "first_done_on",
                "date",
                f"The first day the step was done for an interview: {precision.meaning}.",
            ),
            Field(
                "last_done_on",
                "date",
                f"The latest day the step was done for an interview: {precision.meaning}.",
            ),
        ],
        ("step_number",),
        rows=[
            (
                count.position,
                count.name,
                count.due_working_days,
                held,
                count.done,
                count.undone,
                coarsen(count.first_done_on, precision),
                coarsen(count.last_done_on, precision),
            )
            for count in counts
        ],
    )


# Long by design: the resource's field list with a description for each, which
# the Data Package publishes; it is a declaration, not logic.
def _transcripts_table(study: Study, archivable: Select, precision: DatePrecision) -> Table:
    rows = []
    numbers: dict[str, int] = {}
    for item in archivable_transcripts(study, archivable):
        numbers[item.reference] = numbers.get(item.reference, 0) + 1
        rows.append(
            (
                item.reference,
                numbers[item.reference],
                coarsen(item.interview_on, precision),
                coarsen(item.anonymised_on, precision),
                coarsen(item.archived_on, precision),
            )
        )
    return Table(
        "archivable_transcripts",
        "Anonymised transcripts that may be archived",
        "Held interviews whose transcript is anonymised (the study's anonymised step is done) "
        "and whose participant's current consent agrees to archiving; a participant who "
        "withdrew asking for their data to be destroyed is never listed. The transcripts "
        "themselves are not in this package.",
        [
            Field(
                "participant_reference",
                "string",
                "The participant's pseudonymous reference (see participants).",
                {"required": True},
                "Participant",
            ),
            ordinal_field(
                "interview_number",
                "1 for the participant's first interview listed here, 2 for the next, ...",
            ),
            Field(
                "interview_on",
                "date",
                f"The date of the interview: {precision.meaning}.",
                {"required": True},
            ),
            Field(
                "anonymised_on",
                "date",
                f"The day the transcript was recorded as anonymised: {precision.meaning}.",
                {"required": True},
            ),
            Field(
                "archived_on",
                "date",
                f"The day the study's last step (archiving, by default) was done: "
                f"{precision.meaning}; empty when not yet.",
            ),
        ],
        ("participant_reference", "interview_number"),
        rows=rows,
        foreign_keys=(
            ForeignKey(("participant_reference",), "participants", ("participant_reference",)),
        ),
        is_person_level=True,
    )


def build(study: Study, archivable: Select, precision: DatePrecision) -> list[Table]:
    """The pipeline tables. `archivable` selects the ids of the participants whose consent
    agrees to archiving (the export's rule for person-level resources)."""
    return [_steps_table(study, precision), _transcripts_table(study, archivable, precision)]
