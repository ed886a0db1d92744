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
from dataclasses import dataclass
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


# Long by design: the demo study's data, written out in the order a coordinator would
# enter it; it is data, not logic, and one seeded random generator runs through it.
def load_demo(with_users: bool = True) -> Study:
    """Load the demo study into the database (it must not hold it yet). Commits."""
    if db.session.scalar(select(Study).where(Study.slug == DEMO_SLUG)) is not None:
        raise ValueError("The demo study is already loaded.")
    rng = random.Random(2009)
    today = now_utc().astimezone(ZoneInfo("Europe/London")).date()
    # Users first: creating one commits, and nothing of the study is pending yet.
    interviewers: list[User] = []
    demo_users: list[User] = []
    if with_users:
        for login in DEMO_LOGINS:
            user = accounts.find_user_by_email(login.email) or accounts.create_user(
                login.email,
                login.name,
                login.role,
                login.password,
                is_administrator=login.role == UserRole.COORDINATOR,
            )
            demo_users.append(user)
            if user.role == UserRole.INTERVIEWER:
                interviewers.append(user)

    study = Study(
        slug=DEMO_SLUG,
        name="Outcome-based contracting in Provider-Led Pathways to Work",
        description=(
            "Qualitative study of how outcome-based contracting influences the delivery of "
            "Provider-Led Pathways to Work, interviewing DWP, Jobcentre Plus, lead provider and "
            "sub-contractor staff in the phase 1 and phase 2 districts. The original fieldwork "
            "ran from 12 January 2009 to 30 September 2009; in this demo it is moved to around "
            "today, so that it always has interviews just held and interviews to come. "
            "Organisations beyond the lead providers, and all people, are synthetic demo data."
        ),
        timezone="Europe/London",
        # Around today (see the description); the whole demo widens it to cover its dates.
        fieldwork_starts_on=today - dt.timedelta(days=DEMO_WEEKS_BEFORE * 7),
        fieldwork_ends_on=today + dt.timedelta(days=DEMO_WEEKS_AFTER * 7),
        organiser_name="PL Pathways research team",
        organiser_email="pathways-study@example.org",
        interview_minutes=60,
    )
    db.session.add(study)
    db.session.flush()
    for user in demo_users:  # the demo users work on the demo study, each in their role
        db.session.add(Membership(user_id=user.id, study_id=study.id, role=user.role))

    roles = {
        name: Role(study_id=study.id, name=name, organisation_kind=kind, description=text)
        for name, kind, text in ROLES
    }
    db.session.add_all(roles.values())

    phases: dict[int, Phase] = {}
    districts: list[District] = []
    providers: dict[str, Organisation] = {}
    provider_districts: dict[str, list[District]] = {}
    with DATA_FILE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            number = int(row["phase"])
            if number not in phases:
                go_live = dt.date.fromisoformat(row["go_live"])
                phases[number] = Phase(
                    study_id=study.id, number=number, name=f"Phase {number}", go_live_on=go_live
                )
                db.session.add(phases[number])
            placeholder = row["district"].startswith("UNKNOWN")
            district = District(
                study_id=study.id,
                phase=phases[number],
                name=row["district"],
                is_placeholder=placeholder,
                source=row["source"],
            )
            districts.append(district)
            for provider in _split_providers(row["lead_provider"]):
                provider_districts.setdefault(provider, []).append(district)
    db.session.add_all(districts)
    db.session.flush()

    dwp = Organisation(
        study_id=study.id,
        name="Department for Work and Pensions",
        kind=OrganisationKind.DWP,
        districts=list(districts),
        notes="Contract managers cover several districts each.",
    )
    db.session.add(dwp)
    jcp_offices = {}
    for district in districts:
        jcp_offices[district.id] = Organisation(
            study_id=study.id,
            name=f"Jobcentre Plus {district.name}",
            kind=OrganisationKind.JCP,
            districts=[district],
        )
    db.session.add_all(jcp_offices.values())
    for name, covered in provider_districts.items():
        providers[name] = Organisation(
            study_id=study.id, name=name, kind=OrganisationKind.LEAD_PROVIDER, districts=covered
        )
    db.session.add_all(providers.values())
    db.session.flush()

    subcontractors: dict[str, list[Organisation]] = {}
    for name, lead in sorted(providers.items()):
        stems = rng.sample(SUBCONTRACTOR_STEMS, 2)
        subcontractors[name] = []
        for stem in stems:
            sub = Organisation(
                study_id=study.id,
                name=f"{stem} ({name.split(' (')[0]})",
                kind=OrganisationKind.SUBCONTRACTOR,
                lead_provider_id=lead.id,
                districts=list(provider_districts[name]),
                notes="Synthetic sub-contractor for the demo.",
            )
            subcontractors[name].append(sub)
        db.session.add_all(subcontractors[name])
    db.session.flush()

    used_names: set[str] = set()
    counters = {number: 0 for number in phases}

    def person(district: District, organisation: Organisation, role: Role, title: str) -> None:
        while True:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            if name not in used_names:
                used_names.add(name)
                break
        counters[district.phase.number] += 1
        domain = _email_domain(organisation)
        db.session.add(
            Participant(
                study_id=study.id,
                reference=f"P{district.phase.number}-{counters[district.phase.number]:03d}",
                organisation_id=organisation.id,
                role_id=role.id,
                district_id=district.id,
                interviewer_id=rng.choice(interviewers).id
                if interviewers and rng.random() < 0.6
                else None,
                name=name,
                job_title=title,
                email=f"{_slugify_email(name)}@{domain}.example.org",
                phone=f"0161 496 {rng.randint(0, 9999):04d}",
            )
        )

    for district in sorted(districts, key=lambda d: (d.phase.number, d.name)):
        if district.is_placeholder:
            continue  # nobody can be sampled in a district nobody has identified yet
        person(district, dwp, roles["DWP Contract Manager"], "Contract Manager")
        person(
            district,
            jcp_offices[district.id],
            roles["JCP Third Party Provision Manager"],
            "Third Party Provision Manager",
        )
        for name, covered in provider_districts.items():
            if district not in covered:
                continue
            person(district, providers[name], roles["Lead provider manager"], "Contract Manager")
            for _ in range(2):
                person(
                    district, providers[name], roles["Lead provider adviser"], "Personal Adviser"
                )
            person(
                district,
                rng.choice(subcontractors[name]),
                roles["Sub-contractor manager"],
                "Service Manager",
            )
    db.session.commit()
    return study
