"""The participant's own copy of what they agreed to: the questions with their answers, the
form's title and version, and the date, emailed through the outbox (and shown on a printable
page). It names the study and its organiser, never the internal reference."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.recruitment.models import (
    Consent,
    ConsentAnswer,
    ConsentFormVersion,
    ConsentLink,
)
from fieldwork.sampling.models import Participant


def consent_rows(consent: Consent) -> list[tuple[str, str]]:
    """(question, answer) in the form's order."""
    return [
        (answer.item.text, "Yes" if answer.is_agreed else "No")
        for answer in sorted(consent.answers, key=lambda a: a.item.position)
    ]


def build_consent_copy(link: ConsentLink, consent: Consent) -> EmailMessage:
    """The copy as an email to the participant (link with participant, study, version, form,
    consent answers and their items loaded)."""
    from fieldwork.core.time import format_moment
    from fieldwork.invites.bodies import render_email
    from fieldwork.invites.headers import address_message
    from fieldwork.invites.mail import header_text, mailbox

    participant = link.participant
    study = participant.study
    version = link.version
    zone = participant.timezone or study.timezone
    context = {
        "participant": participant,
        "study": study,
        "study_name": study.name,
        "form_title": version.form.title,
        "version_number": version.number,
        "given": format_moment(consent.given_at, zone),
        "typed_name": consent.typed_name,
        "rows": consent_rows(consent),
        "text": version.text,
        "organiser_name": study.organiser_name,
        "organiser_email": study.organiser_email,
    }
    text, html = render_email("consent_copy", **context)
    sender = study.organiser_email or "fieldwork@localhost"
    message = EmailMessage(policy=SMTP)
    address_message(
        message,
        sender=mailbox(study.name, sender),
        to=[mailbox(participant.name, participant.email)],
    )
    message["Subject"] = header_text(f"{study.name}: your copy of your consent")
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


@transaction()
def queue_consent_copy(link_id: int) -> str:
    """Queue the copy of a used link's consent (committed with the caller's transaction when
    there is one); the address it goes to, or "" when the participant has none."""
    from fieldwork.outbox.services import enqueue

    link = (
        db.session.scalars(
            select(ConsentLink)
            .options(
                joinedload(ConsentLink.participant).joinedload(Participant.study),
                joinedload(ConsentLink.version).joinedload(ConsentFormVersion.form),
                joinedload(ConsentLink.consent)
                .selectinload(Consent.answers)
                .joinedload(ConsentAnswer.item),
            )
            .where(ConsentLink.id == link_id)
            .execution_options(populate_existing=True)
        )
        .unique()
        .one()
    )
    if not link.participant.email or link.consent is None:
        return ""
    enqueue(
        build_consent_copy(link, link.consent), kind="other", study_id=link.participant.study_id
    )
    return link.participant.email
