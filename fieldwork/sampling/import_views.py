"""Importing a sample frame from a CSV file: upload, check and preview, then confirm."""

from __future__ import annotations

import io
import os

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import HiddenField
from wtforms.validators import InputRequired, Length, Regexp

from fieldwork import PROJECT_ROOT
from fieldwork.accounts.access import coordinator_required
from fieldwork.core.studies import require_study
from fieldwork.sampling.imports import columns, reader, uploads, writer
from fieldwork.sampling.imports.plan import FrameImportError, ImportProblem
from fieldwork.sampling.models import Study

blueprint = Blueprint("imports", __name__)

EXAMPLE_FILE = os.path.join(PROJECT_ROOT, "examples", "sample-frame.csv")
#: The problems table shows this many; the command line prints them all.
SHOWN_PROBLEMS = 1000


class UploadForm(FlaskForm):
    file = FileField(
        "CSV file",
        description="A .csv file saved as UTF-8 (“CSV UTF-8” in Excel), at most "
        f"{columns.MAX_FILE_BYTES // (1024 * 1024)} MB and "
        f"{columns.MAX_ROWS:,} rows.",
        validators=[
            FileRequired("Choose a CSV file to import."),
            FileAllowed(["csv"], "The file must be a CSV file whose name ends in .csv."),
            FileSize(
                max_size=columns.MAX_FILE_BYTES,
                message=f"The file is larger than "
                f"{columns.MAX_FILE_BYTES // (1024 * 1024)} MB; split it into "
                "smaller files.",
            ),
        ],
        render_kw={"accept": ".csv"},
    )


class ConfirmForm(FlaskForm):
    """The preview's button: names the uploaded file kept on the server, and the study."""

    token = HiddenField(
        validators=[InputRequired(), Regexp(uploads.UploadStore.TOKEN_PATTERN.pattern)]
    )
    study_id = HiddenField(validators=[InputRequired(), Regexp(r"^\d{1,18}$")])
    filename = HiddenField(validators=[Length(max=255)])


def _store() -> uploads.UploadStore:
    return uploads.upload_store(current_app)


def _display_name(filename: str | None) -> str:
    """The uploaded file's own name (no folders), for messages; the text is escaped on pages."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:200] or "the file"


def _problems_page(study: Study, form: UploadForm, filename: str, problems: list[ImportProblem]):
    return render_template(
        "imports/upload.html",
        study=study,
        form=form,
        filename=filename,
        problems=problems[:SHOWN_PROBLEMS],
        problem_count=len(problems),
        columns=columns.COLUMNS,
    ), 422


@blueprint.route("/import", methods=["GET", "POST"])
@coordinator_required
def upload():
    study = require_study()
    form = UploadForm()
    if form.validate_on_submit():
        data = form.file.data.read()
        filename = _display_name(form.file.data.filename)
        plan = reader.read_frame(study, data)
        if plan.problems:
            return _problems_page(study, form, filename, plan.problems)
        token = _store().save(data)
        confirm_form = ConfirmForm(
            formdata=None, token=token, study_id=str(study.id), filename=filename
        )
        return render_template(
            "imports/preview.html",
            study=study,
            plan=plan,
            filename=filename,
            form=confirm_form,
            preview=plan.preview(),
        )
    return render_template(
        "imports/upload.html", study=study, form=form, problems=None, columns=columns.COLUMNS
    ), 422 if form.errors else 200


@blueprint.post("/import/confirm")
@coordinator_required
def confirm():
    study = require_study()
    form = ConfirmForm()
    store = _store()
    data = store.load(form.token.data) if form.validate() else None
    if data is None:
        flash(
            "That upload has expired or has already been imported. Upload the file again.", "error"
        )
        return redirect(url_for("imports.upload"))
    try:
        if form.study_id.data != str(study.id):
            flash(
                f"You switched to {study.name} after the preview, so nothing was imported. "
                "Upload the file again to import it into this study.",
                "error",
            )
            return redirect(url_for("imports.upload"))
        # Checked again as it is written: the study may have changed since the preview.
        plan = writer.import_frame(study, reader.CsvFrame.from_bytes(data), current_user)
        if plan.result is None:
            return _problems_page(
                study, UploadForm(formdata=None), _display_name(form.filename.data), plan.problems
            )
        result = plan.result
    except FrameImportError as error:
        flash(str(error), "error")
        return redirect(url_for("imports.upload"))
    finally:
        store.discard(form.token.data)
    flash(
        f"Imported {result.total} participant{'s' if result.total != 1 else ''} "
        f"({result.created} new, {result.updated} updated).",
        "success",
    )
    return redirect(url_for("sampling.participants"))


@blueprint.get("/import/example.csv")
def example():
    """The example file from the repository: a dozen people for the demo study."""
    with open(EXAMPLE_FILE, "rb") as handle:
        data = io.BytesIO(handle.read())
    return send_file(
        data, mimetype="text/csv", as_attachment=True, download_name="sample-frame.csv", max_age=0
    )
