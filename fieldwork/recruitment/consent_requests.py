"""Consent requests: a private consent link emailed to the participant through the outbox.

The link and its email are written in one transaction, like booking links, so a request is
never half-made: either the participant gets a working link by mail or nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable

from fieldwork.accounts.models import User
from fieldwork.core.time import format_moment
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.recruitment.consent_versions import get_version
from fieldwork.recruitment.links import CONSENT_LINK_DAYS, create_consent_link
from fieldwork.recruitment.models import ConsentFormVersion, ConsentLink
from fieldwork.recruitment.status import RecruitmentError
from fieldwork.sampling.models import Participant, Study


def send_consent_request(
    participant: Participant,
    version: ConsentFormVersion,
    actor: User | None,
    url_for_token: Callable[[str], str],
    valid_days: int = CONSENT_LINK_DAYS,
) -> ConsentLink:
    """Create a consent link and queue the email carrying it (the study's "consent request"
    text), in one transaction. Raises RecruitmentError."""
    from fieldwork.messaging import services as messaging
    from fieldwork.outbox.services import enqueue

    if not participant.email:
        raise RecruitmentError(
            f"{participant.reference} has no email address to send a consent request to."
        )
    study = db.session.get_one(Study, participant.study_id)
    version = get_version(version.id) or version  # with its form loaded
    with transaction():  # the link and its email commit together; the commit wakes the outbox
        link, token = create_consent_link(participant, version, actor, valid_days)
        words = messaging.render_message(
            study.id,
            "consent_request",
            {
                "recipient_name": participant.name,
                "study_name": study.name,
                "organiser_name": study.organiser_name,
                "organiser_email": study.organiser_email,
                "url": url_for_token(token),
                "expires": format_moment(
                    link.expires_at, getattr(participant, "timezone", "") or study.timezone
                ),
                "form_title": f"{version.form.title} (version {version.number})",
            },
        )
        message = messaging.words_email(study, participant.name, participant.email, words)
        enqueue(message, kind="other", study_id=study.id)
    return link
