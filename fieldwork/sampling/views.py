"""Home page, study switcher and participant pages."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

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
    Participant,
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


def _filter_form(study: Study) -> ParticipantFilterForm:
    form = ParticipantFilterForm(request.args)
    form.phase.choices = [("", "Any phase")] + [(p.id, p.name) for p in services.phases_of(study)]
    form.district.choices = [("", "Any district")] + [
        (d.id, d.name) for d in services.districts_of(study)
    ]
    form.role.choices = [("", "Any role")] + [(r.id, r.name) for r in services.roles_of(study)]
    form.organisation.choices = [("", "Any organisation")] + [
        (o.id, o.name) for o in services.organisations_of(study)
    ]
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


def _list_filters(study: Study) -> tuple[ParticipantFilterForm, services.ParticipantFilters]:
    """The list's filters and order from the query string (bad values fall back)."""
    form = _filter_form(study)
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
    form, filters = _list_filters(study)
    page = paginate(
        services.participant_query(study, filters, current_user),
        parse_page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
    )
    bulk_form = None
    if current_user.is_coordinator:
        bulk_form = bulk.bulk_form(study)
    return render_template(
        "sampling/participants.html",
        study=study,
        form=form,
        page=page,
        filters=filters,
        sort_headings=SORT_HEADINGS,
        bulk_form=bulk_form,
        is_filtered=any(request.args.get(k) for k in form.data),
    )


@blueprint.get("/participants.csv")
@coordinator_required
def participants_csv():
    """The filtered list, every page of it, in the list's order."""
    study = require_study()
    _form, filters = _list_filters(study)
    rows = services.participant_rows(study, filters, current_user)
    record_download(current_user, study.id, "the participant list as CSV")
    return csv_download(f"participants-{study.slug}", services.PARTICIPANT_CSV_HEADER, rows)


@blueprint.get("/contact-attempts.csv")
@coordinator_required
def contact_attempts_csv():
    """The contact attempts of the participants the list is filtered to."""
    from fieldwork.recruitment import lists

    study = require_study()
    _form, filters = _list_filters(study)
    participants = services.participant_query(study, filters, current_user)
    record_download(current_user, study.id, "the contact attempts as CSV")
    return csv_download(
        f"contact-attempts-{study.slug}",
        lists.CONTACT_CSV_HEADER,
        lists.contact_attempt_rows(participants, study.timezone),
    )


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
    if action not in bulk.ACTIONS:
        flash("Choose what to do with the selected participants.", "error")
        return redirect(_back_to_list())
    if not chosen:
        flash("Select at least one participant first (tick the boxes in the list).", "error")
        return redirect(_back_to_list())
    form.validate()
    problem, result, verb = _BULK_HANDLERS[action](study, form, chosen)
    if problem:
        flash(problem, "error")
    elif result is not None:
        flash(result.summary(verb), "success" if result.done else "warning")
    return redirect(_back_to_list())


#: What a bulk action gives back: a problem to show (nothing done), or the result and its verb.
BulkOutcome = tuple[str | None, bulk.BulkResult | None, str]


def _bulk_assign(study: Study, form: FlaskForm, chosen: list[Participant]) -> BulkOutcome:
    interviewer = accounts.get_user(form.assign_to.data or 0)
    if form.assign_to.data and (interviewer is None or not interviewer.is_enabled):
        return "Choose who to assign them to.", None, ""
    result = bulk.assign(chosen, interviewer, current_user)
    return (
        None,
        result,
        (f"Assigned to {interviewer.name}" if interviewer else "Assignment removed"),
    )


def _booking_link_problem(form: FlaskForm, interviewer: accounts.User | None) -> str | None:
    """Why the booking-link fields cannot be used, or None."""
    mode = form.link_mode.data or "telephone"
    if form.link_interviewer.data and (interviewer is None or not interviewer.is_enabled):
        return "Choose the interviewer whose free times the links offer."
    if form.link_days.errors or form.link_video.errors or form.link_location.errors:
        return "Check the booking link's details: " + " ".join(
            form.link_days.errors + form.link_video.errors + form.link_location.errors
        )
    if mode == "in_person" and not (form.link_location.data or "").strip():
        return "Enter the place for in-person interviews."
    if form.link_video.data and not form.link_video.data.lower().startswith(
        ("https://", "http://")
    ):
        return "Enter a video link starting with https://."
    return None


def _bulk_booking_links(study: Study, form: FlaskForm, chosen: list[Participant]) -> BulkOutcome:
    interviewer = accounts.get_user(form.link_interviewer.data or 0)
    problem = _booking_link_problem(form, interviewer)
    if problem:
        return problem, None, ""
    from fieldwork.scheduling.models import AppointmentMode

    mode = form.link_mode.data or "telephone"
    result = bulk.send_booking_links(
        chosen,
        interviewer,
        current_user,
        lambda token: url_for("feeds.self_booking", token=token, _external=True),
        mode=AppointmentMode(mode),
        location=form.link_location.data or "" if mode == "in_person" else "",
        video_link=form.link_video.data or "" if mode == "video" else "",
        days=form.link_days.data or 14,
    )
    return None, result, "Booking link emailed"


def _bulk_consent_requests(study: Study, form: FlaskForm, chosen: list[Participant]) -> BulkOutcome:
    from fieldwork.recruitment.consent_versions import get_version

    version = get_version(form.consent_version.data, study) if form.consent_version.data else None
    if version is None or not version.is_published:
        return "Choose the consent form to send.", None, ""
    if form.consent_days.errors:
        return "A consent link can last from 1 to 90 days.", None, ""
    result = bulk.send_consent_requests(
        chosen,
        version,
        current_user,
        lambda token: url_for("recruitment.online_consent", token=token, _external=True),
        form.consent_days.data or 14,
    )
    return None, result, "Consent request emailed"


def _bulk_outcome(study: Study, form: FlaskForm, chosen: list[Participant]) -> BulkOutcome:
    from fieldwork.core.time import now_utc
    from fieldwork.recruitment.dispositions import Disposition
    from fieldwork.recruitment.models import ContactChannel

    if form.disposition.data not in {d.value for d in Disposition}:
        return "Choose the outcome to record.", None, ""
    if form.channel.data not in {c.value for c in ContactChannel} or form.note.errors:
        return "Choose how they were contacted (and keep the note short).", None, ""
    disposition = Disposition(form.disposition.data)
    result = bulk.record_outcome(
        chosen,
        disposition,
        ContactChannel(form.channel.data),
        form.note.data or "",
        current_user,
        now_utc(),
    )
    return None, result, f"“{disposition.label}” recorded"


#: Each bulk action's handler, by the value of the button pressed (bulk.ACTIONS).
_BULK_HANDLERS = {
    "assign": _bulk_assign,
    "booking_links": _bulk_booking_links,
    "consent_requests": _bulk_consent_requests,
    "status": _bulk_outcome,
}


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
