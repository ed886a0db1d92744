"""A study's reminder settings: when reminders go and to whom, and the texts they say, checked
against a sample appointment before they are saved."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from fieldwork.accounts.models import User
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.messaging import templating
from fieldwork.reminders.messages import sample_context
from fieldwork.reminders.models import (
    DEFAULT_OFFSETS,
    ReminderRecipient,
    ReminderSettings,
)
from fieldwork.sampling.models import Study

#: Offsets a study may set: at least 5 minutes, at most 30 days before; at most 5 of them.
MIN_OFFSET_MINUTES = 5
MAX_OFFSET_MINUTES = 30 * 24 * 60
MAX_OFFSETS = 5


class ReminderError(ValueError):
    """A request the reminders cannot carry out; the message is for the user."""


def default_settings(study_id: int) -> ReminderSettings:
    """The settings a study has until a coordinator saves some (not added to the session)."""
    return ReminderSettings(
        study_id=study_id,
        offsets=list(DEFAULT_OFFSETS),
        is_for_interviewer=True,
        is_for_participant=True,
        **templating.DEFAULTS,
    )


def settings_for(study_id: int) -> ReminderSettings:
    """The study's saved settings, or the defaults."""
    saved = db.session.scalar(select(ReminderSettings).where(ReminderSettings.study_id == study_id))
    return saved or default_settings(study_id)


def settings_by_study(study_ids: set[int]) -> dict[int, ReminderSettings]:
    """Each study's settings (saved or default) in one query, for a sweep over many studies."""
    if not study_ids:
        return {}
    rows = db.session.scalars(
        select(ReminderSettings).where(ReminderSettings.study_id.in_(study_ids))
    )
    found = {row.study_id: row for row in rows}
    return {study_id: found.get(study_id) or default_settings(study_id) for study_id in study_ids}


@dataclass(frozen=True)
class SettingsInput:
    """What the settings form (or a test) gives to save."""

    offsets: list[int]
    is_for_interviewer: bool
    is_for_participant: bool
    interviewer_subject: str
    interviewer_body: str
    participant_subject: str
    participant_body: str


def parse_offsets(raw: str) -> list[int]:
    """'2880, 120' → [2880, 120] (largest first); ReminderError says what is wrong."""
    parts = [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]
    if not parts:
        raise ReminderError("Give at least one number of minutes, e.g. 2880, 120.")
    values: list[int] = []
    for part in parts:
        if not part.isascii() or not part.isdigit():
            raise ReminderError(f"“{part[:20]}” is not a whole number of minutes.")
        value = int(part)
        if not MIN_OFFSET_MINUTES <= value <= MAX_OFFSET_MINUTES:
            raise ReminderError(
                f"Each offset must be between {MIN_OFFSET_MINUTES} and {MAX_OFFSET_MINUTES} "
                "minutes (30 days)."
            )
        values.append(value)
    if len(set(values)) != len(values):
        raise ReminderError("Give each offset once.")
    if len(values) > MAX_OFFSETS:
        raise ReminderError(f"Give at most {MAX_OFFSETS} offsets.")
    return sorted(values, reverse=True)


def template_problems(values: SettingsInput, study: Study) -> dict[str, str]:
    """Field name → message for each template that does not parse or render against the
    sample appointment (a misspelt variable shows here, not in a participant's inbox)."""
    problems: dict[str, str] = {}
    for name in templating.DEFAULTS:
        message = templating.check_syntax(getattr(values, name))
        if message:
            problems[name] = message
    for recipient in ReminderRecipient:
        subject_field, body_field = f"{recipient.value}_subject", f"{recipient.value}_body"
        if subject_field in problems or body_field in problems:
            continue
        try:
            templating.render(getattr(values, subject_field), "", sample_context(study, recipient))
        except templating.TemplateProblem as error:
            problems[subject_field] = str(error)
        try:
            templating.render("x", getattr(values, body_field), sample_context(study, recipient))
        except templating.TemplateProblem as error:
            problems[body_field] = str(error)
    return problems


def save_settings(study: Study, values: SettingsInput, actor: User | None) -> ReminderSettings:
    """Save a study's settings (commits). Pending reminders keep the offsets they were planned
    with; the texts apply to every reminder not yet handed to the outbox."""
    problems = template_problems(values, study)
    if problems:
        raise ReminderError("; ".join(problems.values()))
    row = db.session.scalar(select(ReminderSettings).where(ReminderSettings.study_id == study.id))
    if row is None:
        row = ReminderSettings(study_id=study.id)
        db.session.add(row)
    row.offsets = list(values.offsets)
    row.is_for_interviewer = values.is_for_interviewer
    row.is_for_participant = values.is_for_participant
    row.interviewer_subject = values.interviewer_subject
    row.interviewer_body = values.interviewer_body
    row.participant_subject = values.participant_subject
    row.participant_body = values.participant_body
    row.updated_by_id = actor.id if actor else None
    row.updated_at = now_utc()
    db.session.commit()
    return row


@dataclass(frozen=True)
class Preview:
    recipient: ReminderRecipient
    subject: str
    text: str
    html: str
    problem: str


def preview(study: Study, values: SettingsInput) -> list[Preview]:
    """Each recipient's reminder rendered against the sample appointment (a problem is shown
    instead of raised)."""
    previews = []
    for recipient in ReminderRecipient:
        subject = getattr(values, f"{recipient.value}_subject")
        body = getattr(values, f"{recipient.value}_body")
        try:
            rendered = templating.render(subject, body, sample_context(study, recipient))
        except templating.TemplateProblem as error:
            previews.append(Preview(recipient, "", "", "", str(error)))
        else:
            previews.append(
                Preview(recipient, rendered.subject, rendered.text, rendered.html_fragment, "")
            )
    return previews
