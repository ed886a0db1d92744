"""The demo study: outcome-based contracting in Provider-Led Pathways to Work (2009).

Districts, phases and lead providers come from `fieldwork/data/pl_pathways_districts.csv`
(public sources named in its `source` column). Organisations beyond those, and every person,
are synthetic: invented names with example.org addresses.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldwork.accounts import services as accounts
from fieldwork.accounts.models import Membership, User, UserRole
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.sampling.models import (
    District,
    Organisation,
    OrganisationKind,
    Participant,
    Phase,
    Role,
    Study,
)

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "pl_pathways_districts.csv"
DEMO_SLUG = "pl-pathways"
#: The demo's fieldwork window around today: weeks before and after.
DEMO_WEEKS_BEFORE, DEMO_WEEKS_AFTER = 8, 16


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    role: str
    password: str


DEMO_LOGINS = [
    DemoLogin("coordinator@example.org", "Sandra Coordinator", "coordinator", "fieldwork-demo"),
    DemoLogin("interviewer@example.org", "Kathryn Interviewer", "interviewer", "fieldwork-demo"),
    DemoLogin("interviewer2@example.org", "Tomas Interviewer", "interviewer", "fieldwork-demo"),
]

ROLES = [
    (
        "DWP Contract Manager",
        OrganisationKind.DWP,
        "Manages the outcome-based contracts with Pathways providers for the Department.",
    ),
    (
        "JCP Third Party Provision Manager",
        OrganisationKind.JCP,
        "Oversees provision bought from third parties in a Jobcentre Plus district.",
    ),
    (
        "Lead provider manager",
        OrganisationKind.LEAD_PROVIDER,
        "Manages the PL Pathways contract at the lead (prime) provider.",
    ),
    (
        "Lead provider adviser",
        OrganisationKind.LEAD_PROVIDER,
        "Works with customers day to day at the lead provider.",
    ),
    (
        "Sub-contractor manager",
        OrganisationKind.SUBCONTRACTOR,
        "Manages a service sub-contracted by the lead provider.",
    ),
]

FIRST_NAMES = [
    "Aisha",
    "Alan",
    "Bethan",
    "Callum",
    "Chloe",
    "Dafydd",
    "Deborah",
    "Eilidh",
    "Farid",
    "Fiona",
    "Gareth",
    "Grace",
    "Hamish",
    "Helen",
    "Imran",
    "Jane",
    "Kwame",
    "Laura",
    "Liam",
    "Mairead",
    "Marek",
    "Nadia",
    "Niamh",
    "Oliver",
    "Priya",
    "Rhys",
    "Ruth",
    "Samuel",
    "Siobhan",
    "Tariq",
    "Una",
    "Victoria",
    "Wei",
    "Yusuf",
    "Zoe",
    "Ciarán",
    "Zoë",
    "José",
    "Anaïs",
    "Björn",
]
LAST_NAMES = [
    "Ahmed",
    "Baker",
    "Campbell",
    "Davies",
    "Evans",
    "Fraser",
    "Gill",
    "Hughes",
    "Iqbal",
    "Jones",
    "Kaur",
    "Lewis",
    "MacDonald",
    "Morgan",
    "Nowak",
    "O'Neill",
    "Patel",
    "Quinn",
    "Roberts",
    "Singh",
    "Taylor",
    "Thomas",
    "Walsh",
    "Williams",
    "Wright",
    "Young",
    "Ó Briain",
]
SUBCONTRACTOR_STEMS = [
    "Pathfinder Health Works",
    "Step Forward Trust",
    "Condition Management Partners",
    "Confidence to Work CIC",
    "Open Door Employment",
    "Horizons Back to Work",
    "Bridge Community Projects",
    "Fresh Start Wellbeing",
]


def _split_providers(raw: str) -> list[str]:
    """'Working Links; Carter & Carter (customer-choice district, two primes)' -> two names."""
    names = []
    for part in raw.split(";"):
        part = re.sub(r"\s*\((customer-choice[^)]*)\)\s*$", "", part.strip())
        if part:
            names.append(part)
    return names


def _slugify_email(name: str) -> str:
    ascii_name = name.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z]+", ".", ascii_name).strip(".")


def _email_domain(organisation: Organisation) -> str:
    """A short, plausible mail domain for an organisation (always under example.org)."""
    if organisation.kind == OrganisationKind.DWP:
        return "dwp"
    if organisation.kind == OrganisationKind.JCP:
        return "jobcentreplus"
    words = _slugify_email(organisation.name.split(" (")[0]).split(".")
    domain = ""
    for word in words:
        if domain and len(domain) + len(word) > 24:
            break
        domain = f"{domain}-{word}" if domain else word
    return domain


#: The demo study's fields (its fieldwork window is set around today by `_new_study`).
STUDY = {
    "slug": DEMO_SLUG,
    "name": "Outcome-based contracting in Provider-Led Pathways to Work",
    "description": (
        "Qualitative study of how outcome-based contracting influences the delivery of "
        "Provider-Led Pathways to Work, interviewing DWP, Jobcentre Plus, lead provider and "
        "sub-contractor staff in the phase 1 and phase 2 districts. The original fieldwork "
        "ran from 12 January 2009 to 30 September 2009; in this demo it is moved to around "
        "today, so that it always has interviews just held and interviews to come. "
        "Organisations beyond the lead providers, and all people, are synthetic demo data."
    ),
    "timezone": "Europe/London",
    "organiser_name": "PL Pathways research team",
    "organiser_email": "pathways-study@example.org",
    "interview_minutes": 60,
}

#: Who is sampled in every identified district, in order: (role, job title).
DISTRICT_PEOPLE = [
    ("DWP Contract Manager", "Contract Manager"),
    ("JCP Third Party Provision Manager", "Third Party Provision Manager"),
]
#: Who is sampled for each lead provider covering a district, in order: (role, job title);
#: the sub-contractor manager works at one of the provider's sub-contractors.
PROVIDER_PEOPLE = [
    ("Lead provider manager", "Contract Manager"),
    ("Lead provider adviser", "Personal Adviser"),
    ("Lead provider adviser", "Personal Adviser"),
    ("Sub-contractor manager", "Service Manager"),
]


@dataclass
class _Districts:
    """The districts file read into the study: phases by number, districts in file order, and
    the districts each lead provider covers (providers in order of first appearance)."""

    phases: dict[int, Phase] = field(default_factory=dict)
    districts: list[District] = field(default_factory=list)
    covered: dict[str, list[District]] = field(default_factory=dict)


@dataclass
class _Organisations:
    dwp: Organisation
    jcp_offices: dict[int, Organisation]
    providers: dict[str, Organisation]
    subcontractors: dict[str, list[Organisation]]


def load_demo(with_users: bool = True) -> Study:
    """Load the demo study into the database (it must not hold it yet). Commits.

    One seeded random generator runs through the parts in order, so the demo is the same
    every time (the parts must keep their order)."""
    if db.session.scalar(select(Study).where(Study.slug == DEMO_SLUG)) is not None:
        raise ValueError("The demo study is already loaded.")
    rng = random.Random(2009)
    # Users first: creating one commits, and nothing of the study is pending yet.
    demo_users = _demo_users() if with_users else []
    study = _new_study(demo_users)
    roles = _add_roles(study)
    read = _add_districts(study)
    organisations = _add_organisations(study, read, rng)
    interviewers = [user for user in demo_users if user.role == UserRole.INTERVIEWER]
    _add_people(study, read, organisations, roles, _People(study, rng, interviewers, read))
    db.session.commit()
    return study


def _demo_users() -> list[User]:
    """The demo logins, created unless they exist (each creation commits)."""
    users = []
    for login in DEMO_LOGINS:
        user = accounts.find_user_by_email(login.email) or accounts.create_user(
            login.email,
            login.name,
            login.role,
            login.password,
            is_administrator=login.role == UserRole.COORDINATOR,
        )
        users.append(user)
    return users


def _new_study(demo_users: list[User]) -> Study:
    """The study, its fieldwork around today, and the demo users' memberships of it."""
    today = now_utc().astimezone(ZoneInfo("Europe/London")).date()
    study = Study(
        **STUDY,
        # Around today (see the description); the whole demo widens it to cover its dates.
        fieldwork_starts_on=today - dt.timedelta(days=DEMO_WEEKS_BEFORE * 7),
        fieldwork_ends_on=today + dt.timedelta(days=DEMO_WEEKS_AFTER * 7),
    )
    db.session.add(study)
    db.session.flush()
    for user in demo_users:  # the demo users work on the demo study, each in their role
        db.session.add(Membership(user_id=user.id, study_id=study.id, role=user.role))
    return study


def _add_roles(study: Study) -> dict[str, Role]:
    roles = {
        name: Role(study_id=study.id, name=name, organisation_kind=kind, description=text)
        for name, kind, text in ROLES
    }
    db.session.add_all(roles.values())
    return roles


def _add_districts(study: Study) -> _Districts:
    """Phases and districts from DATA_FILE, and which districts each lead provider covers."""
    read = _Districts()
    with DATA_FILE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            number = int(row["phase"])
            if number not in read.phases:
                go_live = dt.date.fromisoformat(row["go_live"])
                read.phases[number] = Phase(
                    study_id=study.id, number=number, name=f"Phase {number}", go_live_on=go_live
                )
                db.session.add(read.phases[number])
            district = District(
                study_id=study.id,
                phase=read.phases[number],
                name=row["district"],
                is_placeholder=row["district"].startswith("UNKNOWN"),
                source=row["source"],
            )
            read.districts.append(district)
            for provider in _split_providers(row["lead_provider"]):
                read.covered.setdefault(provider, []).append(district)
    db.session.add_all(read.districts)
    db.session.flush()
    return read


def _add_organisations(study: Study, read: _Districts, rng: random.Random) -> _Organisations:
    """The DWP, a Jobcentre Plus office per district, the lead providers, and two synthetic
    sub-contractors of each provider."""
    dwp = Organisation(
        study_id=study.id,
        name="Department for Work and Pensions",
        kind=OrganisationKind.DWP,
        districts=list(read.districts),
        notes="Contract managers cover several districts each.",
    )
    db.session.add(dwp)
    jcp_offices = {
        district.id: Organisation(
            study_id=study.id,
            name=f"Jobcentre Plus {district.name}",
            kind=OrganisationKind.JCP,
            districts=[district],
        )
        for district in read.districts
    }
    db.session.add_all(jcp_offices.values())
    providers = {
        name: Organisation(
            study_id=study.id, name=name, kind=OrganisationKind.LEAD_PROVIDER, districts=covered
        )
        for name, covered in read.covered.items()
    }
    db.session.add_all(providers.values())
    db.session.flush()
    subcontractors = {
        name: _add_subcontractors(study, name, lead, read.covered[name], rng)
        for name, lead in sorted(providers.items())
    }
    db.session.flush()
    return _Organisations(dwp, jcp_offices, providers, subcontractors)


def _add_subcontractors(
    study: Study, name: str, lead: Organisation, covered: list[District], rng: random.Random
) -> list[Organisation]:
    subs = [
        Organisation(
            study_id=study.id,
            name=f"{stem} ({name.split(' (')[0]})",
            kind=OrganisationKind.SUBCONTRACTOR,
            lead_provider_id=lead.id,
            districts=list(covered),
            notes="Synthetic sub-contractor for the demo.",
        )
        for stem in rng.sample(SUBCONTRACTOR_STEMS, 2)
    ]
    db.session.add_all(subs)
    return subs


class _People:
    """Adds synthetic participants: unique names, references numbered per phase, six in ten
    assigned to a demo interviewer."""

    def __init__(
        self, study: Study, rng: random.Random, interviewers: list[User], read: _Districts
    ) -> None:
        self.study, self.rng, self.interviewers = study, rng, interviewers
        self.used_names: set[str] = set()
        self.counters = {number: 0 for number in read.phases}

    def _new_name(self) -> str:
        while True:
            name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
            if name not in self.used_names:
                self.used_names.add(name)
                return name

    def add(self, district: District, organisation: Organisation, role: Role, title: str) -> None:
        name = self._new_name()
        number = district.phase.number
        self.counters[number] += 1
        interviewer_id = (
            self.rng.choice(self.interviewers).id
            if self.interviewers and self.rng.random() < 0.6
            else None
        )
        db.session.add(
            Participant(
                study_id=self.study.id,
                reference=f"P{number}-{self.counters[number]:03d}",
                organisation_id=organisation.id,
                role_id=role.id,
                district_id=district.id,
                interviewer_id=interviewer_id,
                name=name,
                job_title=title,
                email=f"{_slugify_email(name)}@{_email_domain(organisation)}.example.org",
                phone=f"0161 496 {self.rng.randint(0, 9999):04d}",
            )
        )


def _add_people(
    study: Study,
    read: _Districts,
    organisations: _Organisations,
    roles: dict[str, Role],
    people: _People,
) -> None:
    """DISTRICT_PEOPLE in every identified district, then PROVIDER_PEOPLE for each lead
    provider covering it; districts by phase and name."""
    for district in sorted(read.districts, key=lambda d: (d.phase.number, d.name)):
        if district.is_placeholder:
            continue  # nobody can be sampled in a district nobody has identified yet
        local = [organisations.dwp, organisations.jcp_offices[district.id]]
        for organisation, (role, title) in zip(local, DISTRICT_PEOPLE, strict=True):
            people.add(district, organisation, roles[role], title)
        for name, covered in read.covered.items():
            if district not in covered:
                continue
            for role, title in PROVIDER_PEOPLE:
                organisation = organisations.providers[name]
                if role == "Sub-contractor manager":
                    organisation = people.rng.choice(organisations.subcontractors[name])
                people.add(district, organisation, roles[role], title)
