"""Pages of recruitment and consent. Views parse, call one service, then redirect or render."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from fieldwork.accounts.access import coordinator_required
from fieldwork.core.pagination import paginate, parse_page_number
from fieldwork.core.studies import require_study
from fieldwork.core.time import now_utc
from fieldwork.core.web import public
from fieldwork.recruitment import (
    consent,
    consent_copy,
    consent_requests,
    consent_versions,
    contacts,
    erasure,
    forms,
    links,
    referrals,
)
from fieldwork.recruitment.dispositions import RULES, Disposition
from fieldwork.recruitment.models import (
    AccessAgreement,
    ConsentLink,
    ConsentMethod,
    ContactChannel,
    DataHandling,
)
from fieldwork.recruitment.status import RecruitmentError
from fieldwork.sampling import services as sampling
from fieldwork.sampling.frame.organisations import get_organisation

blueprint = Blueprint("recruitment", __name__)


def _participant_or_404(participant_id: int):
    """The participant if the viewer may work on them (coordinators: all; interviewers:
    those assigned to them), else 404."""
    person = sampling.get_participant(participant_id, current_user)
    if person is None:
        abort(404)
    return person


def _participant_url(person) -> str:
    return url_for("sampling.participant", participant_id=person.id)


def _user_zone() -> ZoneInfo:
    return ZoneInfo(current_user.timezone)


def _today() -> dt.date:
    return now_utc().astimezone(_user_zone()).date()


# --- Contact log -----------------------------------------------------------------------------


@blueprint.route("/participants/<int:participant_id>/contacts/new", methods=["GET", "POST"])
def log_contact(participant_id: int):
    person = _participant_or_404(participant_id)
    form = forms.ContactAttemptForm()
    if request.method == "GET":
        now = now_utc().astimezone(_user_zone())
        form.attempted_on.data = now.date()
        form.attempted_time.data = now.time().replace(second=0, microsecond=0)
    warning = contacts.gatekeeper_warning(person)
    needs_confirmation = False
    if form.validate_on_submit():
        if warning and form.confirmed.data != "yes":
            needs_confirmation = True
            form.confirmed.data = "yes"
        else:
            attempted_at = dt.datetime.combine(
                form.attempted_on.data, form.attempted_time.data, tzinfo=_user_zone()
            )
            try:
                attempt = contacts.log_contact_attempt(
                    person,
                    current_user,
                    attempted_at=attempted_at,
                    channel=ContactChannel(form.channel.data),
                    disposition=Disposition(form.disposition.data),
                    note=form.note.data or "",
                    next_action_on=form.next_action_on.data,
                )
            except RecruitmentError as error:
                form.attempted_on.errors = [*form.attempted_on.errors, str(error)]
            else:
                message = (
                    f"Contact attempt logged. {person.reference} is now "
                    f"{person.status.label.lower()}."
                )
                if attempt.next_action_on is not None:
                    defaulted = form.next_action_on.data is None
                    message += f" Next action due {attempt.next_action_on:%A %-d %B %Y}" + (
                        " (the next working day, as no date was given)." if defaulted else "."
                    )
                flash(message, "success")
                return redirect(_participant_url(person))
    status = 422 if form.errors else 200
    return render_template(
        "recruitment/contact_form.html",
        participant=person,
        form=form,
        warning=warning,
        needs_confirmation=needs_confirmation,
        rules=RULES,
    ), status


@blueprint.get("/follow-ups")
def follow_ups():
    study = require_study()
    page = paginate(
        contacts.follow_ups_query(study, current_user, _today()),
        parse_page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
        bounded=True,  # past COUNT_LIMIT due follow-ups, "more than" is all anyone needs
    )
    return render_template("recruitment/follow_ups.html", study=study, page=page, today=_today())


# --- Referrals -------------------------------------------------------------------------------


@blueprint.route("/participants/<int:participant_id>/referrals/new", methods=["GET", "POST"])
def add_referral(participant_id: int):
    person = _participant_or_404(participant_id)
    form = forms.ReferralForm()
    if form.validate_on_submit():
        referrer = None
        reference = (form.referred_by.data or "").strip()
        if reference:
            referrer = referrals.find_participant_by_reference(person.study, reference)
            if referrer is None:
                form.referred_by.errors.append(f"No participant has the reference {reference}.")
        if not form.referred_by.errors:
            try:
                referrals.record_referral(person, referrer, form.note.data or "", current_user)
            except RecruitmentError as error:
                form.referred_by.errors.append(str(error))
            else:
                flash("Referral recorded.", "success")
                return redirect(_participant_url(person))
    return render_template("recruitment/referral_form.html", participant=person, form=form), (
        422 if form.errors else 200
    )


# --- Consent, withdrawal and erasure (coordinators) ------------------------------------------


@blueprint.route("/participants/<int:participant_id>/consents/new", methods=["GET", "POST"])
def record_consent(participant_id: int):
    """Written or verbal consent, recorded by a coordinator or by the participant's own
    interviewer (who often takes it at the start of the interview)."""
    person = _participant_or_404(participant_id)
    versions = consent_versions.published_versions(person.study)
    if not versions:
        if not current_user.is_coordinator:
            flash("No consent form is published yet; ask a coordinator to publish one.", "error")
            return redirect(_participant_url(person))
        flash("Publish a consent form before recording consent.", "error")
        return redirect(url_for("recruitment.consent_forms"))
    chooser = forms.VersionChoiceForm(request.args, meta={"csrf": False})
    chooser.version_id.choices = [(v.id, f"{v.form.title}, version {v.number}") for v in versions]
    chosen = chooser.version_id.data if request.args.get("version_id") else versions[0].id
    version = next((v for v in versions if v.id == chosen), None)
    if version is None:
        abort(404)
    form = forms.consent_form_for(version, online=False)
    if request.method == "GET":
        form.given_on.data = _today()
    if form.validate_on_submit():
        answers = {
            item.key: bool(getattr(form, forms.answer_field_name(item.key)).data)
            for item in version.items
        }
        given_at = dt.datetime.combine(form.given_on.data, dt.time(12), tzinfo=_user_zone())
        given_at = min(given_at, now_utc())
        try:
            consent.record_consent(
                person,
                version,
                method=ConsentMethod(form.method.data),
                answers=answers,
                actor=current_user,
                given_at=given_at,
                typed_name=form.typed_name.data or "",
            )
        except RecruitmentError as error:
            form.form_errors.append(str(error))
            version = consent_versions.get_version(version.id)
        else:
            flash(f"Consent recorded for {person.reference}.", "success")
            return redirect(_participant_url(person))
    return render_template(
        "recruitment/consent_record_form.html",
        participant=person,
        form=form,
        chooser=chooser,
        version=version,
        versions=versions,
        answer_field=lambda key: getattr(form, forms.answer_field_name(key)),
    ), (422 if form.errors or form.form_errors else 200)


@blueprint.post("/participants/<int:participant_id>/consent-links")
@coordinator_required
def create_consent_link(participant_id: int):
    person = _participant_or_404(participant_id)
    versions = consent_versions.published_versions(person.study)
    form = forms.ConsentLinkForm()
    form.version_id.choices = [(v.id, f"{v.form.title}, version {v.number}") for v in versions]
    if not form.validate_on_submit():
        for field in form:
            for message in field.errors:
                flash(message, "error")
        return redirect(_participant_url(person))
    version = next(v for v in versions if v.id == form.version_id.data)
    if person.email:
        # Emailed through the outbox, like booking links; the link is never shown here.
        try:
            consent_requests.send_consent_request(
                person,
                version,
                current_user,
                lambda token: url_for("recruitment.online_consent", token=token, _external=True),
                valid_days=form.valid_days.data,
            )
        except RecruitmentError as error:
            flash(str(error), "error")
        else:
            flash(f"Consent request emailed to {person.email}.", "success")
        return redirect(_participant_url(person))
    try:
        link, token = links.create_consent_link(
            person, version, current_user, valid_days=form.valid_days.data
        )
    except RecruitmentError as error:
        flash(str(error), "error")
        return redirect(_participant_url(person))
    return render_template(
        "recruitment/consent_link_created.html",
        participant=person,
        link=link,
        url=url_for("recruitment.online_consent", token=token, _external=True),
    )


@blueprint.post("/consent-links/<int:link_id>/revoke")
@coordinator_required
def revoke_consent_link(link_id: int):
    link = links.get_consent_link(link_id)
    if link is None:
        abort(404)
    person = _participant_or_404(link.participant_id)
    links.revoke_consent_link(link, current_user)
    flash("The consent link no longer works.", "success")
    return redirect(_participant_url(person))


@blueprint.route("/participants/<int:participant_id>/withdraw", methods=["GET", "POST"])
@coordinator_required
def withdraw(participant_id: int):
    person = _participant_or_404(participant_id)
    form = forms.WithdrawalForm()
    if form.validate_on_submit():
        try:
            consent.withdraw(
                person,
                current_user,
                reason=form.reason.data or "",
                data_handling=DataHandling(form.data_handling.data),
            )
        except RecruitmentError as error:
            form.form_errors.append(str(error))
        else:
            flash(
                f"{person.reference} has withdrawn. You may now erase their personal data.",
                "success",
            )
            return redirect(url_for("recruitment.erase", participant_id=person.id))
    return render_template("recruitment/withdraw_form.html", participant=person, form=form), (
        422 if form.errors or form.form_errors else 200
    )


@blueprint.route("/participants/<int:participant_id>/erase", methods=["GET", "POST"])
@coordinator_required
def erase(participant_id: int):
    person = _participant_or_404(participant_id)
    form = forms.EraseForm()
    if form.validate_on_submit():
        try:
            erasure.erase_personal_data(person, current_user)
        except RecruitmentError as error:
            form.form_errors.append(str(error))
        else:
            flash(f"The personal data of {person.reference} has been erased.", "success")
            return redirect(_participant_url(person))
    return render_template("recruitment/erase_form.html", participant=person, form=form), (
        422 if form.errors or form.form_errors else 200
    )


# --- Organisations as gatekeepers ------------------------------------------------------------


@blueprint.route("/organisations/<int:organisation_id>/access", methods=["GET", "POST"])
@coordinator_required
def organisation_access(organisation_id: int):
    study = require_study()
    organisation = get_organisation(study, organisation_id)
    if organisation is None:
        abort(404)
    access = contacts.access_of(organisation.id)
    form = forms.OrganisationAccessForm(obj=access)
    if request.method == "GET" and access is not None:
        form.agreement.data = AccessAgreement(access.agreement).value
    if form.validate_on_submit():
        contacts.save_access(
            organisation,
            current_user,
            contact_name=form.contact_name.data,
            contact_email=form.contact_email.data,
            contact_phone=form.contact_phone.data,
            agreement=AccessAgreement(form.agreement.data),
            agreed_on=form.agreed_on.data,
            is_do_not_contact=form.is_do_not_contact.data,
            notes=form.notes.data,
        )
        flash(f"Access to {organisation.name} is saved.", "success")
        return redirect(url_for("frame.organisation", organisation_id=organisation.id))
    return render_template(
        "recruitment/organisation_access_form.html", organisation=organisation, form=form
    ), (422 if form.errors else 200)


# --- Online consent: the participant's private link (public) ---------------------------------


def _link_problem(state: str):
    """The clear page for a link that cannot be used: 404 unknown, 410 expired or revoked."""
    code = 404 if state == "unknown" else 410
    return render_template("recruitment/consent_link_problem.html", state=state, study=None), code


def _open_link(token: str) -> tuple[ConsentLink, str]:
    """The link and its state ("open" or "used"); a link that cannot be used answers its
    problem page instead."""
    lookup = links.find_consent_link(token)
    if lookup.link is None or lookup.state in ("revoked", "expired"):
        abort(make_response(_link_problem(lookup.state)))
    return lookup.link, lookup.state


def _link_again(token: str) -> ConsentLink:
    """The link read again after a refusal: the participant may have been erased meanwhile."""
    link = links.find_consent_link(token).link
    if link is None:
        abort(make_response(_link_problem("unknown")))
    return link


@blueprint.route("/consent/<token>", methods=["GET", "POST"])
@public
def online_consent(token: str):
    link, state = _open_link(token)
    if state == "used":
        return render_template(
            "recruitment/online_consent_given.html",
            link=link,
            study=link.participant.study,
            consent=link.consent,
            token=token,
            withdrawal_form=forms.WithdrawalForm(),
            is_withdrawn=link.participant.status.value == "withdrawn",
        )
    version = link.version
    link_id = link.id
    form = forms.online_consent_form_for(version)
    if form.validate_on_submit():
        answers = {
            item.key: getattr(form, forms.answer_field_name(item.key)).data == "yes"
            for item in version.items
        }
        try:
            links.give_online_consent(link, answers, form.typed_name.data)
        except RecruitmentError as error:
            form.form_errors.append(str(error))
            link = _link_again(token)
            version = link.version
        else:
            address = consent_copy.queue_consent_copy(link_id)
            if address:
                flash(
                    f"Thank you: your consent is recorded. A copy is on its way to "
                    f"{address}, and you can print this page.",
                    "success",
                )
            else:
                flash("Thank you: your consent is recorded. You can print this page.", "success")
            return redirect(url_for("recruitment.online_consent", token=token))
    return render_template(
        "recruitment/online_consent.html",
        link=link,
        study=link.participant.study,
        version=version,
        form=form,
        questions=[
            (number, item, getattr(form, forms.answer_field_name(item.key)))
            for number, item in enumerate(version.items, start=1)
        ],
    ), (422 if form.errors or form.form_errors else 200)


@blueprint.route("/consent/<token>/withdraw", methods=["GET", "POST"])
@public
def online_withdraw(token: str):
    link, state = _open_link(token)
    if state != "used":
        return redirect(url_for("recruitment.online_consent", token=token))
    form = forms.WithdrawalForm()
    if form.validate_on_submit():
        try:
            links.withdraw_online(
                link, form.reason.data or "", DataHandling(form.data_handling.data)
            )
        except RecruitmentError as error:
            form.form_errors.append(str(error))
            link = _link_again(token)
        else:
            flash("You have withdrawn from the study. Thank you for letting us know.", "success")
            return redirect(url_for("recruitment.online_consent", token=token))
    return render_template(
        "recruitment/online_withdraw.html",
        link=link,
        study=link.participant.study,
        form=form,
        token=token,
    ), (422 if form.errors or form.form_errors else 200)
