"""JSON API of recruitment, for coordinators: contact attempts, consents and audit events of a
study, under /api/v1/studies/{slug}/..., in the page envelope; and for one participant, recording
contact attempts and consent and making consent links (/api/v1/participants/{id}/...).
Interviewers get 403."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

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


F = TypeVar("F", bound=Callable[..., Any])


def _stacked(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """The decorators in the order they would be written above a view, as one."""

    def decorate(view: F) -> F:
        for decorator in reversed(decorators):
            view = decorator(view)
        return view

    return decorate


def _study_list(path: str, arguments: type, page: type) -> Callable[[F], F]:
    """A coordinators' list of a study's records, in the page envelope."""
    return _stacked(
        blueprint.get(f"/studies/<slug>/{path}"),
        blueprint.arguments(arguments, location="query", as_kwargs=True),
        blueprint.response(200, page),
        blueprint.alt_response(403, response="FORBIDDEN"),
    )


@_study_list("contact-attempts", schemas.ContactAttemptArguments, schemas.ContactAttemptPage)
def list_contact_attempts(slug: str, **arguments: Any) -> dict:
    """List a study's contact attempts

    Newest first. Coordinators only.
    """
    return page_of(queries.contact_attempt_query(study_or_404(slug), arguments), arguments)


@_study_list("consents", schemas.ConsentArguments, schemas.ConsentPage)
def list_consents(slug: str, **arguments: Any) -> dict:
    """List a study's consents

    Newest first, with each item's answer. Coordinators only.
    """
    return page_of(queries.consent_query(study_or_404(slug), arguments), arguments)


@_study_list("audit-events", schemas.AuditEventArguments, schemas.AuditEventPage)
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


def _participant_write(path: str, body: type, answer: type) -> Callable[[F], F]:
    """A coordinator's write about one participant, who is looked up (404, 403, 409) before
    the body is read; answers 201."""
    return _stacked(
        blueprint.post(f"/participants/<id:participant_id>/{path}"),
        blueprint.checks_first(_writable_participant),
        blueprint.arguments(body),
        blueprint.response(201, answer),
        blueprint.write_errors(
            invalid="Fields that do not fit.",
            conflict="The participant was erased.",
            unprocessable=True,
        ),
    )


@contextmanager
def _refusal_is_422() -> Iterator[None]:
    """A recruitment rule's refusal (a withdrawn participant, an attempt in the future) is 422."""
    try:
        yield
    except RecruitmentError as error:
        raise UnprocessableEntity(str(error)) from error


def _published_version(participant: Participant, version_id: int) -> ConsentFormVersion:
    version = consent_versions.get_version(version_id, participant.study)
    if version is None:
        raise InvalidFields({"version_id": "The study has no consent form version with this id."})
    return version


@_participant_write("contact-attempts", schemas.NewContactAttempt, schemas.ContactAttempt)
def record_contact_attempt(body: dict, participant_id: int):
    """Record a contact attempt

    The study's coordinators only. The participant's recruitment status moves by the
    disposition's rule (as on the participant's page); audited. An attempt in the future
    answers 422.
    """
    participant = _writable_participant(participant_id)
    with _refusal_is_422():
        attempt = contacts.log_contact_attempt(
            participant,
            current_user._get_current_object(),
            attempted_at=body["attempted_at"],
            channel=body["channel"],
            disposition=body["disposition"],
            note=body.get("note", ""),
            next_action_on=body.get("next_action_on"),
        )
    return queries.get_contact_attempt(attempt.id), 201


@_participant_write("consents", schemas.NewConsent, schemas.Consent)
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
    with _refusal_is_422():
        recorded = consent.record_consent(
            participant,
            version,
            method=body["method"],
            answers=body["answers"],
            actor=current_user._get_current_object(),
            given_at=body.get("given_at"),
            typed_name=body.get("typed_name", ""),
        )
    return queries.get_consent(recorded.id), 201


@_participant_write("consent-links", schemas.NewConsentLink, schemas.ConsentLink)
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

    with _refusal_is_422():
        if body["send"]:
            link = consent_requests.send_consent_request(
                participant, version, current_user, url_of, valid_days=body["days"]
            )
        else:
            link, token = links.create_consent_link(
                participant, version, current_user, valid_days=body["days"]
            )
            url_of(token)
    answer = {
        "id": link.id,
        "participant_id": participant.id,
        "version_id": version.id,
        "url": urls[-1],
        "expires_at": link.expires_at,
        "sent": body["send"],
    }
    return answer, 201
