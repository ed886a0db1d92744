"""The pipeline pages: the board, one interview's steps, the step editor, uploaded files.

Everyone logged in sees the board (interviewers their own interviews) and records the steps
of interviews they may work on; coordinators edit the study's steps. Uploaded files are served
only to a logged-in user who may see the interview, as attachments.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from fieldwork.accounts.access import coordinator_required
from fieldwork.core.pagination import Page, parse_page_number
from fieldwork.core.studies import require_study
from fieldwork.pipeline import forms
from fieldwork.pipeline.board import COLUMN_LIMIT, board_of, interview_progress
from fieldwork.pipeline.models import PipelineSetting, PipelineStep
from fieldwork.pipeline.recording import (
    entry_for,
    get_held_interview,
    record_step,
    stored_path,
    undo_step,
    upload_settings,
)
from fieldwork.pipeline.steps import (
    PipelineError,
    StepSpec,
    achieved_step,
    save_steps,
    setting_of,
    steps_of,
)
from fieldwork.sampling.models import Study
from fieldwork.scheduling.models import Appointment, AppointmentStatus

blueprint = Blueprint("pipeline", __name__)

PER_PAGE = 50


@blueprint.get("/pipeline")
def board():
    study = require_study()
    current = board_of(study, current_user)
    raw_step = request.args.get("step", "")
    column = None
    page = None
    if raw_step:
        column = next((c for c in current.columns if c.key == raw_step), None)
        if column is None:
            flash("That step is not in this study's pipeline; showing every step.", "error")
            return redirect(url_for("pipeline.board"))
        number = parse_page_number(request.args.get("page"))
        total = len(column.interviews)
        last = max(1, -(-total // PER_PAGE))
        number = min(number, last)
        start = (number - 1) * PER_PAGE
        page = Page(column.interviews[start : start + PER_PAGE], number, PER_PAGE, total)
    return render_template(
        "pipeline/board.html",
        study=study,
        board=current,
        column=column,
        page=page,
        column_limit=COLUMN_LIMIT,
        achieved_step=achieved_step(study),
    )


def _interview_or_404(appointment_id: int):
    appointment = get_held_interview(appointment_id, current_user)
    if appointment is None:
        abort(404, "There is no such interview, or it is not yours.")
    return appointment


@blueprint.route("/pipeline/interviews/<int:appointment_id>", methods=["GET", "POST"])
def interview(appointment_id: int):
    study = require_study()
    appointment = _interview_or_404(appointment_id)
    if appointment.study_id != study.id:
        abort(404, "That interview belongs to another study; choose its study first.")
    if appointment.status != AppointmentStatus.HELD:
        flash(
            "The pipeline starts once the interview is marked held: record its outcome first.",
            "info",
        )
        return redirect(url_for("scheduling.appointment", appointment_id=appointment.id))
    reference = appointment.participant.reference  # before a commit expires the appointment
    record_form = forms.RecordStepForm()
    undo_form = forms.UndoStepForm()
    action = request.form.get("action", "") if request.method == "POST" else ""
    if request.method == "POST" and action not in ("record", "undo"):
        flash("Choose what to do: record a step, or record that one was undone.", "error")
        return redirect(url_for("pipeline.interview", appointment_id=appointment.id))
    recorded = (
        action == "record"
        and record_form.validate_on_submit()
        and _record(study, appointment, record_form)
    )
    if recorded:
        flash(f"Recorded “{recorded}” for {reference}.", "success")
        return redirect(url_for("pipeline.interview", appointment_id=appointment_id))
    if action == "undo" and undo_form.validate_on_submit() and _undo(appointment, undo_form):
        flash("Recorded that the step was undone.", "success")
        return redirect(url_for("pipeline.interview", appointment_id=appointment_id))
    if undo_form.errors:
        # The undo forms are one per step, so the summary names the problem without a link.
        for problem in (*undo_form.entry_id.errors, *undo_form.undo_note.errors):
            undo_form.form_errors.append(problem)
        undo_form.entry_id.errors = []
        undo_form.undo_note.errors = []
    progress = interview_progress(appointment, study)
    if progress.current is not None and not record_form.step_id.data:
        record_form.step_id.data = str(progress.current.step.id)
    uploads_enabled, upload_limit, _ = upload_settings()
    status = 422 if record_form.errors or record_form.form_errors else 200
    if undo_form.errors or undo_form.form_errors:
        status = 422
    return render_template(
        "pipeline/interview.html",
        study=study,
        appointment=appointment,
        progress=progress,
        record_form=record_form,
        undo_form=undo_form,
        uploads_enabled=uploads_enabled,
        upload_limit_mb=upload_limit // (1024 * 1024),
    ), status


def _record(study: Study, appointment: Appointment, form: forms.RecordStepForm) -> str | None:
    """Record the step the form names; the step's name when done, else None with the refusal
    among the form's errors."""
    upload = form.upload.data
    has_upload = upload is not None and bool(getattr(upload, "filename", ""))
    try:
        entry = record_step(
            appointment,
            int(form.step_id.data) if form.step_id.data.isdigit() else 0,
            current_user,
            note=form.note.data or "",
            file_name=form.file_name.data or "",
            location=form.location.data or "",
            checksum=form.checksum.data or "",
            upload=upload.stream if has_upload else None,
            upload_name=upload.filename if has_upload else "",
        )
    except PipelineError as error:
        form.form_errors.append(str(error))
        return None
    return next(s.name for s in steps_of(study) if s.id == entry.step_id)


def _undo(appointment: Appointment, form: forms.UndoStepForm) -> bool:
    """Record that the step the form names was undone; True when done."""
    raw = form.entry_id.data or ""
    try:
        undo_step(appointment, int(raw) if raw.isdigit() else 0, current_user, form.undo_note.data)
    except PipelineError as error:
        form.form_errors.append(str(error))
        return False
    return True


@blueprint.get("/pipeline/interviews/<int:appointment_id>/files/<int:step_id>")
def download(appointment_id: int, step_id: int):
    study = require_study()
    appointment = _interview_or_404(appointment_id)
    if appointment.study_id != study.id or appointment.status != AppointmentStatus.HELD:
        flash("That interview has no files in the pipeline.", "info")
        return redirect(url_for("pipeline.board"))
    entry = entry_for(appointment, step_id)
    path = stored_path(entry) if entry is not None else None
    if entry is None or path is None:
        flash("No uploaded file is kept for that step.", "info")
        return redirect(url_for("pipeline.interview", appointment_id=appointment.id))
    response = send_file(
        path,
        as_attachment=True,
        download_name=entry.file_name or f"interview-{appointment.id}-step-{step_id}",
        mimetype="application/octet-stream",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.route("/pipeline/steps", methods=["GET", "POST"])
@coordinator_required
def steps():
    study = require_study()
    current = steps_of(study)
    form = (
        forms.StepsForm() if request.method == "POST" else _steps_form(current, setting_of(study))
    )
    names = [step.name for step in current]
    form.achieved_step.choices = [SelectChoice("", "Held (no step)")] + [
        SelectChoice(name, name) for name in names
    ]
    form.anonymised_step.choices = [SelectChoice("", "None of these")] + [
        SelectChoice(name, name) for name in names
    ]
    if form.validate_on_submit():
        try:
            save_steps(
                study,
                _specs_from(form),
                form.achieved_step.data,
                form.anonymised_step.data,
                current_user,
            )
        except PipelineError as error:
            form.form_errors.append(str(error))
        else:
            flash("Saved the steps after the interview.", "success")
            return redirect(url_for("pipeline.steps"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("pipeline/steps.html", study=study, form=form), status


def _steps_form(current: list[PipelineStep], setting: PipelineSetting) -> forms.StepsForm:
    """The step editor filled with the study's steps, an empty row for a new one, and the
    settings' chosen steps by name."""
    by_id = {step.id: step for step in current}
    achieved = by_id.get(setting.achieved_step_id) if setting.achieved_step_id else None
    anonymised = by_id.get(setting.anonymised_step_id) if setting.anonymised_step_id else None
    return forms.StepsForm(
        data={
            "steps": [
                {
                    "step_id": str(step.id),
                    "name": step.name,
                    "due_working_days": step.due_working_days,
                    "position": step.position,
                }
                for step in current
            ]
            + [{"position": len(current) + 1}],
            "achieved_step": achieved.name if achieved else "",
            "anonymised_step": anonymised.name if anonymised else "",
        }
    )


def _specs_from(form: forms.StepsForm) -> list[StepSpec]:
    """The editor's rows as step specs; the empty row for a new step is left out."""
    specs = []
    for index, row in enumerate(form.steps):
        data = row.form
        raw_id = data.step_id.data or ""
        name = (data.name.data or "").strip()
        if not raw_id and not name:
            continue
        specs.append(
            StepSpec(
                id=None if not raw_id else int(raw_id) if raw_id.isdigit() else -1,
                name=name,
                due_working_days=data.due_working_days.data,
                position=data.position.data or index + 1,
                remove=bool(data.remove.data),
            )
        )
    return specs
