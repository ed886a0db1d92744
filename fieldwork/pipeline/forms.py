"""Forms of the pipeline pages: record a step, undo one, edit the study's steps."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from fieldwork.pipeline.steps import MAX_DUE_DAYS, MAX_STEPS


class RecordStepForm(FlaskForm):
    """The step an interview waits on, done: the file's reference and a note."""

    step_id = HiddenField(validators=[InputRequired("Choose the step to record.")])
    file_name = StringField(
        "File name",
        description="As it is saved, e.g. P1-017_interview.wav.",
        validators=[Optional(), Length(max=255)],
    )
    location = StringField(
        "Where the file is kept",
        description="A folder or system the team can find it in; not a public link.",
        validators=[Optional(), Length(max=500)],
    )
    checksum = StringField(
        "SHA-256 checksum (optional)",
        description="64 hexadecimal digits, e.g. from “sha256sum FILE” or "
        "“Get-FileHash FILE”, so anyone can check later that the file is unchanged.",
        validators=[
            Optional(),
            Regexp(
                r"^\s*[0-9a-fA-F]{64}\s*$",
                message="A SHA-256 checksum is 64 hexadecimal digits (0-9, a-f).",
            ),
        ],
    )
    upload = FileField("Upload the file (optional)")
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=5000)])


class UndoStepForm(FlaskForm):
    """A step consent asked to undo: what was done about it."""

    entry_id = HiddenField(validators=[InputRequired()])
    undo_note = TextAreaField(
        "What was done",
        description="E.g. “audio and transcript deleted from the team drive and the "
        "transcription service's portal”.",
        validators=[
            InputRequired("Say what was done to undo this step."),
            Length(max=5000),
        ],
    )


class StepRowForm(Form):
    """One row of the step editor."""

    step_id = HiddenField()
    name = StringField("Step name", validators=[Optional(), Length(max=120)])
    due_working_days = IntegerField(
        "Due (working days after the interview)",
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_DUE_DAYS, message=f"Between 0 and {MAX_DUE_DAYS}."),
        ],
    )
    position = IntegerField(
        "Order",
        validators=[Optional(), NumberRange(min=1, max=MAX_STEPS + 1, message="A whole number.")],
    )
    remove = BooleanField("Remove this step")


class StepsForm(FlaskForm):
    """The study's steps, and which of them coverage and the export wait for."""

    steps = FieldList(FormField(StepRowForm), min_entries=1, max_entries=MAX_STEPS + 1)
    achieved_step = SelectField(
        "Coverage counts an interview as achieved once this step is done",
        description="“Held” counts it as soon as it is marked held (the coverage dashboard "
        "shows both figures when a step is chosen).",
        validate_choice=False,
    )
    anonymised_step = SelectField(
        "The transcript is anonymised once this step is done",
        description="The open-data export lists these transcripts when consent allows archiving.",
        validate_choice=False,
    )

    def validate_steps(self, field) -> None:
        names = [row.form.name.data for row in field if (row.form.name.data or "").strip()]
        if not names:
            raise ValidationError("Keep at least one step.")
