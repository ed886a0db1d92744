"""The emails that carry a set-password link: an invitation in the study's own words, and a
password reset. Accounts announces each link (accounts.signals.password_link_issued); this
module writes the message and queues it in the outbox, in the same transaction."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from typing import Any

from flask import current_app

from fieldwork.accounts.models import PasswordLinkPurpose, User, UserRole
from fieldwork.core.time import format_moment, now_utc
from fieldwork.invites.headers import address_message
from fieldwork.messaging.services import render_message, words_email
from fieldwork.outbox.services import enqueue


def send_password_link(
    user: User,
    *,
    purpose: PasswordLinkPurpose,
    url: str,
    lifetime: dt.timedelta,
    study: Any = None,
    role: UserRole | None = None,
    invited_by: User | None = None,
) -> None:
    """Receiver of `password_link_issued`: queue the invitation or the reset email."""
    if purpose == PasswordLinkPurpose.INVITATION:
        _queue_invitation(user, study, role, invited_by, url, now_utc() + lifetime)
    else:
        _queue_reset(user, url, lifetime)


def _queue_invitation(
    user: User, study: Any, role: UserRole | None, invited_by: User | None, url: str, expires_at
) -> None:
    """The invitation in the study's own words (Admin › Message texts), in the shared layout."""
    words = render_message(
        study.id,
        "user_invitation",
        {
            "recipient_name": user.name,
            "study_name": study.name,
            "organiser_name": study.organiser_name or "",
            "organiser_email": study.organiser_email or "",
            "url": url,
            "expires": format_moment(expires_at, user.timezone or study.timezone),
            "role": role.value if role is not None else "",
            "inviter_name": invited_by.name if invited_by is not None else "",
        },
    )
    enqueue(words_email(study, user.name, user.email, words), kind="other", study_id=study.id)


def _queue_reset(user: User, url: str, lifetime: dt.timedelta) -> None:
    """A reset belongs to no study: it comes from MAIL_FROM, in plain words."""
    hours = int(lifetime.total_seconds() // 3600)
    message = EmailMessage()
    message["Subject"] = "Choose a new Fieldwork password"
    message.set_content(
        f"Hello {user.name},\n\n"
        "Someone (we hope you) asked to choose a new password for your Fieldwork account."
        "\n\n"
        f"Choose it here (the link works once, for {hours} hours):\n\n"
        f"{url}\n\n"
        "If you did not ask, ignore this message: your password stays as it is.\n"
    )
    address_message(
        message,
        sender=("Fieldwork", current_app.config["MAIL_FROM"]),
        to=[(user.name, user.email)],
    )
    enqueue(message, kind="other", study_id=None)
