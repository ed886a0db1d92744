"""The funder's weekly report: every figure of one ISO week, as of the week's end.

The figures come from the coverage services (`dashboard` as of the week's end) and the
pipeline's grouped counts; nothing is counted here. A report is a plain dictionary (`content`)
that the page, the PDF and the email all render, so they cannot disagree. A finished week's
report is stored the first time it is made (`WeeklyReport`) and read back ever after: the same
week always shows the same figures, whatever happens to the records later. A week not over yet
is made afresh each time and says it is provisional.

It holds no personal data: participants appear by their pseudonymous reference only, staff not
at all.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldwork.core.time import now_utc
from fieldwork.coverage import services as coverage
from fieldwork.coverage.figures import Figures
from fieldwork.coverage.rates import DEFINITIONS as RATE_DEFINITIONS
from fieldwork.extensions import db
from fieldwork.pipeline.board import board_of
from fieldwork.pipeline.figures import step_counts
from fieldwork.pipeline.steps import achieved_step
from fieldwork.reports import queries
from fieldwork.reports.models import ReportSetting, WeeklyReport
from fieldwork.sampling.models import Study

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
MAX_RECIPIENTS = 50
#: A cell is at risk when its share achieved trails the share of the fieldwork window gone by
#: more than this (or, without a window, when under half its target is achieved).
RISK_MARGIN = 0.25

DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "Achieved",
        "People with a held interview and a consent to take part that stands (or was withdrawn "
        "with the data kept), counted once however many interviews they gave. When the study "
        "counts interviews only after a pipeline step, that step must be done too.",
    ),
    ("Interviewed", "People with a held interview and a consent that counts, whatever step."),
    ("Target", "The number of people to interview in a cell (role × phase), set by the team."),
    ("Booked", "People not yet achieved with an interview booked after the week's end."),
    (
        "Still needed",
        "Target minus achieved; “uncovered” also subtracts the interviews booked.",
    ),
    (
        "Heat map",
        "Each cell: achieved of target and the share; ✔ target met, ◕ 75% or more, ◑ 50% or "
        "more, ◔ 25% or more, ○ under 25%, – no target.",
    ),
    (
        "At risk",
        "A cell still short once booked interviews are counted whose share achieved trails the "
        f"share of the fieldwork window gone by more than {int(RISK_MARGIN * 100)} points "
        "(without a window: under half achieved), while the fieldwork window still has time.",
    ),
    (
        "Pipeline",
        "Steps after a held interview; a step is overdue when its due date (working days after "
        "the interview, bank holidays of England and Wales skipped) passed before the week's end.",
    ),
    (
        "As of",
        "Every figure is counted as of the end of the week (Sunday midnight in the study's zone). "
        "A finished week's figures are kept the first time the report is made, so it always "
        "reads the same.",
    ),
)


class ReportError(ValueError):
    """A report that cannot be made; the message is for the user."""


# --- Weeks -----------------------------------------------------------------------------------


def parse_week(text: str) -> dt.date:
    """The Monday of an ISO week written YYYY-Www (e.g. 2026-W48)."""
    match = WEEK.match((text or "").strip())
    if not match:
        raise ReportError("Write the week as YYYY-Www, e.g. 2026-W48.")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        return dt.date.fromisocalendar(year, week, 1)
    except ValueError as error:
        raise ReportError(f"{year} has no week {week}.") from error


def week_label(monday: dt.date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(study: Study, monday: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The week's start and end (next Monday, midnight) in the study's zone, as UTC."""
    zone = ZoneInfo(study.timezone)
    start = dt.datetime.combine(monday, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def last_finished_week(study: Study, now: dt.datetime | None = None) -> dt.date:
    """The Monday of the latest week that has ended in the study's zone."""
    today = (now or now_utc()).astimezone(ZoneInfo(study.timezone)).date()
    return today - dt.timedelta(days=today.weekday() + 7)


# --- Building the content --------------------------------------------------------------------


def _share(achieved: int, target: int | None) -> float | None:
    return round(achieved / target, 4) if target else None


def _figures(figures: Figures) -> dict:
    symbol, words = figures.verdict
    return {
        "target": figures.target,
        "achieved": figures.achieved,
        "interviewed": figures.interviewed,
        "booked": figures.booked,
        "needed": figures.needed,
        "uncovered": figures.uncovered,
        "share": _share(figures.achieved, figures.target),
        "band": figures.band,
        "symbol": symbol,
        "words": words,
        "rates": {
            key: None if value is None else round(value, 4) for key, value in figures.rates.items()
        },
    }


def _risks(board: coverage.Dashboard, study: Study, as_of: dt.date) -> tuple[list[dict], dict]:
    starts, ends = study.fieldwork_starts_on, study.fieldwork_ends_on
    window: dict = {
        "starts_on": starts.isoformat() if starts else None,
        "ends_on": ends.isoformat() if ends else None,
        "weeks_left": None,
        "elapsed": None,
    }
    if ends is not None:
        window["weeks_left"] = round(max((ends - as_of).days, 0) / 7, 1)
    if starts is not None and ends is not None and ends > starts:
        elapsed = min(max((as_of - starts).days / (ends - starts).days, 0.0), 1.0)
        window["elapsed"] = round(elapsed, 4)
    if ends is not None and as_of >= ends:
        return [], window  # no time left: nothing to act on
    risks: list[dict[str, Any]] = []
    for role in board.roles:
        for phase in board.phases:
            figures = board.cell(role.id, phase.id)
            if not figures.target or not figures.uncovered:
                continue
            share = figures.share or 0.0
            expected = window["elapsed"] if window["elapsed"] is not None else 0.75
            if share >= expected - RISK_MARGIN:
                continue
            weeks_left = window["weeks_left"]
            risks.append(
                {
                    "role": role.name,
                    "phase": phase.name,
                    "target": figures.target,
                    "achieved": figures.achieved,
                    "booked": figures.booked,
                    "uncovered": figures.uncovered,
                    "share": _share(figures.achieved, figures.target),
                    "per_week_needed": round(figures.uncovered / weeks_left, 1)
                    if weeks_left
                    else None,
                }
            )
    risks.sort(key=lambda r: (-r["uncovered"], r["share"] or 0, r["role"], r["phase"]))
    return risks, window


def _pipeline(study: Study, as_of: dt.datetime) -> dict:
    held, counts = step_counts(study, until=as_of)
    board = board_of(study, None, now=as_of - dt.timedelta(microseconds=1))
    overdue = {c.step.position: c.overdue for c in board.columns if c.step}
    waiting = {c.step.position: len(c.interviews) for c in board.columns if c.step}
    step = achieved_step(study)
    return {
        "held": held,
        "achieved_step": step.name if step else None,
        "steps": [
            {
                "name": count.name,
                "due_working_days": count.due_working_days,
                "done": count.done,
                "undone": count.undone,
                "waiting": waiting.get(count.position, 0),
                "overdue": overdue.get(count.position, 0),
            }
            for count in counts
        ],
        "complete": next((len(c.interviews) for c in board.columns if c.step is None), 0),
    }


def build_content(study: Study, monday: dt.date, now: dt.datetime | None = None) -> dict:
    """Every figure of the week's report, as of the week's end (or now, for a week not over)."""
    now = now or now_utc()
    starts_at, ends_at = week_bounds(study, monday)
    if now < starts_at:
        raise ReportError("That week has not started yet.")
    as_of = min(ends_at, now)
    board = coverage.dashboard(study, now=as_of)
    zone = ZoneInfo(study.timezone)
    as_of_day = (as_of - dt.timedelta(microseconds=1)).astimezone(zone).date()
    risks, window = _risks(board, study, as_of_day)
    this_week = queries.interviews_between(study, starts_at, ends_at)
    next_week = queries.interviews_between(study, ends_at, ends_at + dt.timedelta(days=7))
    return {
        "study": {"name": study.name, "slug": study.slug, "timezone": study.timezone},
        "week": week_label(monday),
        "starts_on": monday.isoformat(),
        "ends_on": (monday + dt.timedelta(days=6)).isoformat(),
        "as_of": as_of.isoformat(),
        "made_at": now.isoformat(),
        "is_provisional": now < ends_at,
        "window": window,
        "overall": _figures(board.overall),
        "phases": [
            {"name": phase.name, **_figures(board.by_phase[phase.id])} for phase in board.phases
        ],
        "grid": [
            {
                "role": role.name,
                "cells": [
                    {"phase": phase.name, **_figures(board.cell(role.id, phase.id))}
                    for phase in board.phases
                ],
                "total": _figures(board.by_role[role.id]),
            }
            for role in board.roles
        ],
        "weeks": [
            {
                "starts_on": week.starts_on.isoformat(),
                "held": week.held,
                "cumulative": week.cumulative,
            }
            for week in board.weeks
            if week.starts_on <= monday
        ],
        "interviews": {
            "this_week": [_interview(row, zone) for row in this_week],
            "next_week": [_interview(row, zone) for row in next_week],
        },
        "pipeline": _pipeline(study, as_of),
        "risks": risks,
        "rate_definitions": [list(item) for item in RATE_DEFINITIONS],
        "definitions": [list(item) for item in DEFINITIONS],
    }


def _interview(row, zone: ZoneInfo) -> dict:
    return {
        "date": row.starts_at.astimezone(zone).date().isoformat(),
        "reference": row.reference,
        "role": row.role,
        "phase": row.phase,
        "mode": row.mode.label if hasattr(row.mode, "label") else str(row.mode),
        "status": row.status.label if hasattr(row.status, "label") else str(row.status),
    }


@dataclass(frozen=True)
class Report:
    """A week's report: its content, and whether it was read back from the stored copy."""

    content: dict
    is_stored: bool

    @property
    def week(self) -> str:
        return self.content["week"]


def weekly_report(study: Study, monday: dt.date, now: dt.datetime | None = None) -> Report:
    """The week's report: the stored one if the week was reported on after it ended, else made
    now (and stored, if the week has ended). Commits when it stores."""
    label = week_label(monday)
    stored = db.session.scalar(
        select(WeeklyReport).where(WeeklyReport.study_id == study.id, WeeklyReport.week == label)
    )
    if stored is not None:
        return Report(stored.content, True)
    now = now or now_utc()
    content = build_content(study, monday, now)
    if content["is_provisional"]:
        return Report(content, False)
    db.session.add(WeeklyReport(study_id=study.id, week=label, made_at=now, content=content))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # made by another request a moment ago: read that one
        stored = db.session.scalar(
            select(WeeklyReport).where(
                WeeklyReport.study_id == study.id, WeeklyReport.week == label
            )
        )
        if stored is None:  # the other request's report was rolled back: ours stands unsaved
            return Report(content, True)
        return Report(stored.content, True)
    return Report(content, True)


# --- Recipients ------------------------------------------------------------------------------


def setting_of(study: Study) -> ReportSetting:
    """The study's report setting (not saved until changed)."""
    return db.session.get(ReportSetting, study.id) or ReportSetting(
        study_id=study.id, recipients="", is_weekly_email=False
    )


def parse_recipients(text: str) -> list[str]:
    """Addresses one a line (commas and semicolons also separate); each checked, none twice."""
    found: list[str] = []
    for raw in re.split(r"[\n,;]+", text or ""):
        address = raw.strip()
        if not address:
            continue
        try:
            normalised = validate_email(address, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise ReportError(f"“{address[:80]}” is not an email address: {error}") from error
        if normalised.lower() not in (a.lower() for a in found):
            found.append(normalised)
    if len(found) > MAX_RECIPIENTS:
        raise ReportError(f"At most {MAX_RECIPIENTS} recipients.")
    return found


def save_setting(study: Study, recipients: str, is_weekly_email: bool, actor) -> ReportSetting:
    """Save who gets the weekly email. Commits."""
    from fieldwork.audit import services as audit

    addresses = parse_recipients(recipients)
    if is_weekly_email and not addresses:
        raise ReportError("Give at least one recipient to send the report every week.")
    setting = db.session.get(ReportSetting, study.id)
    if setting is None:
        setting = ReportSetting(study_id=study.id, recipients="", is_weekly_email=False)
        db.session.add(setting)
    before = {"recipients": len(setting.recipient_list), "weekly": setting.is_weekly_email}
    setting.recipients = "\n".join(addresses)
    setting.is_weekly_email = is_weekly_email
    audit.record_event(
        "report.recipients_changed",
        actor=actor,
        study_id=study.id,
        subject_type="study",
        subject_id=study.id,
        before=before,
        after={"recipients": len(addresses), "weekly": is_weekly_email},
    )
    db.session.commit()
    return setting


def study_named(slug: str | None) -> Study:
    """The study named by `slug`, else the only study; a ReportError says what to do."""
    from fieldwork.sampling import services as sampling

    try:
        return sampling.study_for_command(slug)
    except sampling.StudyChoiceError as error:
        raise ReportError(str(error)) from None
