"""Rendering and editing the per-study message templates.

Rendering is the reminders' sandbox (`fieldwork.messaging.templating.render`): a template is
untrusted text, every variable is escaped in the HTML part, a misspelt variable is reported
when the template is saved. A stored template that still fails when a message is built (it
was saved against other variables) gives way to the default text, so a message is never lost
to a typing mistake; the failure is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from typing import TYPE_CHECKING

from flask import render_template
from markupsafe import Markup, escape
from sqlalchemy import select

from fieldwork.accounts.models import User
from fieldwork.extensions import db
from fieldwork.messaging.kinds import KINDS, MessageKind
from fieldwork.messaging.models import MessageTemplate
from fieldwork.messaging.templating import (
    RenderedReminder,
    TemplateProblem,
    check_syntax,
    render,
)

if TYPE_CHECKING:
    from fieldwork.sampling.models import Study

logger = logging.getLogger(__name__)

RenderedMessage = RenderedReminder


class TemplateFieldProblem(TemplateProblem):
    """A template that cannot be saved; `field` is "subject" or "body"."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def kind_of(key: str) -> MessageKind:
    kind = KINDS.get(key)
    if kind is None:
        raise KeyError(f"no message kind {key!r}")
    return kind


def stored_templates(study: Study) -> dict[str, MessageTemplate]:
    """The study's own templates by kind (one query)."""
    return {
        row.kind: row
        for row in db.session.scalars(
            select(MessageTemplate).where(MessageTemplate.study_id == study.id)
        )
    }


def stored_template(study_id: int | None, key: str) -> MessageTemplate | None:
    if study_id is None:
        return None
    return db.session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.study_id == study_id, MessageTemplate.kind == key
        )
    )


@dataclass(frozen=True)
class Wording:
    """A message's words: the subject always; the text and HTML fragment of the body, and
    whether they are the study's own (`is_custom`) or the kind's default."""

    subject: str
    text: str
    html_fragment: Markup
    is_custom: bool


def render_message(study_id: int | None, key: str, context: dict) -> Wording:
    """The subject and body of a message of kind `key` for `study_id`.

    `context` holds the kind's variables (see kinds.py; a missing one reads as empty); the
    study's template is used when it has one that renders, otherwise the default.
    """
    kind = kind_of(key)
    values = {name: "" for name in kind.variables} | context
    row = stored_template(study_id, key)
    if row is not None:
        try:
            rendered = render(row.subject, row.body, values)
        except TemplateProblem as problem:
            logger.warning(
                "study %s: its %s template failed (%s); the default text was used",
                study_id,
                key,
                problem,
            )
        else:
            return Wording(
                rendered.subject,
                rendered.text,
                _linked(rendered.html_fragment, values.get("url")),
                True,
            )
    rendered = render(kind.default_subject, kind.default_body, values)
    return Wording(
        rendered.subject, rendered.text, _linked(rendered.html_fragment, values.get("url")), False
    )


def _linked(fragment: Markup, url: object) -> Markup:
    """The message's own link (the `url` variable) made clickable in the HTML fragment.

    Only that address, which the tool made, becomes a link: an address typed into a name or
    a note stays text, so people's data cannot put links into the study's mail.
    """
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return fragment
    escaped = str(escape(url))
    link = Markup('<a href="{0}">{0}</a>').format(url)
    return Markup(str(fragment).replace(escaped, str(link)))  # noqa: S704 # nosec B704


def preview(key: str, subject: str, body: str) -> RenderedMessage:
    """The template rendered with the kind's sample values; raises TemplateFieldProblem."""
    kind = kind_of(key)
    for field, source in (("subject", subject), ("body", body)):
        problem = check_syntax(source)
        if problem:
            raise TemplateFieldProblem(field, problem)
    try:
        render(subject, kind.default_body, dict(kind.sample))
    except TemplateProblem as problem:
        raise TemplateFieldProblem("subject", str(problem)) from problem
    try:
        return render(subject, body, dict(kind.sample))
    except TemplateProblem as problem:
        raise TemplateFieldProblem("body", str(problem)) from problem


def save_template(study: Study, key: str, subject: str, body: str, actor: User | None) -> None:
    """Store the study's text for a kind after it renders with the sample values. Commits."""
    from fieldwork.audit import services as audit

    preview(key, subject, body)
    row = stored_template(study.id, key)
    before = {"subject_line": row.subject, "text": row.body} if row else None
    if row is None:
        row = MessageTemplate(study_id=study.id, kind=key, subject=subject, body=body)
        db.session.add(row)
    row.subject = subject
    row.body = body
    row.updated_by_id = actor.id if actor else None
    db.session.flush()
    audit.record_event(
        "message_template.saved",
        actor=actor,
        study_id=study.id,
        subject_type="message_template",
        subject_id=row.id,
        before=before,
        after={"kind": kind_of(key).label.lower(), "subject_line": subject, "text": body},
    )
    db.session.commit()


def reset_template(study: Study, key: str, actor: User | None) -> bool:
    """Go back to the default text; False when the study had none of its own. Commits."""
    from fieldwork.audit import services as audit

    kind_of(key)
    row = stored_template(study.id, key)
    if row is None:
        return False
    audit.record_event(
        "message_template.reset",
        actor=actor,
        study_id=study.id,
        subject_type="message_template",
        subject_id=row.id,
        before={
            "kind": kind_of(key).label.lower(),
            "subject_line": row.subject,
            "text": row.body,
        },
    )
    db.session.delete(row)
    db.session.commit()
    return True


@dataclass(frozen=True)
class Sender:
    name: str
    email: str


def sender_of(study: Study) -> Sender:
    """Mail comes from the study's name (what people recognise) at the organiser's address."""
    email = study.organiser_email or "fieldwork@localhost"
    return Sender(study.name, email)


def html_document(
    words: Wording, study_name: str, organiser_name: str, organiser_email: str
) -> str:
    """The HTML part: the body's paragraphs inside the shared email layout, CSS inlined."""
    from fieldwork.invites.bodies import inline_css

    return inline_css(
        render_template(
            "messaging/email.html",
            title=words.subject,
            content=words.html_fragment,
            study_name=study_name,
            organiser_name=organiser_name,
            organiser_email=organiser_email,
        )
    )


def build_email(
    sender: Sender,
    to_name: str,
    to_email: str,
    subject: str,
    text: str,
    html: str,
) -> EmailMessage:
    """A text-and-HTML email; the address headers, Date and Message-ID come from the one
    builder every message uses (From is the study's name)."""
    from fieldwork.invites.headers import address_message
    from fieldwork.invites.mail import header_text, mailbox

    message = EmailMessage(policy=SMTP)
    address_message(
        message, sender=mailbox(sender.name, sender.email), to=[mailbox(to_name, to_email)]
    )
    message["Subject"] = header_text(subject)
    # Quoted-printable keeps the stored copy ASCII, so the outbox can rewrite a part (links
    # removed after sending) whatever characters the text holds.
    message.set_content(
        text.strip() + "\n", subtype="plain", charset="utf-8", cte="quoted-printable"
    )
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message


def words_email(study: Study, to_name: str, to_email: str, words: Wording) -> EmailMessage:
    """An email whose whole body is a rendered template, in the shared layout."""
    sender = sender_of(study)
    html = html_document(words, study.name, study.organiser_name, study.organiser_email)
    return build_email(sender, to_name, to_email, words.subject, words.text, html)
