"""Home page, study switcher and participant pages."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from fieldwork.accounts import services as accounts
from fieldwork.accounts.access import coordinator_required
from fieldwork.audit.services import record_download
from fieldwork.core.downloads import csv_download
from fieldwork.core.pagination import paginate, parse_page_number
from fieldwork.core.studies import current_study, require_study
from fieldwork.sampling import bulk, queries, services
from fieldwork.sampling.forms import ParticipantFilterForm, ParticipantForm
from fieldwork.sampling.models import (
    OrganisationKind,
    RecruitmentStatus,
    Study,
)

blueprint = Blueprint("sampling", __name__)


@blueprint.get("/study")
def overview():
    """The study at a glance: dates, zone, organiser, the sample's counts (one click from
    the home page)."""
    study = current_study()
    if study is None:
        return render_template("sampling/no_study.html")
    return render_template(
        "sampling/overview.html", study=study, overview=services.study_overview(study)
    )


@blueprint.post("/study/select")
def select_study():
    raw = request.form.get("study_id", "")
    if not raw.isdigit() or services.select_study(int(raw)) is None:
        flash("That study does not exist.", "error")
    return redirect(url_for("home.index"))


# --- Participants ----------------------------------------------------------------------------


def _filter_form(study: Study, frame: services.FrameNames) -> ParticipantFilterForm:
    form = ParticipantFilterForm(request.args)
    form.phase.choices = [("", "Any phase"), *frame.phases]
    form.district.choices = [("", "Any district")] + [
        (id_, name) for id_, name, _ in frame.districts
    ]
    form.role.choices = [("", "Any role"), *frame.roles]
    form.organisation.choices = [("", "Any organisation"), *frame.organisations]
    return form


#: The list's sortable columns, in table order: (URL value, heading).
SORT_HEADINGS = [
    ("reference", "Reference"),
    ("name", "Name"),
    ("role", "Role"),
    ("organisation", "Organisation"),
    ("district", "District"),
    ("phase", "Phase"),
    ("interviewer", "Interviewer"),
    ("status", "Status"),
]


def list_filters(
    study: Study, frame: services.FrameNames | None = None
) -> tuple[ParticipantFilterForm, services.ParticipantFilters]:
    """The list's filters and order from the query string (bad values fall back); the other
    domains' downloads of the filtered list (bulk.ListDownload) read them too. `frame`: the
    study's names, when the caller has them already."""
    form = _filter_form(study, frame or services.frame_names(study))
    sort = request.args.get("sort", "reference")
    if sort not in services.SORT_COLUMNS:
        sort = "reference"
    descending = request.args.get("dir") == "desc"
    filters = services.ParticipantFilters(sort=sort, descending=descending)
    if form.validate():
        filters = services.ParticipantFilters(
            search=form.q.data or "",
            phase_id=form.phase.data,
            district_id=form.district.data,
            role_id=form.role.data,
            organisation_kind=OrganisationKind(form.kind.data) if form.kind.data else None,
            organisation_id=form.organisation.data,
            status=RecruitmentStatus(form.status.data) if form.status.data else None,
            sort=sort,
            descending=descending,
        )
    return form, filters


@blueprint.get("/participants")
def participants():
    study = require_study()
    frame = services.frame_names(study)
    form, filters = list_filters(study, frame)
    page = paginate(
        services.participant_query(study, filters, current_user, with_frame=False),
        parse_page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
        bounded=True,
    )
    bulk_form = None
    if current_user.is_coordinator:
        bulk_form = bulk.bulk_form(study)
    return render_template(
        "sampling/participants.html",
        study=study,
        frame=frame,
        form=form,
        page=page,
        filters=filters,
        sort_headings=SORT_HEADINGS,
        bulk_form=bulk_form,
        bulk_actions=bulk.bulk_actions() if bulk_form else [],
        list_downloads=bulk.list_downloads(),
        is_filtered=any(request.args.get(k) for k in form.data),
    )


@blueprint.get("/participants.csv")
@coordinator_required
def participants_csv():
    """The filtered list, every page of it, in the list's order."""
    study = require_study()
    _form, filters = list_filters(study)
    rows = services.participant_rows(study, filters, current_user)
    record_download(current_user, study.id, "the participant list as CSV")
    return csv_download(f"participants-{study.slug}", services.PARTICIPANT_CSV_HEADER, rows)


def _back_to_list() -> str:
    """Where a bulk action returns: the list as it was filtered (only ever the list)."""
    target = request.form.get("next", "")
    if target.startswith("/participants?") and "//" not in target and "\\" not in target:
        return target
    return url_for("sampling.participants")


@blueprint.post("/participants/bulk")
@coordinator_required
def bulk_action():
    """Apply the pressed button's action to the checked participants, then go back."""
    study = require_study()
    action = request.form.get("action", "")
    form = bulk.bulk_form(study, request.form)
    chosen = services.participants_by_ids(
        study, bulk.selected_ids(request.form.getlist("participant_ids"))
    )
    handler = bulk.bulk_action(action)
    if handler is None:
        flash("Choose what to do with the selected participants.", "error")
        return redirect(_back_to_list())
    if not chosen:
        flash("Select at least one participant first (tick the boxes in the list).", "error")
        return redirect(_back_to_list())
    form.validate()
    problem, result, verb = handler.handle(study, form, chosen)
    if problem:
        flash(problem, "error")
    elif result is not None:
        flash(result.summary(verb), "success" if result.done else "warning")
    return redirect(_back_to_list())


@blueprint.get("/participants/<int:participant_id>")
def participant(participant_id: int):
    person = services.get_participant(participant_id, current_user)
    if person is None:
        abort(404)
    interviewers = accounts.list_interviewers() if current_user.is_coordinator else []
    return render_template(
        "sampling/participant.html", participant=person, interviewers=interviewers
    )


def _participant_form(study: Study, **kwargs) -> ParticipantForm:
    form = ParticipantForm(**kwargs)
    form.organisation_id.choices = [("", "Choose an organisation")] + [
        (o.id, f"{o.name} ({o.kind.label})") for o in services.organisations_of(study)
    ]
    form.role_id.choices = [("", "Choose a role")] + [
        (r.id, f"{r.name} ({r.organisation_kind.label})") for r in services.roles_of(study)
    ]
    form.district_id.choices = [("", "Choose a district")] + [
        (d.id, f"{d.name} ({d.phase.name})") for d in services.districts_of(study)
    ]
    form.interviewer_id.choices = [("", "Nobody yet")] + [
        (u.id, u.name) for u in accounts.list_interviewers()
    ]
    return form


def _save(study: Study, form: ParticipantForm, person=None):
    """Save a validated participant form, or put the rule it breaks beside the field."""
    organisation = queries.get_organisation(form.organisation_id.data)
    role = queries.get_role(form.role_id.data)
    district = queries.get_district(form.district_id.data)
    interviewer = accounts.get_user(form.interviewer_id.data) if form.interviewer_id.data else None
    try:
        return services.save_participant(
            study,
            person,
            organisation=organisation,
            role=role,
            district=district,
            interviewer=interviewer,
            name=form.name.data,
            job_title=form.job_title.data,
            email=form.email.data,
            phone=form.phone.data,
            notes=form.notes.data,
        )
    except services.FrameError as error:
        target = form.email if "email" in str(error) else form.role_id
        target.errors = [*target.errors, str(error)]
        return None


@blueprint.route("/participants/new", methods=["GET", "POST"])
@coordinator_required
def new_participant():
    study = require_study()
    form = _participant_form(study)
    if form.validate_on_submit():
        person = _save(study, form)
        if person is not None:
            flash(f"{person.name} is in the sample as {person.reference}.", "success")
            return redirect(url_for("sampling.participant", participant_id=person.id))
    return render_template("sampling/participant_form.html", form=form, participant=None), (
        422 if form.errors else 200
    )


@blueprint.route("/participants/<int:participant_id>/edit", methods=["GET", "POST"])
@coordinator_required
def edit_participant(participant_id: int):
    person = services.get_participant(participant_id)
    if person is None:
        abort(404)
    form = _participant_form(person.study, obj=person)
    if form.validate_on_submit():
        saved = _save(person.study, form, person)
        if saved is not None:
            flash(f"{saved.reference} is saved.", "success")
            return redirect(url_for("sampling.participant", participant_id=saved.id))
    return render_template("sampling/participant_form.html", form=form, participant=person), (
        422 if form.errors else 200
    )


@blueprint.route("/participants/<int:participant_id>/delete", methods=["GET", "POST"])
@coordinator_required
def delete_participant(participant_id: int):
    person = services.get_participant(participant_id)
    if person is None:
        abort(404)
    if request.method == "POST":
        reference = person.reference
        services.delete_participant(person)
        flash(f"{reference} has been deleted from the sample.", "success")
        return redirect(url_for("sampling.participants"))
    return render_template(
        "sampling/confirm_delete.html",
        thing=person,
        what=f"participant {person.reference} ({person.name})",
        cancel_url=url_for("sampling.participant", participant_id=person.id),
    )
