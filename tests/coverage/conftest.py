"""A small hand-built study whose every coverage figure is worked out by hand (see HAND).

The clock stands at Wednesday 4 June 2008, 12:00 UTC. Two phases; districts North and East
(phase 1) and South (phase 2); JCP offices and one lead provider; two roles. Statuses move
through the recruitment services (contact attempts, consent, withdrawal); appointments are
rows written directly (their booking rules are the scheduling domain's, tested there).
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from fieldwork.core.time import UTC, set_clock
from fieldwork.coverage import quotas, services
from fieldwork.extensions import db
from fieldwork.recruitment.consent import record_consent, withdraw
from fieldwork.recruitment.contacts import log_contact_attempt
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.models import ConsentMethod, ContactChannel, DataHandling
from fieldwork.sampling.models import OrganisationKind, RecruitmentStatus
from fieldwork.scheduling.models import Appointment, AppointmentMode, AppointmentStatus
from tests.factories import (
    make_district,
    make_organisation,
    make_participant,
    make_role,
    make_study,
    make_user,
)
from tests.recruitment.helpers import all_yes, make_published_version

NOW = dt.datetime(2008, 6, 4, 12, 0, tzinfo=UTC)
_uids = itertools.count(1)


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2008, month, day, hour, 0, tzinfo=UTC)


def add_appointment(study, participant, interviewer, starts_at, status) -> Appointment:
    """An appointment row with the given outcome (the scheduling rules are not under test)."""
    appointment = Appointment(
        study_id=study.id,
        participant_id=participant.id,
        interviewer_id=interviewer.id,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=1),
        busy_from=starts_at,
        busy_until=starts_at + dt.timedelta(hours=1),
        timezone="Europe/London",
        mode=AppointmentMode.TELEPHONE,
        status=status,
        ical_uid=f"coverage-test-{next(_uids)}@example.org",
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment


@pytest.fixture
def clock(app):
    set_clock(lambda: NOW)
    yield NOW
    set_clock(None)


class Builder:
    """Verbs for the hand-built study: contact, consent, withdraw, appointments."""

    def __init__(self, study, coordinator, interviewer, version):
        self.study = study
        self.coordinator = coordinator
        self.interviewer = interviewer
        self.version = version

    def contact(self, person, disposition: Disposition, when=None) -> None:
        log_contact_attempt(
            person,
            self.coordinator,
            attempted_at=when or at(5, 1),
            channel=ContactChannel.TELEPHONE,
            disposition=disposition,
        )

    def consent(self, person) -> None:
        record_consent(
            person,
            self.version,
            method=ConsentMethod.WRITTEN,
            answers=all_yes(),
            actor=self.coordinator,
            given_at=at(5, 2),
        )

    def withdraw(self, person, handling: DataHandling) -> None:
        withdraw(person, self.coordinator, data_handling=handling, reason="")

    def appointment(self, person, starts_at, status: AppointmentStatus) -> Appointment:
        return add_appointment(self.study, person, self.interviewer, starts_at, status)

    def interviewed(self, person, *days: dt.datetime) -> None:
        """Consent, then interviews held on `days`; status Interviewed."""
        self.contact(person, Disposition.AGREED)
        self.consent(person)
        for day in days:
            self.appointment(person, day, AppointmentStatus.HELD)
        person.status = RecruitmentStatus.INTERVIEWED
        db.session.commit()


@pytest.fixture
def hand_study(app, clock) -> dict:
    """The study of HAND; the returned dict names every participant and cell."""
    study = make_study("Hand-built study", slug="hand")
    coordinator = make_user("coordinator")
    interviewer = make_user("interviewer")
    version = make_published_version(study, coordinator)
    b = Builder(study, coordinator, interviewer, version)

    north = make_district(study, "North", phase=1)
    east = make_district(study, "East", phase=1)
    south = make_district(study, "South", phase=2)
    jcp_one = make_organisation(study, "JCP One", OrganisationKind.JCP, [north, east])
    jcp_two = make_organisation(study, "JCP Two", OrganisationKind.JCP, [south])
    acme = make_organisation(study, "Acme", OrganisationKind.LEAD_PROVIDER, [north, east, south])
    tppm = make_role(study, "TPPM", OrganisationKind.JCP)
    manager = make_role(study, "Manager", OrganisationKind.LEAD_PROVIDER)
    phases = {p.number: p for p in services.sampling.phases_of(study)}
    p1, p2 = phases[1], phases[2]

    def person(ref, district, organisation, role, **fields):
        return make_participant(
            study,
            reference=ref,
            district=district,
            organisation=organisation,
            role=role,
            interviewer_id=fields.pop("interviewer_id", None),
            **fields,
        )

    # --- TPPM, phase 1 (target 4) ---
    a1 = person("A01", north, jcp_one, tppm, interviewer_id=interviewer.id)
    b.interviewed(a1, at(5, 19))
    a2 = person("A02", north, jcp_one, tppm)
    b.interviewed(a2, at(5, 28))
    b.withdraw(a2, DataHandling.KEEP_ANONYMISED)  # interview kept: still achieved
    a3 = person("A03", east, jcp_one, tppm)
    b.interviewed(a3, at(5, 27))
    b.withdraw(a3, DataHandling.DESTROY)  # data destroyed: out, a break-off
    a4 = person("A04", east, jcp_one, tppm, interviewer_id=interviewer.id)
    b.contact(a4, Disposition.AGREED)
    b.consent(a4)
    b.appointment(a4, at(6, 10), AppointmentStatus.BOOKED)
    b.appointment(a4, at(5, 30), AppointmentStatus.CANCELLED)
    a5 = person("A05", north, jcp_one, tppm)
    b.contact(a5, Disposition.AGREED)
    b.appointment(a5, at(6, 2), AppointmentStatus.NO_SHOW)
    a6 = person("A06", north, jcp_one, tppm)
    b.contact(a6, Disposition.NO_ANSWER, at(5, 1))
    b.contact(a6, Disposition.CALL_BACK, at(5, 3))  # the latest attempt decides: other
    a7 = person("A07", east, jcp_one, tppm)
    b.contact(a7, Disposition.NO_ANSWER)
    a8 = person("A08", east, jcp_one, tppm)  # never tried
    a9 = person("A09", north, jcp_one, tppm)
    b.contact(a9, Disposition.REFUSED)
    a10 = person("A10", north, jcp_one, tppm)
    b.contact(a10, Disposition.MOVED_ON)

    # --- TPPM, phase 2 (target 2) ---
    b1 = person("B01", south, jcp_two, tppm)
    b.interviewed(b1, at(6, 3))
    b2 = person("B02", south, jcp_two, tppm)  # held, but no consent on record
    b.contact(b2, Disposition.AGREED)
    b.appointment(b2, at(6, 2), AppointmentStatus.HELD)
    b2.status = RecruitmentStatus.INTERVIEWED
    db.session.commit()
    b3 = person("B03", south, jcp_two, tppm)  # booked, then refused: out
    b.contact(b3, Disposition.AGREED)
    b.appointment(b3, at(6, 20), AppointmentStatus.BOOKED)
    b.contact(b3, Disposition.REFUSED, at(5, 5))

    # --- Manager, phase 1 (target 2) ---
    c1 = person("C01", north, acme, manager)
    b.interviewed(c1, at(5, 20))
    c2 = person("C02", east, acme, manager)
    b.interviewed(c2, at(5, 21))
    c3 = person("C03", north, acme, manager)
    b.interviewed(c3, at(5, 22), at(5, 29))  # two interviews, one person
    c4 = person("C04", north, acme, manager)
    b.contact(c4, Disposition.AGREED)
    b.appointment(c4, at(6, 3), AppointmentStatus.CANCELLED_LATE)

    # --- Manager, phase 2 (no target) ---
    d1 = person("D01", south, acme, manager)
    b.contact(d1, Disposition.NOT_REACHABLE)

    quotas.save_grid(study, {(tppm.id, p1.id): 4, (tppm.id, p2.id): 2, (manager.id, p1.id): 2})
    quotas.add_finer_quota(study, 2, role_id=tppm.id, district_id=north.id)
    quotas.add_finer_quota(
        study, 3, organisation_kind=OrganisationKind.LEAD_PROVIDER, phase_id=p1.id
    )
    return {
        "study": study,
        "coordinator": coordinator,
        "interviewer": interviewer,
        "north": north,
        "east": east,
        "south": south,
        "tppm": tppm,
        "manager": manager,
        "p1": p1,
        "p2": p2,
        "people": {
            p.reference: p
            for p in (a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, b1, b2, b3, c1, c2, c3, c4, d1)
        },
    }
