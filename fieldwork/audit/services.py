"""Writing and reading the audit trail. Other domains call `record_event` inside their own
transaction; nothing here commits."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, Text, cast, func, or_, select
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.audit.models import AuditEvent
from fieldwork.core.time import UTC, now_utc
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db

if TYPE_CHECKING:
    from fieldwork.sampling.models import Study

#: What replaces an erased value inside earlier events.
ERASED = "[erased]"


def record_event(
    action: str,
    *,
    actor: User | None,
    study_id: int | None,
    subject_type: str,
    subject_id: int | None,
    participant_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an event to the session; the caller's commit writes it with the change itself."""
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None and getattr(actor, "id", None) else None,
        study_id=study_id,
        subject_type=subject_type,
        subject_id=subject_id,
        participant_id=participant_id,
        before=_jsonable(before),
        after=_jsonable(after),
        created_at=now_utc(),
    )
    db.session.add(event)
    return event


def record_download(actor: User | None, study_id: int | None, what: str) -> None:
    """An audit event for a download of personal data ("Cora downloaded the participant list
    as CSV"). Commits."""
    with transaction():
        record_event(
            "export.downloaded",
            actor=actor,
            study_id=study_id,
            subject_type="study",
            subject_id=study_id,
            after={"what": what},
        )


def _jsonable(value: Any) -> Any:
    """Dates and enums as strings, so any JSON column on any database takes them."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(item) for item in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool):
        return value.value if hasattr(value, "value") else value
    return str(value)


def scrub_values(value: Any, secrets: Iterable[str]) -> Any:
    """`value` with every string that contains one of `secrets` replaced by "[erased]"."""
    needles = [s.lower() for s in secrets if s and len(s.strip()) > 0]
    return _scrub(value, needles)


def _scrub(value: Any, needles: list[str]) -> Any:
    if isinstance(value, dict):
        return {key: _scrub(item, needles) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, needles) for item in value]
    if isinstance(value, str) and any(needle in value.lower() for needle in needles):
        return ERASED
    return value


def scrub_participant_events(
    participant_id: int,
    secrets: Iterable[str],
    study_id: int | None = None,
    identifying: Iterable[str] = (),
) -> int:
    """Remove erased personal data from earlier events: those about the participant (every
    value in `secrets`), and, given `study_id`, any other event of the study whose payload
    holds one of the `identifying` values (name, email, phone), such as an import. No commit.

    Returns how many events changed.
    """
    needles = [s for s in secrets if s]
    strong = [s for s in identifying if s]
    changed = 0
    for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.participant_id == participant_id)
    ):
        before = scrub_values(event.before, needles)
        after = scrub_values(event.after, needles)
        if before != event.before or after != event.after:
            event.before, event.after = before, after
            changed += 1
    if study_id is None or not strong:
        return changed
    mentions = [
        or_(
            cast(AuditEvent.before, Text).ilike(f"%{form}%", escape="\\"),
            cast(AuditEvent.after, Text).ilike(f"%{form}%", escape="\\"),
        )
        for needle in strong
        for form in {_like(json.dumps(needle)[1:-1]), _like(needle)}
    ]
    others = select(AuditEvent).where(
        AuditEvent.study_id == study_id,
        or_(AuditEvent.participant_id.is_(None), AuditEvent.participant_id != participant_id),
        or_(*mentions),
    )
    for event in db.session.scalars(others):
        before = scrub_values(event.before, strong)
        after = scrub_values(event.after, strong)
        if before != event.before or after != event.after:
            event.before, event.after = before, after
            changed += 1
    return changed


def _like(text: str) -> str:
    """`text` escaped for LIKE. Stored JSON may hold a value as written or \\u-escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- Reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilters:
    """What the audit page is narrowed to; every field optional."""

    action: str = ""
    reference: str = ""
    actor_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _in_trail(study: Study):
    """A study's own events and the installation's (e.g. the deletion of another study)."""
    return or_(AuditEvent.study_id == study.id, AuditEvent.study_id.is_(None))


def event_query(study: Study, filters: EventFilters) -> Select:
    """The events of a study and of the installation, newest first, actor and participant
    loaded."""
    statement = (
        select(AuditEvent)
        .where(_in_trail(study))
        .options(joinedload(AuditEvent.actor), joinedload(AuditEvent.participant))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    if filters.action:
        statement = statement.where(AuditEvent.action == filters.action)
    if filters.reference:
        # The participant model, reached through the relationship: sampling sits above audit.
        participant = AuditEvent.participant.property.mapper.class_
        statement = statement.where(
            AuditEvent.participant_id.in_(
                select(participant.id).where(
                    participant.study_id == study.id,
                    func.upper(participant.reference) == filters.reference.strip().upper(),
                )
            )
        )
    if filters.actor_id:
        statement = statement.where(AuditEvent.actor_id == filters.actor_id)
    if filters.date_from:
        start = dt.datetime.combine(filters.date_from, dt.time.min, tzinfo=UTC)
        statement = statement.where(AuditEvent.created_at >= start)
    if filters.date_to:
        end = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=UTC)
        statement = statement.where(AuditEvent.created_at < end)
    return statement


def actions_in(study: Study) -> list[str]:
    """The actions that occur in a study's trail, for the filter's choices."""
    return list(
        db.session.scalars(
            select(AuditEvent.action).where(_in_trail(study)).distinct().order_by(AuditEvent.action)
        )
    )


def actors_in(study: Study) -> list[User]:
    """The users who appear in a study's trail, for the filter's choices."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.id.in_(select(AuditEvent.actor_id).where(_in_trail(study))))
            .order_by(func.lower(User.name))
        )
    )


def events_for_participant(participant_id: int, limit: int = 200) -> list[AuditEvent]:
    """A participant's history, newest first, with the actor loaded (one query)."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.participant_id == participant_id)
            .options(joinedload(AuditEvent.actor), joinedload(AuditEvent.participant))
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


#: What a coordinator's home page lists under "changed since your last visit".
NOTEWORTHY_ACTIONS = (
    "appointment.booked",
    "appointment.cancelled",
    "appointment.moved",
    "appointment.self_booked",
    "appointment.self_moved",
    "appointment.self_cancelled",
    "consent.recorded",
    "consent.withdrawn",
    "participant.withdrawn",
)


def changes_since(
    study: Study,
    since: dt.datetime,
    *,
    except_actor_id: int | None = None,
    actions: Iterable[str] = NOTEWORTHY_ACTIONS,
    limit: int = 20,
) -> tuple[list[AuditEvent], int]:
    """Events of the study after `since` (newest first, at most `limit`, actor and participant
    loaded) that someone other than `except_actor_id` made, and how many there are in all."""
    statement = select(AuditEvent).where(
        AuditEvent.study_id == study.id,
        AuditEvent.created_at > since,
        AuditEvent.action.in_(tuple(actions)),
    )
    if except_actor_id is not None:
        statement = statement.where(
            or_(AuditEvent.actor_id.is_(None), AuditEvent.actor_id != except_actor_id)
        )
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = db.session.scalars(
        statement.options(joinedload(AuditEvent.actor), joinedload(AuditEvent.participant))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(rows), total
