"""The recruitment demo follows the rules and is the same every time."""

from __future__ import annotations

import sqlalchemy as sa

from fieldwork.extensions import db
from fieldwork.recruitment.consent_versions import published_versions
from fieldwork.recruitment.demo import load_recruitment_demo
from fieldwork.recruitment.models import Consent, ConsentMethod, ContactAttempt
from fieldwork.sampling.demo import load_demo
from fieldwork.sampling.models import Participant, RecruitmentStatus


def test_the_demo_has_a_published_form_attempts_and_consents(app):
    study = load_demo(with_users=True)
    load_recruitment_demo(study)
    [version] = published_versions(study)
    assert [item.key for item in version.items] == [
        "take_part",
        "audio_recording",
        "anonymised_quotes",
        "archiving",
    ]
    assert db.session.scalar(sa.select(sa.func.count(ContactAttempt.id))) > 10
    methods = set(db.session.scalars(sa.select(Consent.method)))
    assert ConsentMethod.ONLINE in methods
    statuses = set(db.session.scalars(sa.select(Participant.status)))
    assert {
        RecruitmentStatus.APPROACHED,
        RecruitmentStatus.AGREED,
        RecruitmentStatus.DECLINED,
    } <= statuses
