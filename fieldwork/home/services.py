"""The home page's own rules: when a visit starts, and the viewer's day and week."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldwork.accounts.models import User
from fieldwork.core.time import now_utc
from fieldwork.core.transactions import transaction
from fieldwork.coverage import cache
from fieldwork.extensions import db
from fieldwork.home import Panel, RegisteredPanel, registered_panels
from fieldwork.home.models import HomeVisit
from fieldwork.sampling.models import Study

#: Opening the home page again within this time is the same visit.
VISIT_GAP = dt.timedelta(hours=1)
#: On a first visit, "what changed" looks back this far.
FIRST_VISIT_LOOKBACK = dt.timedelta(days=7)


def role_of(user: User) -> str:
    return "coordinator" if user.is_coordinator else "interviewer"


def record_visit(user: User, study: Study, now: dt.datetime | None = None) -> dt.datetime:
    """Note that `user` opened the home page of `study`. Returns the time "changes since your
    last visit" starts from: the start of the previous visit (or a week ago on the first one).
    Writes (and commits) only when a visit starts, so a page opened again within `VISIT_GAP`
    costs one read and no commit."""
    now = now or now_utc()
    visit = db.session.scalars(
        select(HomeVisit).where(HomeVisit.user_id == user.id, HomeVisit.study_id == study.id)
    ).first()
    if visit is not None and now - visit.visit_started_at < VISIT_GAP:
        return visit.previous_visit_at or (now - FIRST_VISIT_LOOKBACK)
    with transaction():
        if visit is None:
            # A first visit looks back a week, so a new coordinator sees the recent news too.
            visit = HomeVisit(
                user_id=user.id,
                study_id=study.id,
                visit_started_at=now,
                previous_visit_at=now - FIRST_VISIT_LOOKBACK,
            )
            db.session.add(visit)
        else:
            visit.previous_visit_at = visit.visit_started_at
            visit.visit_started_at = now
        since = visit.previous_visit_at or (now - FIRST_VISIT_LOOKBACK)
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


def _run(registered: RegisteredPanel, user: User, study: Study) -> RenderedPanel | None:
    """Call one panel function; None when it has nothing to show."""
    result = registered.function(user, study)
    if result is None:
        return None
    if not isinstance(result, Panel):
        template, context = result
        result = Panel(template, dict(context))
    return RenderedPanel(registered.name, result.template, result.context)


def panels_for(user: User, study: Study) -> list[RenderedPanel]:
    """Run the registered panel functions for the user's role; those with nothing to show
    (None) are left out."""
    shown = (_run(registered, user, study) for registered in registered_panels(role_of(user)))
    return [panel for panel in shown if panel is not None]


def _next_minute(now: dt.datetime) -> dt.datetime:
    return now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)


def panels_html(
    user: User,
    study: Study,
    render: Callable[[RenderedPanel], str],
    now: dt.datetime | None = None,
) -> list[str]:
    """The HTML of the user's panels, in order. Panels registered with ``cached=True`` are
    rendered once per viewer, study revision and minute (the coverage cache: entries of a
    study's older revisions are dropped when a newer one is stored, so an erased name does not
    outlive the next view); the others on every view.

    The key holds everything the cached panels depend on besides the study's rows: the viewer
    (their id, role and zone, which also fix their day) and the registrations themselves. "Now"
    is bounded by the entry holding only until the next minute; midnight in any zone falls on
    a minute boundary, so the viewer's day is too."""
    now = now or now_utc()
    panels = registered_panels(role_of(user))

    def html_of(registered: RegisteredPanel) -> str | None:
        panel = _run(registered, user, study)
        return None if panel is None else render(panel)

    def compute() -> tuple[dict[str, str | None], dt.datetime]:
        kept = {p.name: html_of(p) for p in panels if p.cached}
        return kept, _next_minute(now)

    cacheable = tuple(p for p in panels if p.cached)
    kept = (
        cache.cached(
            study.id, ("home", user.id, role_of(user), user.timezone, cacheable), now, compute
        )
        if cacheable
        else {}
    )
    shown = (kept[p.name] if p.cached else html_of(p) for p in panels)
    return [html for html in shown if html is not None]
