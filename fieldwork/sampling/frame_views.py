"""The frame's blueprint, what its pages share, and the study pages.

The pages of phases, districts, organisations and roles (phase_views, district_views,
organisation_views, role_views) add their routes to this blueprint: their own list and record
pages, and add, edit and delete pages built here from a `RecordPages` each. Everything but the study
pages belongs to the current study: a record of another study asked for by id answers 404.
Anyone logged in may read; only coordinators may change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from fieldwork.accounts import services as accounts
from fieldwork.accounts.access import administrator_required, coordinator_required
from fieldwork.core.pagination import parse_page_number
from fieldwork.core.studies import current_study, require_study
from fieldwork.sampling import services
from fieldwork.sampling.frame import studies as study_services
from fieldwork.sampling.frame_forms import (
    DeleteStudyForm,
    StudyForm,
)
from fieldwork.sampling.models import Study
from fieldwork.sampling.services import FrameError

blueprint = Blueprint("frame", __name__)


def show_error(form: FlaskForm, error: FrameError) -> None:
    """Put a service's refusal beside the field it names, or above the form (the service's
    transaction has already rolled its change back)."""
    field = getattr(form, getattr(error, "field", "") or "", None)
    if field is None:
        form.form_errors.append(str(error))
    else:
        field.errors = [*field.errors, str(error)]


def form_page(form: FlaskForm, **context):
    """The shared form page; 422 when it shows errors, as the participant pages do."""
    return render_template("frame/form.html", form=form, **context), (422 if form.errors else 200)


def _confirm_delete(
    what: str, reason: str | None, cancel_url: str, consequence: str = "", status: int = 200
):
    return render_template(
        "frame/confirm_delete.html",
        what=what,
        reason=reason,
        cancel_url=cancel_url,
        consequence=consequence,
    ), status


def delete_flow(found, delete, why_not, cancel_url: str, done_url: str, consequence: str = ""):
    """The confirm-then-delete page of a frame record: GET asks (or says why it cannot go),
    POST deletes, or answers 409 with the reason when something still uses the record."""
    if request.method != "POST":
        return _confirm_delete(found.name, why_not(found), cancel_url, consequence)
    name = found.name
    try:
        delete(found)
    except FrameError as error:
        return _confirm_delete(name, str(error), cancel_url, status=409)
    flash(f"{name} has been deleted.", "success")
    return redirect(done_url)


@dataclass(frozen=True)
class RecordPages:
    """What differs between the add, edit and delete pages of phases, districts, organisations
    and roles; `add_record_pages` builds the three pages of each from one of these.

    `noun` names the endpoints (`frame.new_<noun>`, `frame.edit_<noun>`, `frame.delete_<noun>`,
    and the record's own page `frame.<noun>` taking `<noun>_id`) and the paths (`/<noun>s/...`).
    """

    noun: str
    list_endpoint: str
    list_label: str
    get: Callable[[Study, int], Any]
    #: The add page's form (record None) or the edit page's, with the study's choices.
    make_form: Callable[[Study, Any], FlaskForm]
    #: The service's keyword arguments from a valid form.
    fields: Callable[[Any], dict[str, Any]]
    save: Callable[..., Any]
    delete: Callable[[Any], None]
    why_not_delete: Callable[[Any], str | None]
    add_heading: Callable[[Study], str]
    add_submit: str
    #: Fills in the add page's form on GET (a suggested number, a phase from the address).
    prefill: Callable[[Any, Study], None] | None = None
    short_fields: tuple[str, ...] = ()
    delete_consequence: str = ""

    def found_or_404(self, record_id: int) -> Any:
        found = self.get(require_study(), record_id)
        if found is None:
            abort(404)
        return found

    def record_url(self, record: Any) -> str:
        return url_for(f"frame.{self.noun}", **{f"{self.noun}_id": record.id})


def _save_page(pages: RecordPages, form: FlaskForm, found: Any, **context: Any):
    """Validate, save through the service, then flash and go to the record, or show the form."""
    if form.validate_on_submit():
        try:
            saved = pages.save(require_study(), found, **pages.fields(form))
        except FrameError as error:
            show_error(form, error)
        else:
            flash(f"{saved.name} is {'added' if found is None else 'saved'}.", "success")
            return redirect(pages.record_url(saved))
    return form_page(form, short_fields=pages.short_fields, **context)


def add_record_pages(pages: RecordPages) -> None:
    """Add the record's add, edit and delete pages (coordinators only) to the blueprint."""
    noun = pages.noun

    def new_record():
        current = require_study()
        form = pages.make_form(current, None)
        if request.method == "GET" and pages.prefill is not None:
            pages.prefill(form, current)
        list_url = url_for(pages.list_endpoint)
        return _save_page(
            pages,
            form,
            None,
            heading=pages.add_heading(current),
            submit=pages.add_submit,
            crumbs=[(pages.list_label, list_url)],
            cancel_url=list_url,
        )

    def edit_record(**view_args: int):
        found = pages.found_or_404(view_args[f"{noun}_id"])
        form = pages.make_form(require_study(), found)
        return _save_page(
            pages,
            form,
            found,
            heading=f"Edit {found.name}",
            submit="Save",
            crumbs=[
                (pages.list_label, url_for(pages.list_endpoint)),
                (found.name, pages.record_url(found)),
            ],
            cancel_url=pages.record_url(found),
        )

    def delete_record(**view_args: int):
        found = pages.found_or_404(view_args[f"{noun}_id"])
        return delete_flow(
            found,
            pages.delete,
            pages.why_not_delete,
            pages.record_url(found),
            url_for(pages.list_endpoint),
            consequence=pages.delete_consequence,
        )

    methods = ["GET", "POST"]
    record = f"/{noun}s/<int:{noun}_id>"
    add = blueprint.add_url_rule
    add(f"/{noun}s/new", f"new_{noun}", coordinator_required(new_record), methods=methods)
    add(f"{record}/edit", f"edit_{noun}", coordinator_required(edit_record), methods=methods)
    add(f"{record}/delete", f"delete_{noun}", coordinator_required(delete_record), methods=methods)


def page_number() -> int:
    return parse_page_number(request.args.get("page"))


def is_filtered(form) -> bool:
    return any(request.args.get(name) for name in form.data)


# --- Studies ---------------------------------------------------------------------------------


def _study_or_404(slug: str) -> Study:
    study = services.get_study_by_slug(slug)
    if study is None:
        abort(404)
    return study


def _study_fields(form: StudyForm) -> dict:
    return {
        name: form[name].data
        for name in (
            "name",
            "slug",
            "description",
            "timezone",
            "fieldwork_starts_on",
            "fieldwork_ends_on",
            "organiser_name",
            "organiser_email",
            "interview_minutes",
        )
    }


@blueprint.get("/studies")
def studies():
    return render_template("frame/studies.html", rows=study_services.study_rows())


@blueprint.get("/studies/<slug>")
def study(slug: str):
    found = _study_or_404(slug)
    current = current_study()
    return render_template(
        "frame/study.html",
        study=found,
        summary=study_services.study_summary(found),
        is_current=current is not None and current.id == found.id,
    )


@blueprint.route("/studies/new", methods=["GET", "POST"])
@administrator_required
def new_study():
    form = StudyForm()
    if form.validate_on_submit():
        try:
            created = study_services.save_study(None, **_study_fields(form))
        except FrameError as error:
            show_error(form, error)
        else:
            # Studies are the unit of access: whoever creates one coordinates it.
            accounts.set_membership(current_user, created.id, "coordinator")
            services.select_study(created.id)
            flash(
                f"The study {created.name} is created, and you are now working on it. "
                "Add its phases next.",
                "success",
            )
            return redirect(url_for("frame.study", slug=created.slug))
    return form_page(
        form,
        heading="Create a study",
        submit="Create study",
        crumbs=[("Studies", url_for("frame.studies"))],
        cancel_url=url_for("frame.studies"),
        short_fields=("interview_minutes", "slug"),
    )


@blueprint.route("/studies/<slug>/edit", methods=["GET", "POST"])
@coordinator_required
def edit_study(slug: str):
    found = _study_or_404(slug)
    form = StudyForm(obj=found)
    if form.validate_on_submit():
        try:
            saved = study_services.save_study(found, **_study_fields(form))
        except FrameError as error:
            show_error(form, error)
        else:
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("frame.study", slug=saved.slug))
    return form_page(
        form,
        heading=f"Edit {found.name}",
        submit="Save",
        crumbs=[
            ("Studies", url_for("frame.studies")),
            (found.name, url_for("frame.study", slug=found.slug)),
        ],
        cancel_url=url_for("frame.study", slug=found.slug),
        short_fields=("interview_minutes", "slug"),
    )


@blueprint.route("/studies/<slug>/delete", methods=["GET", "POST"])
@administrator_required
def delete_study(slug: str):
    found = _study_or_404(slug)
    form = DeleteStudyForm()
    if form.validate_on_submit():
        name = found.name
        try:
            study_services.delete_study(found, form.confirm_name.data, current_user)
        except FrameError as error:
            show_error(form, error)
        else:
            flash(f"The study {name} and its whole sample frame have been deleted.", "success")
            return redirect(url_for("frame.studies"))
    return render_template(
        "frame/delete_study.html",
        study=found,
        form=form,
        summary=study_services.study_summary(found),
    ), 422 if form.errors else 200
