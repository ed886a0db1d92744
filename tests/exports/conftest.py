"""Export test data: a study with awkward text and every kind of participant the archiving
rule must sort (agreed, declined archiving, no consent, withdrawn, erased), and helpers that
read a written package back."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldwork.core.time import set_clock
from fieldwork.coverage.models import Quota, cell_key
from fieldwork.extensions import db
from fieldwork.recruitment.consent import record_consent, withdraw
from fieldwork.recruitment.contacts import log_contact_attempt
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.erasure import ERASED_NAME, erase_personal_data
from fieldwork.recruitment.models import ConsentMethod, ContactChannel, DataHandling
from fieldwork.sampling.models import OrganisationKind, Participant, Study
from fieldwork.scheduling.booking import book_appointment, record_outcome
from fieldwork.scheduling.checks import BookingRequest
from fieldwork.scheduling.models import AppointmentMode, AppointmentStatus
from tests.factories import (
    make_district,
    make_organisation,
    make_participant,
    make_role,
    make_study,
    make_user,
)
from tests.recruitment.helpers import make_published_version

UTC = dt.UTC
#: When the fieldwork happened: Thursday 19 March 2026 and the days around it.
START = dt.datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


@dataclass
class AwkwardStudy:
    """The study, its participants by story, and every personal value they ever had."""

    study: Study
    references: dict[str, str] = field(default_factory=dict)
    personal_values: set[str] = field(default_factory=set)


def personal_values_in_database(with_free_text: bool = False) -> set[str]:
    """Every participant's name, email and phone as the database holds them; with job titles
    and notes too when asked (demo job titles are role names, which are exported)."""
    columns = [Participant.name, Participant.email, Participant.phone]
    if with_free_text:
        columns += [Participant.job_title, Participant.notes]
    values: set[str] = set()
    for row in db.session.execute(select(*columns)):
        values.update(value for value in row if value and value != ERASED_NAME)
    return values


def _person(study, story: str, number: int, **where) -> Participant:
    return make_participant(
        study,
        name=f"Zoë {story.capitalize()}-O'Brien",
        email=f"{story}.person{number}@example.org",
        phone=f"+44 20 7946 0{number:03d}",
        job_title=f"Senior {story} adviser",
        notes=f"Met {story} at the district forum; prefers mornings.",
        reference=f"P{where['district'].phase.number}-{number:03d}",
        **where,
    )


@pytest.fixture
def awkward(app) -> AwkwardStudy:
    """A study whose names hold commas, quotes, line breaks and accents; with an empty
    district, a placeholder district, quotas of every shape, and participants who:

    * agreed to everything, were contacted, booked and interviewed ("agreed");
    * consented but not to archiving ("noarchive");
    * were contacted but never consented ("noconsent");
    * consented to archiving, then withdrew ("withdrawn");
    * consented to archiving, then had their personal data erased ("erased");
    * never consented and were erased ("erasednoconsent").
    """
    clock = {"now": START + dt.timedelta(days=3)}
    set_clock(lambda: clock["now"])
    coordinator = make_user("coordinator", email="cora@example.org", name="Cora Coordinator")
    interviewer = make_user("interviewer", email="ivan@example.org", name="Ivan Interviewer")
    study = make_study('Étude "awkward", de Provider-Led Pathways', slug="awkward")
    north = make_district(study, "Saint-Étienne, Nord", phase=1, source='Said "north", 2008')
    make_district(study, "Empty Vale", phase=2)
    placeholder = make_district(study, "Unknown district (phase 2)", phase=2, is_placeholder=True)
    jcp = make_organisation(
        study, 'Jobcentre Plus "Nord", Saint-Étienne', OrganisationKind.JCP, [north]
    )
    lead = make_organisation(
        study,
        'Ærø Provider Ltd.\nTrading as "Acme, Inc."',
        OrganisationKind.LEAD_PROVIDER,
        [north, placeholder],
        notes="Contact: Zoë's manager, 07700 900123",
    )
    make_organisation(
        study,
        "Société d'Emploi, Ça Va",
        OrganisationKind.SUBCONTRACTOR,
        [placeholder],
        lead_provider_id=lead.id,
    )
    tppm = make_role(study, 'Third Party Provision Manager, "TPPM"', OrganisationKind.JCP)
    adviser = make_role(study, "Adviser\n(lead provider)", OrganisationKind.LEAD_PROVIDER)
    version = make_published_version(study, coordinator, title='Consent, "version" one')

    result = AwkwardStudy(study)
    stories = [
        ("agreed", {"district": north, "organisation": jcp, "role": tppm}),
        ("noarchive", {"district": north, "organisation": lead, "role": adviser}),
        ("noconsent", {"district": placeholder, "organisation": lead, "role": adviser}),
        ("withdrawn", {"district": north, "organisation": jcp, "role": tppm}),
        ("erased", {"district": placeholder, "organisation": lead, "role": adviser}),
        ("erasednoconsent", {"district": north, "organisation": jcp, "role": tppm}),
    ]
    people: dict[str, Participant] = {}
    for number, (story, where) in enumerate(stories, start=1):
        person = _person(study, story, number, **where)
        people[story] = person
        result.references[story] = person.reference
        result.personal_values.update(
            {person.name, person.email, person.phone, person.job_title, person.notes}
        )

    for day, story in enumerate(stories):
        person = people[story[0]]
        log_contact_attempt(
            person,
            coordinator,
            attempted_at=START + dt.timedelta(days=day % 3, hours=day),
            channel=ContactChannel.TELEPHONE,
            disposition=Disposition.LEFT_MESSAGE,
            note=f"Spoke to {person.name}'s colleague, call {person.phone}",
        )
    for story in ("agreed", "noarchive", "withdrawn", "erased"):
        person = people[story]
        log_contact_attempt(
            person,
            coordinator,
            attempted_at=START + dt.timedelta(days=2, hours=10),
            channel=ContactChannel.EMAIL,
            disposition=Disposition.AGREED,
        )
        record_consent(
            person,
            version,
            method=ConsentMethod.WRITTEN,
            answers={
                "take_part": True,
                "audio_recording": True,
                "anonymised_quotes": story != "noarchive",
                "archiving": story != "noarchive",
            },
            actor=coordinator,
            given_at=START + dt.timedelta(days=2, hours=11),
            typed_name=person.name,
        )
    # A booked, then held interview for the participant who agreed to everything.
    appointment = book_appointment(
        study,
        people["agreed"],
        interviewer,
        BookingRequest(
            starts_at=START + dt.timedelta(days=3, hours=5),
            minutes=75,
            mode=AppointmentMode.IN_PERSON,
            location=f"{people['agreed'].name}'s office, 1 Rue de la Paix",
            notes=f"Ask for {people['agreed'].name} at reception; {people['agreed'].phone}",
        ),
        coordinator,
        confirmed=True,
    )
    clock["now"] = START + dt.timedelta(days=4)
    record_outcome(appointment, AppointmentStatus.HELD, 70, True, coordinator)
    withdraw(
        people["withdrawn"],
        coordinator,
        reason=f"{people['withdrawn'].name} changed jobs",
        data_handling=DataHandling.DESTROY,
    )
    erase_personal_data(people["erased"], coordinator)
    erase_personal_data(people["erasednoconsent"], coordinator)

    phase_ids = {district.phase.number: district.phase_id for district in (north, placeholder)}
    db.session.add_all(
        [
            Quota(
                study_id=study.id,
                role_id=tppm.id,
                phase_id=phase_ids[1],
                target=3,
                cell_key=cell_key(role_id=tppm.id, phase_id=phase_ids[1]),
            ),
            Quota(
                study_id=study.id,
                role_id=adviser.id,
                phase_id=phase_ids[2],
                district_id=placeholder.id,
                target=2,
                cell_key=cell_key(
                    role_id=adviser.id, phase_id=phase_ids[2], district_id=placeholder.id
                ),
            ),
            Quota(
                study_id=study.id,
                organisation_kind=OrganisationKind.JCP,
                phase_id=phase_ids[1],
                target=4,
                cell_key=cell_key(organisation_kind=OrganisationKind.JCP, phase_id=phase_ids[1]),
            ),
        ]
    )
    db.session.commit()
    clock["now"] = START + dt.timedelta(days=10)
    result.personal_values |= personal_values_in_database(with_free_text=True)
    yield result
    set_clock(None)


def read_package(directory: Path) -> dict:
    return json.loads((directory / "datapackage.json").read_text(encoding="utf-8"))


def tabular_resources(descriptor: dict) -> list[dict]:
    return [r for r in descriptor["resources"] if r.get("profile") == "tabular-data-resource"]
