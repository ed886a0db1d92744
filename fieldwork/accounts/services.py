"""Rules for accounts: creating users, checking passwords, issuing and revoking API tokens."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from flask import has_request_context
from sqlalchemy import func, select

from fieldwork.accounts.models import ApiToken, Membership, TokenScope, User, UserRole
from fieldwork.accounts.passwords import password_problem
from fieldwork.core.time import now_utc
from fieldwork.core.tokens import hash_token, new_token
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db

#: API tokens are core tokens (256 random bits) with a marker that says what they are.
TOKEN_PREFIX = "fw_"  # noqa: S105 (a public marker, not a secret)


class AccountError(ValueError):
    """A request about accounts that cannot be met; the message is for the user."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    email: str,
    name: str,
    role: UserRole | str,
    password: str,
    timezone: str = "Europe/London",
    *,
    study_ids: list[int] | None = None,
    is_administrator: bool = False,
    is_enabled: bool = True,
) -> User:
    """Add a user, a member of `study_ids` with `role` in each; the email must be new. Commits."""
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise AccountError(f"A user with the email {email} already exists.")
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise AccountError(problem)
    with transaction():
        user = User(
            email=email,
            name=name.strip(),
            role=UserRole(role),
            timezone=timezone,
            session_version=0,
            is_administrator=is_administrator,
            is_enabled=is_enabled,
        )
        user.set_password(password)
        db.session.add(user)
        for study_id in study_ids or []:
            db.session.add(Membership(user=user, study_id=study_id, role=UserRole(role)))
    return user


def set_membership(user: User, study_id: int, role: UserRole | str | None) -> None:
    """Make the user a member of the study with `role`, or no member (None). Commits."""
    with transaction():
        membership = db.session.scalar(
            select(Membership).where(Membership.user_id == user.id, Membership.study_id == study_id)
        )
        if role is None:
            if membership is not None:
                db.session.delete(membership)
        elif membership is None:
            db.session.add(Membership(user_id=user.id, study_id=study_id, role=UserRole(role)))
        else:
            membership.role = UserRole(role)
    user.forget_study_roles()
    if has_request_context():
        from fieldwork.accounts.scoping import forget_member_studies

        forget_member_studies()


def study_members(study_id: int) -> list[tuple[User, UserRole]]:
    """The members of a study with their role there, coordinators first, then by name."""
    rows = db.session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.study_id == study_id)
        .order_by(Membership.role, func.lower(User.name))
    )
    return [(user, UserRole(role)) for user, role in rows]


def authenticate(email: str, password: str) -> User | None:
    """The enabled user with this email and password, or None (same time either way)."""
    user = find_user_by_email(email)
    if user is None:
        # Spend the same time as a real check, so timing does not tell which emails exist.
        User(password_hash=_DUMMY_HASH).check_password(password)
        return None
    if not user.check_password(password) or not user.is_enabled:
        return None
    return user


# A real hash of a throwaway password, checked when the email is unknown.
_DUMMY_HASH = (
    "scrypt:32768:8:1$Ccfc2qfAwNbTuJ1A$93a83497d9cdd853715f4565a5cd0e80cb2a1832deda8020f3c9fd0b3b"
    "313a29b48f6051ab4034d8496ad0a56f361b527b9934a950aecb5d8c5764b24f151015"
)


def create_api_token(
    user: User, label: str = "", scope: TokenScope | str = TokenScope.WRITE
) -> tuple[ApiToken, str]:
    """Issue a token; returns the row and the token itself, which is shown once only.

    The scope defaults to read and write, what every token could do before scopes existed, so
    scripts that create tokens without naming one keep working."""
    token = TOKEN_PREFIX + new_token()
    with transaction():
        row = ApiToken(
            user=user,
            label=label.strip()[:100],
            token_hash=hash_token(token),
            prefix=token[:10],
            scope=TokenScope(scope),
        )
        db.session.add(row)
    return row, token


def user_for_api_token(token: str) -> User | None:
    """The enabled owner of a live token, or None. Records when the token was last used."""
    row = live_api_token(token)
    return row.user if row is not None else None


def live_api_token(token: str) -> ApiToken | None:
    """The live token row (not revoked, its owner enabled) for `token`, or None; records when
    it was last used. Callers that must know the token's scope use this."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    # The look-up is by hash, so timing reveals nothing of the token; compare again anyway.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    if row.is_revoked or not row.user.is_enabled:
        return None
    with transaction():
        row.last_used_at = now_utc()
    return row


def list_api_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
        )
    )


def revoke_api_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens. Commits."""
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise AccountError("No such token.")
    if row.revoked_at is None:
        with transaction():
            row.revoked_at = now_utc()
    return row


def _current_study_id() -> int | None:
    if not has_request_context():
        return None
    from fieldwork.core.studies import current_study

    study = current_study()
    return study.id if study is not None else None


def list_users(study_id: int | None = None) -> list[User]:
    """The members of a study (by default the one being worked on; every user outside a
    request)."""
    query = select(User).order_by(User.role, func.lower(User.name))
    study_id = study_id if study_id is not None else _current_study_id()
    if study_id is not None:
        query = query.join(Membership, Membership.user_id == User.id).where(
            Membership.study_id == study_id
        )
    elif has_request_context():
        return []
    return list(db.session.scalars(query))


def list_interviewers(study_id: int | None = None) -> list[User]:
    """Enabled interviewers of a study (by default the one being worked on)."""
    study_id = study_id if study_id is not None else _current_study_id()
    query = select(User).where(User.is_enabled.is_(True)).order_by(func.lower(User.name))
    if study_id is not None:
        query = query.join(Membership, Membership.user_id == User.id).where(
            Membership.study_id == study_id, Membership.role == UserRole.INTERVIEWER
        )
    elif has_request_context():
        return []
    else:
        query = query.where(User.role == UserRole.INTERVIEWER)
    return list(db.session.scalars(query))


def bookable_people() -> list[User]:
    """Everyone who can hold an interview in the study being worked on: its interviewers, and
    coordinators who interview too."""
    people = [user for user in list_users() if user.is_enabled]
    return sorted(people, key=lambda user: (user.role != UserRole.INTERVIEWER, user.name))


def interviewers_by_id(ids: Sequence[int]) -> dict[int, User]:
    """The users with these ids, by id (one query)."""
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def update_user(
    user: User,
    *,
    name: str,
    email: str,
    role: UserRole | str,
    timezone: str,
    is_enabled: bool,
    is_administrator: bool | None = None,
) -> User:
    """Change a user's details (`is_administrator` None leaves that as it is); the email must
    stay unique. Commits."""
    email = normalise_email(email)
    with transaction():
        other = find_user_by_email(email)
        if other is not None and other.id != user.id:
            raise AccountError(f"A user with the email {email} already exists.")
        user.name, user.email, user.role = name.strip(), email, UserRole(role)
        user.timezone, user.is_enabled = timezone, is_enabled
        if is_administrator is not None:
            user.is_administrator = is_administrator
    return user


def save_member(
    user: User,
    study_id: int | None,
    *,
    name: str,
    email: str,
    role: UserRole | str,
    timezone: str,
    is_enabled: bool,
    is_administrator: bool | None,
    password: str = "",
) -> User:
    """Save a user's details, their role in the study being managed (if any) and, when
    given, a new password, as one change: a refused password or email saves nothing."""
    with transaction():
        update_user(
            user,
            name=name,
            email=email,
            role=role,
            timezone=timezone,
            is_enabled=is_enabled,
            is_administrator=is_administrator,
        )
        if study_id is not None:
            set_membership(user, study_id, role)
        if password:
            change_password(user, password)
    return user


def save_preferences(user: User, *, name: str, timezone: str) -> None:
    """The user's own name and time zone. Commits."""
    with transaction():
        user.name = name.strip()
        user.timezone = timezone


def end_sessions(user: User) -> None:
    """Every session and remember-me cookie of this user stops working. Commits."""
    with transaction():
        user.session_version = (user.session_version or 0) + 1


def change_password(user: User, new_password: str) -> None:
    """A new password (the policy applies); every existing session ends. Commits."""
    problem = password_problem(new_password, email=user.email, name=user.name)
    if problem:
        raise AccountError(problem)
    with transaction():
        user.set_password(new_password)
