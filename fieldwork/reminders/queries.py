"""The reminders the API lists, with their filters.

Filters arrive as the API's parsed arguments (absent filters are missing); `study` is None for
every study (only the deprecated paths allow that)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from fieldwork.extensions import db
from fieldwork.reminders.models import Reminder
from fieldwork.sampling.models import Study
from fieldwork.scheduling.models import Appointment


def _reminders() -> Select:
    return select(Reminder).options(
        joinedload(Reminder.appointment), joinedload(Reminder.outbox_message)
    )


def reminder_query(study: Study | None, filters: Mapping[str, Any]) -> Select:
    """Latest due first. Filters: `state`, `recipient`, `appointment` (id)."""
    statement = _reminders().order_by(Reminder.due_at.desc(), Reminder.id.desc())
    if filters.get("state") is not None:
        statement = statement.where(Reminder.state == filters["state"])
    if filters.get("recipient") is not None:
        statement = statement.where(Reminder.recipient == filters["recipient"])
    if filters.get("appointment") is not None:
        statement = statement.where(Reminder.appointment_id == filters["appointment"])
    if study is not None:
        statement = statement.where(
            Reminder.appointment_id.in_(
                select(Appointment.id).where(Appointment.study_id == study.id)
            )
        )
    return statement


def get_reminder(reminder_id: int) -> Reminder | None:
    return db.session.scalars(_reminders().where(Reminder.id == reminder_id)).unique().first()
