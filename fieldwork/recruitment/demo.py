"""Recruitment demo data: a published consent form, contact attempts and consents for the demo
study, made through the services so that statuses follow the disposition rules."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from fieldwork.accounts.models import User, UserRole
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.recruitment.consent import record_consent, withdraw
from fieldwork.recruitment.consent_versions import (
    ItemSpec,
    create_consent_form,
    fresh_version,
    publish_version,
)
from fieldwork.recruitment.contacts import log_contact_attempt, save_access
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.links import create_consent_link, give_online_consent
from fieldwork.recruitment.models import (
    AccessAgreement,
    ConsentFormVersion,
    ConsentMethod,
    ContactChannel,
    DataHandling,
)
from fieldwork.sampling.models import Organisation, OrganisationKind, Participant, Study

CONSENT_TEXT = (
    "We are researchers studying how outcome-based contracts work in Provider-Led Pathways to "
    "Work. We would like to interview you, for about an hour, about your part in the contracts "
    "in your district.\n\n"
    "Taking part is voluntary. You can stop the interview at any time, and withdraw later "
    "without giving a reason.\n\n"
    "We will not name you or your organisation in anything we publish. With your agreement we "
    "will record the interview, quote your words without your name, and deposit the "
    "anonymised transcript in a data archive so that other researchers can use it."
)
CONSENT_ITEMS = [
    ItemSpec("take_part", "I agree to take part in an interview.", True),
    ItemSpec("audio_recording", "I agree to the interview being audio recorded."),
    ItemSpec(
        "anonymised_quotes", "I agree to my words being quoted in publications, without my name."
    ),
    ItemSpec(
        "archiving", "I agree to the anonymised transcript being deposited in a data archive."
    ),
]

#: Sequences of outcomes a demo participant goes through, with their weights.
STORIES: list[tuple[int, list[Disposition]]] = [
    (6, []),
    (4, [Disposition.NO_ANSWER]),
    (3, [Disposition.LEFT_MESSAGE, Disposition.CALL_BACK]),
    (6, [Disposition.LEFT_MESSAGE, Disposition.AGREED]),
    (4, [Disposition.AGREED]),
    (2, [Disposition.NO_ANSWER, Disposition.NO_ANSWER, Disposition.NOT_REACHABLE]),
    (2, [Disposition.CALL_BACK, Disposition.REFUSED]),
    (1, [Disposition.MOVED_ON]),
    (1, [Disposition.NOT_ELIGIBLE]),
]
CHANNELS = [
    ContactChannel.EMAIL,
    ContactChannel.EMAIL,
    ContactChannel.TELEPHONE,
    ContactChannel.LETTER,
]
NOTES = {
    Disposition.NO_ANSWER: "No answer on the office line.",
    Disposition.LEFT_MESSAGE: "Left a message with the team and sent the information sheet.",
    Disposition.CALL_BACK: "Busy with contract review; asked us to call back next week.",
    Disposition.AGREED: "Happy to take part; will suggest times.",
    Disposition.REFUSED: "Declined: too little time this quarter.",
    Disposition.NOT_REACHABLE: "Number no longer in use; email bounced.",
    Disposition.MOVED_ON: "Has moved to another post; successor to be identified.",
    Disposition.NOT_ELIGIBLE: "Not involved in the Pathways contract.",
}


def load_recruitment_demo(study: Study, seed: int = 2008) -> None:
    """Add the recruitment demo to `study` (deterministic for a given seed). Commits."""
    chance = random.Random(seed)
    coordinator = db.session.scalar(
        select(User).where(User.role == UserRole.COORDINATOR).order_by(User.id).limit(1)
    )
    form = create_consent_form(study, "Interview consent", CONSENT_TEXT, CONSENT_ITEMS, coordinator)
    version = fresh_version(form.versions[0])
    publish_version(version, coordinator)

    subcontractor = db.session.scalar(
        select(Organisation)
        .where(
            Organisation.study_id == study.id, Organisation.kind == OrganisationKind.SUBCONTRACTOR
        )
        .order_by(Organisation.name)
        .limit(1)
    )
    if subcontractor is not None:
        save_access(
            subcontractor,
            coordinator,
            contact_name="Operations manager",
            agreement=AccessAgreement.REFUSED,
            agreed_on=(now_utc() - dt.timedelta(days=20)).date(),
            notes="Declined on behalf of their staff: workload during contract start-up.",
        )

    today = now_utc()
    agreed = _contact_histories(study, coordinator, chance, today)
    _consents(agreed, version, coordinator, chance, today)
    if len(agreed) > 4:
        withdraw(
            db.session.get_one(Participant, agreed[4]),
            coordinator,
            reason="Changed roles and no longer has time.",
            data_handling=DataHandling.KEEP_ANONYMISED,
        )


def _contact_histories(
    study: Study, coordinator: User | None, chance: random.Random, today: dt.datetime
) -> list[int]:
    """Log each participant's contact attempts, a story drawn at random; the ids of those whose
    story ends in agreement."""
    participant_ids = list(
        db.session.scalars(
            select(Participant.id)
            .where(Participant.study_id == study.id)
            .order_by(Participant.reference)
        )
    )
    weights = [weight for weight, _ in STORIES]
    agreed: list[int] = []
    for participant_id in participant_ids:
        story = chance.choices([s for _, s in STORIES], weights)[0]
        start = today - dt.timedelta(days=chance.randint(15, 40), hours=chance.randint(0, 6))
        for step, disposition in enumerate(story):
            participant = db.session.get_one(Participant, participant_id)
            actor = (
                db.session.get(User, participant.interviewer_id)
                if participant.interviewer_id and chance.random() < 0.5
                else coordinator
            )
            is_last = step == len(story) - 1
            follow_up = None
            if is_last and disposition in (
                Disposition.NO_ANSWER,
                Disposition.CALL_BACK,
                Disposition.LEFT_MESSAGE,
            ):
                follow_up = (today + dt.timedelta(days=chance.randint(-6, 5))).date()
            log_contact_attempt(
                participant,
                actor,
                attempted_at=start + dt.timedelta(days=4 * step),
                channel=chance.choice(CHANNELS),
                disposition=disposition,
                note=NOTES.get(disposition, ""),
                next_action_on=follow_up,
            )
        if story and story[-1] == Disposition.AGREED:
            agreed.append(participant_id)
    return agreed


def _consents(
    agreed: list[int],
    version: ConsentFormVersion,
    coordinator: User | None,
    chance: random.Random,
    today: dt.datetime,
) -> None:
    """Two in three of those who agreed give consent: on paper or by phone, or online."""
    for position, participant_id in enumerate(agreed):
        participant = db.session.get_one(Participant, participant_id)
        if position % 3 == 2:
            continue  # agreed, consent still to come
        answers = {item.key: True for item in CONSENT_ITEMS}
        answers["archiving"] = chance.random() < 0.8
        if position % 3 == 1:
            link, _ = create_consent_link(participant, version, coordinator)
            give_online_consent(link, answers, participant.name)
        else:
            record_consent(
                participant,
                version,
                method=chance.choice([ConsentMethod.WRITTEN, ConsentMethod.VERBAL]),
                answers=answers,
                actor=coordinator,
                given_at=today - dt.timedelta(days=chance.randint(1, 10)),
            )
