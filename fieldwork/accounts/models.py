"""Users and their API tokens."""

from __future__ import annotations

import datetime as dt
import enum

from flask import has_request_context, request
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from fieldwork.config import setting
from fieldwork.core.models import string_enum
from fieldwork.core.time import UTCDateTime, now_utc
from fieldwork.extensions import Model, db


class UserRole(enum.StrEnum):
    """What a user may do: coordinators everything, interviewers what is theirs."""

    COORDINATOR = "coordinator"
    INTERVIEWER = "interviewer"


class User(UserMixin, Model):
    """A person who logs in: a fieldwork coordinator or an interviewer."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Login name; stored lower-case so look-ups ignore case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The role a new membership gets by default (the command line's --role); what a user may
    #: do in a study follows their membership there (`Membership.role`).
    role: Mapped[UserRole] = mapped_column(string_enum(UserRole, 20))
    #: An installation administrator manages studies and users (still sees only member studies).
    is_administrator: Mapped[bool] = mapped_column(default=False)
    #: A salted hash (werkzeug's scrypt); the password itself is never stored.
    password_hash: Mapped[str] = mapped_column(String(256))
    #: IANA zone in which this user reads dates and times.
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    #: A deactivated user cannot log in; their records stay.
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: Changes on every password change, logout and "sign out everywhere", so every session
    #: (and remember-me cookie) issued before stops working.
    session_version: Mapped[int] = mapped_column(default=1)

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="raise"
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="raise"
    )

    #: {study id: role}, read once per loaded user (see `study_roles`).
    _study_roles = None

    @property
    def study_roles(self) -> dict[int, UserRole]:
        """The studies this user belongs to, with their role in each (one query, then cached)."""
        if self._study_roles is None:
            if has_request_context():  # the request's one membership query (see scoping)
                from fieldwork.accounts.scoping import member_roles

                roles, _ = member_roles(db.session(), self.id)
                self._study_roles = {study_id: UserRole(role) for study_id, role in roles.items()}
            else:
                rows = db.session.execute(
                    select(Membership.study_id, Membership.role).where(
                        Membership.user_id == self.id
                    )
                )
                self._study_roles = {study_id: UserRole(role) for study_id, role in rows}
        return self._study_roles

    def forget_study_roles(self) -> None:
        """Memberships changed: read them again on next use."""
        self._study_roles = None

    def role_in(self, study_id: int | None) -> UserRole | None:
        return self.study_roles.get(study_id) if study_id is not None else None

    @property
    def coordinated_study_ids(self) -> list[int]:
        """The studies this user coordinates (they see everyone's rows there)."""
        return [sid for sid, role in self.study_roles.items() if role == UserRole.COORDINATOR]

    def is_coordinator_of(self, study_id: int | None) -> bool:
        """Coordinator of that study: only a membership there as coordinator says so."""
        return self.role_in(study_id) == UserRole.COORDINATOR

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.is_enabled

    @property
    def is_coordinator(self) -> bool:
        """Coordinator of the study being worked on (the one chosen in the header).

        Without a study (none exists, or none the user belongs to) an administrator counts as
        coordinator, so they can create one. Outside a request (commands, jobs) there is no
        current study and the user's default role answers.
        """
        if not has_request_context():
            return self.role == UserRole.COORDINATOR
        from fieldwork.core.studies import current_study, study_named_by_api_request

        study = current_study()
        if study is None:
            return self.is_administrator
        if not self.is_coordinator_of(study.id):
            return False
        if request.path.startswith("/api/") and study_named_by_api_request() is None:
            # An API call on a single item names no study: it may touch any study the user
            # belongs to, so it is a coordinator's only if they coordinate every one of them.
            return all(role == UserRole.COORDINATOR for role in self.study_roles.values())
        return True

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        # Tests set a cheap method through PASSWORD_HASH_METHOD; the default is werkzeug's scrypt.
        method = setting("PASSWORD_HASH_METHOD")
        self.password_hash = generate_password_hash(password, method=method)
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class Membership(Model):
    """A user's place in one study: studies are the unit of access."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "study_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    #: What the user may do in this study.
    role: Mapped[UserRole] = mapped_column(string_enum(UserRole, 20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)

    user: Mapped[User] = relationship(back_populates="memberships", lazy="joined")


class PasswordLinkPurpose(enum.StrEnum):
    """Why a set-password link was sent."""

    INVITATION = "invitation"
    RESET = "reset"


class PasswordLink(Model):
    """A link that lets its holder choose a password once: an invitation or a reset.

    Only the token's SHA-256 is kept; the link expires and works once."""

    __tablename__ = "password_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[PasswordLinkPurpose] = mapped_column(string_enum(PasswordLinkPurpose, 20))
    #: Hex SHA-256 of the token in the emailed link.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: When a password was chosen through it (or a newer link replaced it); then it is dead.
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class TokenScope(enum.StrEnum):
    """What an API token may do. Every token reads; only a write token changes anything."""

    READ = "read"
    #: Read and write.
    WRITE = "write"

    @property
    def label(self) -> str:
        return "Read only" if self is TokenScope.READ else "Read and write"


class ApiToken(Model):
    """A personal token for `Authorization: Bearer`; only its SHA-256 is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: What the owner called it, e.g. "laptop script".
    label: Mapped[str] = mapped_column(String(100), default="")
    #: Hex SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters, so the owner can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    #: Read only, or read and write; tokens issued before scopes existed kept read and write.
    scope: Mapped[TokenScope] = mapped_column(
        string_enum(TokenScope, 10), default=TokenScope.WRITE, server_default=TokenScope.WRITE.value
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens", lazy="joined")

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.WRITE
