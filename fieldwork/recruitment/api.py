"""JSON API of recruitment, for coordinators: contact attempts, consents and audit events of a
study, under /api/v1/studies/{slug}/..., in the page envelope; and for one participant, recording
contact attempts and consent and making consent links (/api/v1/participants/{id}/...).
Interviewers get 403."""

from __future__ import annotations

from typing import Any

from flask import abort, url_for
from flask_login import current_user
from werkzeug.exceptions import Conflict, UnprocessableEntity

from fieldwork.api.blueprint import ApiBlueprint, found, page_of
from fieldwork.api.writes import InvalidFields, require_coordinator_of
from fieldwork.recruitment import (
    consent,
    consent_requests,
    consent_versions,
    contacts,
    links,
    queries,
    schemas,
)
from fieldwork.recruitment.models import ConsentFormVersion, ConsentMethod
from fieldwork.recruitment.status import RecruitmentError
from fieldwork.sampling.api import study_or_404
from fieldwork.sampling.models import Participant
from fieldwork.sampling.services import get_participant

blueprint = ApiBlueprint(
    "recruitment_api", __name__, description="Recruitment records of a study, for coordinators."
)


@blueprint.before_request
def coordinators_only() -> None:
    """Anonymous callers were answered 401 already; interviewers are refused here."""
    if current_user.is_authenticated and not current_user.is_coordinator:
        abort(403, "Only coordinators can read recruitment records.")


@blueprint.get("/studies/<slug>/contact-attempts")
@blueprint.arguments(schemas.ContactAttemptArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.ContactAttemptPage)
@blueprint.alt_response(403, response="FORBIDDEN")
def list_contact_attempts(slug: str, **arguments: Any) -> dict:
    """List a study's contact attempts

    Newest first. Coordinators only.
    """
    return page_of(queries.contact_attempt_query(study_or_404(slug), arguments), arguments)


@blueprint.get("/studies/<slug>/consents")
@blueprint.arguments(schemas.ConsentArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.ConsentPage)
@blueprint.alt_response(403, response="FORBIDDEN")
def list_consents(slug: str, **arguments: Any) -> dict:
    """List a study's consents

    Newest first, with each item's answer. Coordinators only.
    """
    return page_of(queries.consent_query(study_or_404(slug), arguments), arguments)


@blueprint.get("/studies/<slug>/audit-events")
@blueprint.arguments(schemas.AuditEventArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.AuditEventPage)
@blueprint.alt_response(403, response="FORBIDDEN")
def list_audit_events(slug: str, **arguments: Any) -> dict:
    """List a study's audit events

    Newest first: who changed what, when. Coordinators only.
    """
    return page_of(queries.audit_event_query(study_or_404(slug), arguments), arguments)


# --- Writes for one participant ------------------------------------------------------------


def _writable_participant(participant_id: int) -> Participant:
    """The participant, if the caller coordinates their study (403) and their details were
    not erased (409: an erased person is not contacted or asked again)."""
    participant = found(get_participant(participant_id, current_user), "participant")
    require_coordinator_of(participant.study_id)
    if participant.is_erased:
        raise Conflict(f"{participant.reference}'s personal details were erased.")
    return participant


#: Look the participant up (404, 403, 409) before the body is read.
_participant_first = blueprint.checks_first(_writable_participant)


def _published_version(participant: Participant, version_id: int) -> ConsentFormVersion:
    version = consent_versions.get_version(version_id, participant.study)
    if version is None:
        raise InvalidFields({"version_id": "The study has no consent form version with this id."})
    return version


@blueprint.post("/participants/<id:participant_id>/contact-attempts")
@_participant_first
@blueprint.arguments(schemas.NewContactAttempt)
@blueprint.response(201, schemas.ContactAttempt)
@blueprint.write_errors(
    invalid="Fields that do not fit.", conflict="The participant was erased.", unprocessable=True
)
def record_contact_attempt(body: dict, participant_id: int):
    """Record a contact attempt

    The study's coordinators only. The participant's recruitment status moves by the
    disposition's rule (as on the participant's page); audited. An attempt in the future
    answers 422.
    """
    participant = _writable_participant(participant_id)
    try:
        attempt = contacts.log_contact_attempt(
            participant,
            current_user._get_current_object(),
            attempted_at=body["attempted_at"],
            channel=body["channel"],
            disposition=body["disposition"],
            note=body.get("note", ""),
            next_action_on=body.get("next_action_on"),
        )
    except RecruitmentError as error:
        raise UnprocessableEntity(str(error)) from error
    return queries.get_contact_attempt(attempt.id), 201


@blueprint.post("/participants/<id:participant_id>/consents")
@_participant_first
@blueprint.arguments(schemas.NewConsent)
@blueprint.response(201, schemas.Consent)
@blueprint.write_errors(
    invalid="Fields that do not fit.", conflict="The participant was erased.", unprocessable=True
)
def record_consent(body: dict, participant_id: int):
    """Record consent

    The study's coordinators only: written or verbal consent to a published version (online
    consent is given by the participant through their link). Every required item must be
    agreed; a withdrawn participant gives no new consent (422). Consent to take part makes the
    participant agreed. Audited.
    """
    participant = _writable_participant(participant_id)
    version = _published_version(participant, body["version_id"])
    if body["method"] == ConsentMethod.ONLINE:
        raise InvalidFields({"method": "Online consent is given by the participant's link."})
    try:
        recorded = consent.record_consent(
            participant,
            version,
            method=body["method"],
            answers=body["answers"],
            actor=current_user._get_current_object(),
            given_at=body.get("given_at"),
            typed_name=body.get("typed_name", ""),
        )
    except RecruitmentError as error:
        raise UnprocessableEntity(str(error)) from error
    return queries.get_consent(recorded.id), 201


@blueprint.post("/participants/<id:participant_id>/consent-links")
@_participant_first
@blueprint.arguments(schemas.NewConsentLink)
@blueprint.response(201, schemas.ConsentLink)
@blueprint.write_errors(
    invalid="Fields that do not fit.", conflict="The participant was erased.", unprocessable=True
)
def create_consent_link(body: dict, participant_id: int):
    """Make a consent link

    The study's coordinators only. A private link to give consent online to a published
    version, beside the booking links; its URL is answered once. `"send": true` also emails it
    to the participant through the outbox. A withdrawn participant gets none (422). Audited.
    """
    participant = _writable_participant(participant_id)
    version = _published_version(participant, body["version_id"])
    if body["send"] and not participant.email:
        raise InvalidFields({"send": "The participant has no email address to send it to."})
    urls: list[str] = []

    def url_of(token: str) -> str:
        urls.append(url_for("recruitment.online_consent", token=token, _external=True))
        return urls[-1]

    try:
        if body["send"]:
            link = consent_requests.send_consent_request(
                participant, version, current_user, url_of, valid_days=body["days"]
            )
        else:
            link, token = links.create_consent_link(
                participant, version, current_user, valid_days=body["days"]
            )
            url_of(token)
    except RecruitmentError as error:
        raise UnprocessableEntity(str(error)) from error
    answer = {
        "id": link.id,
        "participant_id": participant.id,
        "version_id": version.id,
        "url": urls[-1],
        "expires_at": link.expires_at,
        "sent": body["send"],
    }
    return answer, 201
