"""The home page's own rules: when a visit starts, and the viewer's day and week."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldwork.accounts.models import User
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.home import Panel, registered_panels
from fieldwork.home.models import HomeVisit
from fieldwork.sampling.models import Study

#: Opening the home page again within this time is the same visit.
VISIT_GAP = dt.timedelta(hours=1)
#: On a first visit, "what changed" looks back this far.
FIRST_VISIT_LOOKBACK = dt.timedelta(days=7)


def role_of(user: User) -> str:
    return "coordinator" if user.is_coordinator else "interviewer"


def record_visit(user: User, study: Study, now: dt.datetime | None = None) -> dt.datetime:
    """Note that `user` opened the home page of `study`; commits. Returns the time "changes
    since your last visit" starts from: the start of the previous visit (or a week ago on the
    first one)."""
    now = now or now_utc()
    visit = db.session.scalars(
        select(HomeVisit).where(HomeVisit.user_id == user.id, HomeVisit.study_id == study.id)
    ).first()
    if visit is None:
        # A first visit looks back a week, so a new coordinator sees the recent news too.
        visit = HomeVisit(
            user_id=user.id,
            study_id=study.id,
            visit_started_at=now,
            previous_visit_at=now - FIRST_VISIT_LOOKBACK,
        )
        db.session.add(visit)
    elif now - visit.visit_started_at >= VISIT_GAP:
        visit.previous_visit_at = visit.visit_started_at
        visit.visit_started_at = now
    since = visit.previous_visit_at or (now - FIRST_VISIT_LOOKBACK)
    db.session.commit()
    return since


def last_visit_since(user: User, study: Study) -> dt.datetime:
    """The start of the window "changes since your last visit" covers, without recording a
    visit (for panels, which run after `record_visit`)."""
    previous = db.session.scalar(
        select(HomeVisit.previous_visit_at).where(
            HomeVisit.user_id == user.id, HomeVisit.study_id == study.id
        )
    )
    return previous or (now_utc() - FIRST_VISIT_LOOKBACK)


@dataclass(frozen=True)
class Day:
    """The viewer's today and the week ahead, as UTC bounds, read in their zone."""

    zone: str
    today: dt.date
    today_starts: dt.datetime
    tomorrow_starts: dt.datetime
    week_ends: dt.datetime


def viewer_day(zone_name: str, now: dt.datetime | None = None) -> Day:
    """Today (midnight to midnight in `zone_name`) and the seven days from today."""
    zone = ZoneInfo(zone_name)
    today = (now or now_utc()).astimezone(zone).date()

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=zone).astimezone(dt.UTC)

    return Day(
        zone=zone_name,
        today=today,
        today_starts=midnight(today),
        tomorrow_starts=midnight(today + dt.timedelta(days=1)),
        week_ends=midnight(today + dt.timedelta(days=7)),
    )


@dataclass(frozen=True)
class RenderedPanel:
    name: str
    template: str
    context: dict


def panels_for(user: User, study: Study) -> list[RenderedPanel]:
    """Run the registered panel functions for the user's role; those with nothing to show
    (None) are left out."""
    shown = []
    for registered in registered_panels(role_of(user)):
        result = registered.function(user, study)
        if result is None:
            continue
        if not isinstance(result, Panel):
            template, context = result
            result = Panel(template, dict(context))
        shown.append(RenderedPanel(registered.name, result.template, result.context))
    return shown
