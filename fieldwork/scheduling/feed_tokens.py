"""Interviewers' personal calendar feeds: the revocable token and what a feed lists."""

from __future__ import annotations

from sqlalchemy import select

from fieldwork.accounts.models import User
from fieldwork.core.time import now_utc
from fieldwork.core.tokens import hash_token, new_token
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.scheduling.appointments import with_people
from fieldwork.scheduling.models import (
    Appointment,
    CalendarFeed,
)


def feed_of(interviewer: User) -> CalendarFeed | None:
    return db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.interviewer_id == interviewer.id)
    )


def regenerate_feed_token(interviewer: User) -> str:
    """A new feed token for the interviewer; the previous URL stops working at once."""
    token = new_token()
    with transaction():
        feed = feed_of(interviewer)
        if feed is None:
            feed = CalendarFeed(interviewer_id=interviewer.id, token_hash=hash_token(token))
            db.session.add(feed)
        else:
            feed.token_hash = hash_token(token)
            feed.created_at = now_utc()
            feed.last_used_at = None
    return token


def revoke_feed(interviewer: User) -> None:
    with transaction():
        feed = feed_of(interviewer)
        if feed is not None:
            db.session.delete(feed)


def feed_appointments(token: str) -> tuple[User, list[Appointment]] | None:
    """The interviewer and all their appointments for a feed token, or None if unknown."""
    if not token or len(token) > 200:
        return None
    feed = db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == hash_token(token))
    )
    if feed is None:
        return None
    interviewer = db.session.get(User, feed.interviewer_id)
    if interviewer is None or not interviewer.is_enabled:
        return None
    with transaction():
        feed.last_used_at = now_utc()
    appointments = list(
        db.session.scalars(
            with_people(select(Appointment))
            .where(
                Appointment.interviewer_id == interviewer.id,
                # Studies are the unit of access: only the studies they still belong to.
                Appointment.study_id.in_(list(interviewer.study_roles)),
            )
            .order_by(Appointment.starts_at)
        ).unique()
    )
    return interviewer, appointments
