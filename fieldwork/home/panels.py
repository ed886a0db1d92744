"""The built-in panels of the home page, registered like any domain's (see `fieldwork.home`).

Every panel costs a fixed number of queries (a short list and its total), whatever the size of
the study; interviewers' panels carry only their own rows.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, or_, select

from fieldwork import home
from fieldwork.accounts.models import User
from fieldwork.audit import services as audit
from fieldwork.core.pagination import paginate
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.home import services
from fieldwork.outbox.models import OutboxMessage, OutboxState
from fieldwork.pipeline import panels as pipeline_panels
from fieldwork.recruitment.contacts import follow_ups_query
from fieldwork.replies import panels as replies_panels
from fieldwork.sampling.models import Study
from fieldwork.scheduling import queries as scheduling

#: A message still pending this long after it was due is "waiting longer than it should".
MESSAGE_LATE_AFTER = dt.timedelta(minutes=15)
#: A message claimed this long ago and still "sending" was interrupted.
MESSAGE_INTERRUPTED_AFTER = dt.timedelta(minutes=10)


def _zone(user: User) -> str:
    return user.timezone


def interviews_panel(user: User, study: Study) -> home.Panel:
    """Coordinators: today's interviews and the rest of the week's, in the viewer's zone."""
    day = services.viewer_day(_zone(user))
    today = scheduling.interviews_between(study, user, day.today_starts, day.tomorrow_starts)
    week = scheduling.interviews_between(study, user, day.tomorrow_starts, day.week_ends)
    return home.Panel("home/_interviews.html", {"day": day, "today": today, "week": week})


def next_interviews_panel(user: User, study: Study) -> home.Panel:
    """Interviewers: their next interviews, from now on (today's first)."""
    now = now_utc()
    upcoming = scheduling.interviews_between(
        study, user, now - dt.timedelta(hours=1), now + dt.timedelta(days=60), limit=10
    )
    return home.Panel("home/_next_interviews.html", {"upcoming": upcoming})


def outcomes_panel(user: User, study: Study) -> home.Panel:
    """Interviews whose time is over without an outcome; listed until one is recorded."""
    return home.Panel("home/_outcomes.html", {"owed": scheduling.outcomes_owed(study, user)})


def to_rebook_panel(user: User, study: Study) -> home.Panel:
    """People whose interview was missed or cancelled and who have nothing booked."""
    return home.Panel("home/_to_rebook.html", {"rebook": scheduling.to_rebook(study, user)})


def follow_ups_panel(user: User, study: Study) -> home.Panel:
    """Contacts whose next action falls today or earlier (the viewer's own for interviewers)."""
    today = services.viewer_day(_zone(user)).today
    due = paginate(follow_ups_query(study, user, today), 1, 10, bounded=True)
    return home.Panel("home/_follow_ups.html", {"due": due, "today": today})


def to_contact_panel(user: User, study: Study) -> home.Panel:
    """Interviewers: the people assigned to them who are not booked yet."""
    return home.Panel("home/_to_contact.html", {"people": scheduling.to_contact(study, user)})


def message_attention(study: Study, now: dt.datetime | None = None) -> dict[str, int]:
    """How many of the study's messages failed, wait past their due time, or were interrupted
    while sending: one grouped query."""
    now = now or now_utc()
    late = (OutboxMessage.state == OutboxState.PENDING) & (
        OutboxMessage.due_at < now - MESSAGE_LATE_AFTER
    )
    interrupted = (OutboxMessage.state == OutboxState.SENDING) & (
        OutboxMessage.claimed_at < now - MESSAGE_INTERRUPTED_AFTER
    )
    failed = OutboxMessage.state == OutboxState.FAILED
    row = db.session.execute(
        select(
            func.coalesce(func.sum(case((failed, 1), else_=0)), 0),
            func.coalesce(func.sum(case((late, 1), else_=0)), 0),
            func.coalesce(func.sum(case((interrupted, 1), else_=0)), 0),
        ).where(or_(OutboxMessage.study_id == study.id, OutboxMessage.study_id.is_(None)))
    ).one()
    return {"failed": int(row[0]), "late": int(row[1]), "interrupted": int(row[2])}


def messages_panel(user: User, study: Study) -> home.Panel:
    """Coordinators: messages that failed or wait longer than they should."""
    return home.Panel("home/_messages.html", {"attention": message_attention(study)})


def changes_panel(user: User, study: Study) -> home.Panel:
    """Coordinators: self-bookings, cancellations, consents and withdrawals since the start of
    their previous visit, made by anyone but them."""
    since = services.last_visit_since(user, study)
    events, total = audit.changes_since(study, since, except_actor_id=user.id, limit=15)
    return home.Panel("home/_changes.html", {"since": since, "events": events, "total": total})


def register_builtin_panels() -> None:
    """Register the built-in panels. `cached=True` only where every row the panel reads changes
    the study's revision token; the users it names (interviewers) are not tracked, so a renamed
    interviewer shows within the minute an entry holds."""
    both = ("coordinator", "interviewer")
    # Appointments, participants: tracked.
    home.register_panel("interviews", 10, ("coordinator",), interviews_panel, cached=True)
    home.register_panel("next_interviews", 10, ("interviewer",), next_interviews_panel, cached=True)
    # Calendar replies and their appointments: tracked (mailbox_message is not read).
    home.register_panel(
        "calendar_answers", 15, ("interviewer",), replies_panels.answers_panel, cached=True
    )
    home.register_panel("outcomes", 20, both, outcomes_panel, cached=True)
    home.register_panel("to_rebook", 30, both, to_rebook_panel, cached=True)
    home.register_panel("calendar_declines", 31, both, replies_panels.declines_panel, cached=True)
    # Contact attempts and assignments: tracked.
    home.register_panel("follow_ups", 40, both, follow_ups_panel, cached=True)
    # Pipeline entries of held interviews and withdrawals: tracked.
    home.register_panel("pipeline_due", 45, both, pipeline_panels.due_panel, cached=True)
    home.register_panel("to_contact", 50, ("interviewer",), to_contact_panel, cached=True)
    # The outbox is bookkeeping (a message failing or sending changes no token): every view.
    home.register_panel("messages", 60, ("coordinator",), messages_panel)
    # The audit log and the visit are bookkeeping: every view.
    home.register_panel("changes", 70, ("coordinator",), changes_panel)
