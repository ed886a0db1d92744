"""Set-password links by email: a coordinator's invitation, and "forgot password".

A link carries a fresh 256-bit token (fieldwork.core.tokens) of which only the SHA-256 is
stored; it expires (invitations after 7 days, resets after 2 hours) and works once. Emails go
through the outbox like every message (which replaces the link by a placeholder once sent).
Asking for a reset says the same whether or not the address has an account. The emails are
written and queued by fieldwork.messaging.account_mail, which receives `password_link_issued`.
"""

from __future__ import annotations

import datetime as dt

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
from fieldwork.accounts.signals import password_link_issued
from fieldwork.core.time import now_utc
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
        password_link_issued.send(
            user,
            purpose=PasswordLinkPurpose.INVITATION,
            url=_link_url(token),
            lifetime=LIFETIMES[PasswordLinkPurpose.INVITATION],
            study=study,
            role=role,
            invited_by=invited_by,
        )
    user.forget_study_roles()
    return user, True


def request_password_reset(email: str) -> None:
    """Email a reset link if an enabled account has this address; say nothing either way.
    Commits when a link was made."""
    user = find_user_by_email(email or "")
    if user is None or not user.is_enabled:
        return
    with transaction():
        token = new_password_link(user, PasswordLinkPurpose.RESET)
        password_link_issued.send(
            user,
            purpose=PasswordLinkPurpose.RESET,
            url=_link_url(token),
            lifetime=LIFETIMES[PasswordLinkPurpose.RESET],
        )


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
