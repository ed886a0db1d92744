"""Set-password links by email: a coordinator's invitation, and "forgot password".

A link carries a fresh 256-bit token (fieldwork.core.tokens) of which only the SHA-256 is
stored; it expires (invitations after 7 days, resets after 2 hours) and works once. Emails go
through the outbox like every message (which replaces the link by a placeholder once sent).
Asking for a reset says the same whether or not the address has an account.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from flask import current_app, url_for
from sqlalchemy import select, update

from fieldwork.accounts.models import (
    Membership,
    PasswordLink,
    PasswordLinkPurpose,
    User,
    UserRole,
)
from fieldwork.accounts.passwords import password_problem
from fieldwork.accounts.services import (
    AccountError,
    find_user_by_email,
    normalise_email,
    set_membership,
)
from fieldwork.core.time import format_moment, now_utc
from fieldwork.core.tokens import hash_token, new_token
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db

LIFETIMES = {
    PasswordLinkPurpose.INVITATION: dt.timedelta(days=7),
    PasswordLinkPurpose.RESET: dt.timedelta(hours=2),
}


def _link_url(token: str) -> str:
    """The link to the set-password page; PUBLIC_URL (if set) names the host, never a
    request's Host header, which a visitor chooses."""
    path = url_for("accounts.set_password", token=token)
    public = current_app.config["PUBLIC_URL"].rstrip("/")
    return (
        public + path if public else url_for("accounts.set_password", token=token, _external=True)
    )


def new_password_link(user: User, purpose: PasswordLinkPurpose) -> str:
    """A new link for the user; earlier unused links of theirs stop working. No commit."""
    now = now_utc()
    db.session.execute(
        update(PasswordLink)
        .where(PasswordLink.user_id == user.id, PasswordLink.used_at.is_(None))
        .values(used_at=now)
    )
    token = new_token()
    db.session.add(
        PasswordLink(
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(token),
            expires_at=now + LIFETIMES[purpose],
        )
    )
    return token


def _send(
    user: User, subject: str, body: str, sender: tuple[str, str], study_id: int | None
) -> None:
    from fieldwork.invites.headers import address_message
    from fieldwork.outbox.services import enqueue

    message = EmailMessage()
    message["Subject"] = subject
    message.set_content(body)
    address_message(message, sender=sender, to=[(user.name, user.email)])
    enqueue(message, kind="other", study_id=study_id)


def _send_invitation(user: User, study, role: UserRole, invited_by: User, token: str) -> None:
    """The invitation in the study's own words (Admin › Message texts), in the shared layout."""
    from fieldwork.messaging.services import render_message, words_email
    from fieldwork.outbox.services import enqueue

    expires_at = now_utc() + LIFETIMES[PasswordLinkPurpose.INVITATION]
    words = render_message(
        study.id,
        "user_invitation",
        {
            "recipient_name": user.name,
            "study_name": study.name,
            "organiser_name": study.organiser_name or "",
            "organiser_email": study.organiser_email or "",
            "url": _link_url(token),
            "expires": format_moment(expires_at, user.timezone or study.timezone),
            "role": role.value,
            "inviter_name": invited_by.name,
        },
    )
    enqueue(words_email(study, user.name, user.email, words), kind="other", study_id=study.id)


def _fallback_sender() -> tuple[str, str]:
    return ("Fieldwork", current_app.config["MAIL_FROM"])


def invite_user(
    *, email: str, name: str, role: UserRole | str, timezone: str, study, invited_by: User
) -> tuple[User, bool]:
    """Invite someone to `study` with `role`: a new user gets an account without a password
    and an email with a set-password link; someone who has an account joins the study.
    Returns the user and whether they were new. Commits."""
    from fieldwork.accounts.models import UserRole as Role

    email, role = normalise_email(email), Role(role)
    user = find_user_by_email(email)
    if user is not None:
        set_membership(user, study.id, role)
        return user, False
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        timezone=timezone,
        session_version=0,
        is_administrator=False,
    )
    user.set_password(new_token())  # nobody knows it: the link sets the real one
    with transaction():
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, study_id=study.id, role=role))
        token = new_password_link(user, PasswordLinkPurpose.INVITATION)
        _send_invitation(user, study, role, invited_by, token)
    user.forget_study_roles()
    return user, True


def request_password_reset(email: str) -> None:
    """Email a reset link if an enabled account has this address; say nothing either way.
    Commits when a link was made."""
    user = find_user_by_email(email or "")
    if user is None or not user.is_enabled:
        return
    minutes = int(LIFETIMES[PasswordLinkPurpose.RESET].total_seconds() // 60)
    with transaction():
        token = new_password_link(user, PasswordLinkPurpose.RESET)
        body = (
            f"Hello {user.name},\n\n"
            "Someone (we hope you) asked to choose a new password for your Fieldwork account."
            "\n\n"
            f"Choose it here (the link works once, for {minutes // 60} hours):\n\n"
            f"{_link_url(token)}\n\n"
            "If you did not ask, ignore this message: your password stays as it is.\n"
        )
        _send(user, "Choose a new Fieldwork password", body, _fallback_sender(), None)


def live_link(token: str) -> PasswordLink | None:
    """The unused, unexpired link for this token, or None."""
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(
        select(PasswordLink)
        .where(PasswordLink.token_hash == hash_token(token))
        .execution_options(all_studies=True)
    )
    if link is None or link.used_at is not None or link.expires_at <= now_utc():
        return None
    if not link.user.is_enabled:
        return None
    return link


def set_password_with_link(token: str, password: str) -> User:
    """Choose a password through a live link: the link dies, every session of the user ends.
    Commits."""
    link = live_link(token)
    if link is None:
        raise AccountError("This link has expired or has been used already.")
    user = link.user
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        raise AccountError(problem)
    with transaction():
        user.set_password(password)
        link.used_at = now_utc()
    return user
