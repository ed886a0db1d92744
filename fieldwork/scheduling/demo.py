"""Demo data for scheduling: interviewers' weekly availability and a realistic spread of
appointments (held, booked ahead, cancelled, one moved across a clock change).

Times are relative to today, so the demo always has a past and a future. Everything goes
through the services, so the outbox holds the invitations the bookings would send.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldwork.accounts.models import User, UserRole
from fieldwork.core.time import now_utc, to_utc
from fieldwork.extensions import db
from fieldwork.sampling.models import Participant, RecruitmentStatus, Study
from fieldwork.scheduling.availability import add_window
from fieldwork.scheduling.booking import (
    book_appointment,
    cancel_appointment,
    record_outcome,
    reschedule_appointment,
)
from fieldwork.scheduling.checks import BookingRequest
from fieldwork.scheduling.models import AppointmentMode, AppointmentStatus

#: Participants whose status allows a booking.
_BOOKABLE = (
    RecruitmentStatus.IDENTIFIED,
    RecruitmentStatus.APPROACHED,
    RecruitmentStatus.AGREED,
)


def _next_clock_change(zone_name: str, after: dt.date) -> dt.date | None:
    """The first day within a year after `after` whose UTC offset differs from the day before."""
    zone = ZoneInfo(zone_name)
    day = after
    offset = dt.datetime.combine(day, dt.time(12), zone).utcoffset()
    for _ in range(366):
        day += dt.timedelta(days=1)
        current = dt.datetime.combine(day, dt.time(12), zone).utcoffset()
        if current != offset:
            return day
    return None


def _weekday_on_or_after(day: dt.date, weekday: int) -> dt.date:
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def _consent(study: Study, participant: Participant, actor: User) -> bool:
    """Record written consent to take part (needed before an interview counts as held)."""
    from fieldwork.recruitment.consent import record_consent
    from fieldwork.recruitment.consent_versions import (
        STANDARD_ITEM_KEYS,
        ItemSpec,
        create_consent_form,
        fresh_version,
        publish_version,
        published_versions,
    )
    from fieldwork.recruitment.models import ConsentMethod
    from fieldwork.recruitment.status import TAKE_PART, has_consent_to_take_part

    if has_consent_to_take_part(participant):
        return True
    versions = published_versions(study)
    if not versions:
        form = create_consent_form(
            study,
            "Interview consent",
            "We are studying outcome-based contracting in Provider-Led Pathways to Work. "
            "Taking part is voluntary and you may withdraw at any time.",
            [ItemSpec(key, text, key == TAKE_PART) for key, text in STANDARD_ITEM_KEYS.items()],
            actor,
        )
        publish_version(fresh_version(form.versions[0]), actor)
        versions = published_versions(study)
    version = fresh_version(versions[0])
    record_consent(
        participant,
        version,
        method=ConsentMethod.WRITTEN,
        answers={item.key: True for item in version.items},
        actor=actor,
        given_at=now_utc() - dt.timedelta(days=30),
    )
    return True


def _demo_rules_and_windows(study: Study, interviewers: list[User]) -> None:
    """The demo's booking rules: a day's notice, four weeks ahead, a quarter of an hour between
    interviews, at most three a day each, and the bank holidays of England and Wales; a team
    away day; and each interviewer's weekly windows."""
    from fieldwork.scheduling import slots

    zone = study.timezone
    slots.save_rules(
        study,
        slots.Rules(
            min_notice_hours=24,
            max_days_ahead=28,
            buffer_minutes=15,
            daily_limit=3,
            holiday_country="GB",
            holiday_subdivision="ENG",
        ),
    )
    away_day = _weekday_on_or_after(
        now_utc().astimezone(ZoneInfo(zone)).date() + dt.timedelta(days=14), 4
    )
    slots.add_closed_date(study, away_day, "Team away day")
    for index, interviewer in enumerate(interviewers):
        # Monday to Thursday, a staggered working day; Friday mornings for the first.
        for weekday in range(4):
            start = dt.time(9 + index % 2, 30 if index % 2 else 0)
            add_window(interviewer, weekday, start, dt.time(17), zone)
        if index == 0:
            add_window(interviewer, 4, dt.time(9), dt.time(12, 30), zone)


class _DemoBookings:
    """Books the demo's interviews as the coordinator; counts them."""

    def __init__(self, study: Study, coordinator: User, interviewers: list[User]):
        self.study = study
        self.coordinator = coordinator
        self.interviewers = interviewers
        self.made = 0
        self.today = now_utc().astimezone(ZoneInfo(study.timezone)).date()
        self.monday_last_fortnight = _weekday_on_or_after(self.today - dt.timedelta(days=21), 0)
        self.monday_ahead = _weekday_on_or_after(self.today + dt.timedelta(days=3), 0)

    def book(self, person, interviewer, day, hour, mode=AppointmentMode.TELEPHONE, **fields):
        request = BookingRequest(
            starts_at=to_utc(day, dt.time(hour), self.study.timezone),
            minutes=self.study.interview_minutes,
            mode=mode,
            **fields,
        )
        self.made += 1
        return book_appointment(
            self.study,
            person,
            interviewer,
            request,
            self.coordinator,
            confirmed=True,
            already_took_place=request.starts_at <= now_utc(),
        )

    def held_and_missed(self, plan) -> None:
        """Held interviews in the past, with consent and outcomes recorded; a no-show."""
        interviewers = self.interviewers
        for offset, person in zip(range(3), plan, strict=False):
            interviewer = interviewers[offset % len(interviewers)]
            day = self.monday_last_fortnight + dt.timedelta(days=offset)
            in_person = offset == 0
            appointment = self.book(
                person,
                interviewer,
                day,
                10 + offset,
                AppointmentMode.IN_PERSON if in_person else AppointmentMode.TELEPHONE,
                location="Jobcentre Plus district office, meeting room 2" if in_person else "",
                travel_minutes_before=45 if in_person else 0,
                travel_minutes_after=45 if in_person else 0,
            )
            _consent(self.study, person, self.coordinator)
            record_outcome(appointment, AppointmentStatus.HELD, 50 + offset * 5, True, interviewer)
        no_show = next(plan, None)
        if no_show is not None:
            day = self.monday_last_fortnight + dt.timedelta(7)
            appointment = self.book(no_show, interviewers[0], day, 14)
            record_outcome(appointment, AppointmentStatus.NO_SHOW, None, None, self.coordinator)

    def ahead(self, plan) -> None:
        """Video and telephone interviews over the next fortnight."""
        for offset, person in zip(range(4), plan, strict=False):
            interviewer = self.interviewers[offset % len(self.interviewers)]
            day = self.monday_ahead + dt.timedelta(days=offset % 4 + 7 * (offset // 2))
            self.book(
                person,
                interviewer,
                day,
                11 + offset % 3,
                AppointmentMode.VIDEO if offset % 2 else AppointmentMode.TELEPHONE,
                video_link="https://video.example.org/fieldwork-demo" if offset % 2 else "",
            )

    def cancelled_and_moved(self, plan) -> None:
        """One cancelled by the participant; one moved across the next clock change (10:00
        local before it, 10:00 local after it)."""
        person = next(plan, None)
        if person is not None:
            day = self.monday_ahead + dt.timedelta(days=2)
            appointment = self.book(person, self.interviewers[-1], day, 15)
            cancel_appointment(appointment, "Annual leave that week.", self.coordinator)
        person = next(plan, None)
        zone = self.study.timezone
        change = _next_clock_change(zone, self.today + dt.timedelta(days=2))
        if person is None or change is None:
            return
        before = max(
            _weekday_on_or_after(change - dt.timedelta(days=6), 1),
            self.today + dt.timedelta(days=1),
        )
        after = _weekday_on_or_after(change + dt.timedelta(days=1), 1)
        appointment = self.book(person, self.interviewers[0], before, 10)
        reschedule_appointment(
            appointment,
            to_utc(after, dt.time(10), zone),
            self.study.interview_minutes,
            self.coordinator,
            confirmed=True,
        )


def load_scheduling_demo(study: Study) -> dict[str, int]:
    """Add availability and appointments to the demo study; returns what was made."""
    interviewers = list(
        db.session.scalars(select(User).where(User.role == UserRole.INTERVIEWER).order_by(User.id))
    )
    coordinator = db.session.scalar(
        select(User).where(User.role == UserRole.COORDINATOR).order_by(User.id)
    )
    if not interviewers or coordinator is None:
        return {"windows": 0, "appointments": 0}
    _demo_rules_and_windows(study, interviewers)
    people = db.session.scalars(
        select(Participant)
        .where(
            Participant.study_id == study.id,
            Participant.status.in_(_BOOKABLE),
            Participant.email != "",
        )
        .order_by(Participant.id)
        .limit(12)
    )
    plan = iter(list(people))
    bookings = _DemoBookings(study, coordinator, interviewers)
    bookings.held_and_missed(plan)
    bookings.ahead(plan)
    bookings.cancelled_and_moved(plan)
    return {"windows": len(interviewers) * 4 + 1, "appointments": bookings.made}
