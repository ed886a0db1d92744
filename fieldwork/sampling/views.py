"""Home page, study switcher and participant pages."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from fieldwork.accounts import services as accounts
from fieldwork.accounts.access import coordinator_required
from fieldwork.core.pagination import paginate, parse_page_number
from fieldwork.extensions import db
from fieldwork.sampling import services
from fieldwork.sampling.forms import ParticipantFilterForm, ParticipantForm
from fieldwork.sampling.models import (
    District,
    Organisation,
    OrganisationKind,
    RecruitmentStatus,
    Role,
    Study,
)

blueprint = Blueprint("sampling", __name__)


def require_study() -> Study:
    """The current study, or a 404 page that says there is none yet."""
    study = services.current_study()
    if study is None:
        abort(404, "There is no study yet. Create one, or load the demo with `flask demo`.")
    return study


@blueprint.get("/study")
def overview():
    """The study at a glance: dates, zone, organiser, the sample's counts (one click from
    the home page)."""
    study = services.current_study()
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


@blueprint.get("/participants")
def participants():
    study = require_study()
    form = _filter_form(study)
    valid = form.validate()
    filters = services.ParticipantFilters()
    if valid:
        filters = services.ParticipantFilters(
            search=form.q.data or "",
            phase_id=form.phase.data,
            district_id=form.district.data,
            role_id=form.role.data,
            organisation_kind=OrganisationKind(form.kind.data) if form.kind.data else None,
            organisation_id=form.organisation.data,
            status=RecruitmentStatus(form.status.data) if form.status.data else None,
        )
    page = paginate(
        services.participant_query(study, filters, current_user),
        parse_page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "sampling/participants.html",
        study=study,
        form=form,
        page=page,
        is_filtered=any(request.args.get(k) for k in form.data),
    )


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
    organisation = db.session.get(Organisation, form.organisation_id.data)
    role = db.session.get(Role, form.role_id.data)
    district = db.session.get(District, form.district_id.data)
    interviewer = (
        db.session.get(accounts.User, form.interviewer_id.data)
        if form.interviewer_id.data
        else None
    )
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
        db.session.rollback()
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
