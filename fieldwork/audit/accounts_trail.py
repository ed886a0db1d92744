"""User and API-token changes as audit events, whichever code path makes them.

Accounts are changed from pages, the command line and (soon) invitations; rather than ask every
path to remember the audit trail, the trail watches the session: a new user, a change of a
user's name, email, role, time zone or enabled state, a password change, and an API token made
or revoked are each recorded in the same flush, by the logged-in user when there is one.
Never a secret: a password change records only that it happened.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import InstanceState, Session

from fieldwork.accounts.models import ApiToken, User
from fieldwork.audit.models import AuditEvent
from fieldwork.core.time import now_utc

#: The user fields whose changes are worth an event, and their plain names.
WATCHED_FIELDS = ("name", "email", "role", "timezone", "is_enabled")


def _actor_id() -> int | None:
    if not has_request_context():
        return None
    from flask_login import current_user

    if current_user and getattr(current_user, "is_authenticated", False):
        return getattr(current_user, "id", None)
    return None


def _value(value: Any) -> Any:
    return getattr(value, "value", value)


def _event(action: str, subject_type: str, subject_id: int | None, **values) -> AuditEvent:
    return AuditEvent(
        action=action,
        actor_id=_actor_id(),
        study_id=None,
        subject_type=subject_type,
        subject_id=subject_id,
        before=values.get("before"),
        after=values.get("after"),
        created_at=now_utc(),
    )


def _user_changes(user: User) -> tuple[dict, dict, bool]:
    state: InstanceState[User] = inspect(user)
    before: dict = {}
    after: dict = {}
    for name in WATCHED_FIELDS:
        history = state.attrs[name].history
        if not history.has_changes():
            continue
        if history.deleted:  # the old value was loaded: the event shows both
            before[name] = _value(history.deleted[0])
        after[name] = _value(history.added[0]) if history.added else None
    # A new hash is a new password (whether or not the old hash was loaded).
    return before, after, state.attrs["password_hash"].history.has_changes()


def _after_flush(session: Session, _context) -> None:
    """Note the events for what this flush wrote (the session still shows what was new and
    dirty); `_after_flush_postexec` adds them, and the commit flushes them too."""
    events: list[AuditEvent] = []
    for item in session.new:
        if isinstance(item, User):
            events.append(
                _event(
                    "user.created",
                    "user",
                    item.id,
                    after={"name": item.name, "email": item.email, "role": _value(item.role)},
                )
            )
        elif isinstance(item, ApiToken):
            events.append(
                _event(
                    "token.created",
                    "api_token",
                    item.id,
                    after={
                        "label": item.label,
                        "prefix": item.prefix,
                        "user_id": item.user_id,
                        "scope": _value(item.scope),
                    },
                )
            )
    for item in session.dirty:
        if isinstance(item, User) and item not in session.new:
            before, after, password_changed = _user_changes(item)
            if after:
                events.append(
                    _event(
                        "user.updated",
                        "user",
                        item.id,
                        before=before,
                        after={"name": item.name, **after},
                    )
                )
            if password_changed:
                events.append(
                    _event("user.password_changed", "user", item.id, after={"name": item.name})
                )
        elif isinstance(item, ApiToken):
            history = inspect(item).attrs["revoked_at"].history
            if history.has_changes() and item.revoked_at is not None:
                events.append(
                    _event(
                        "token.revoked",
                        "api_token",
                        item.id,
                        after={"label": item.label, "prefix": item.prefix},
                    )
                )
    if events:
        session.info.setdefault("audit_pending", []).extend(events)


def _after_flush_postexec(session: Session, _context) -> None:
    for item in session.info.pop("audit_pending", []):
        session.add(item)


def watch() -> None:
    """Listen on Flask-SQLAlchemy's session class (once per process)."""
    from flask_sqlalchemy.session import Session as session_class

    if not event.contains(session_class, "after_flush", _after_flush):
        event.listen(session_class, "after_flush", _after_flush)
        event.listen(session_class, "after_flush_postexec", _after_flush_postexec)
