"""The whole demo study, domain by domain: the sample frame first, then what builds on it."""

from __future__ import annotations

from fieldwork.extensions import db
from fieldwork.sampling.demo import DEMO_LOGINS, load_demo
from fieldwork.sampling.models import Study

__all__ = ["DEMO_LOGINS", "load_demo_study"]

DEMO_NOT_SENT = "Demo data: invitations to made-up addresses are not sent."


def load_demo_study() -> Study:
    """Load the demo study with its recruitment, appointments and quotas (the database must
    not hold it yet). The invitations its bookings queue are cancelled, not sent."""
    from fieldwork.coverage.demo import load_coverage_demo
    from fieldwork.outbox.services import cancel_study_pending
    from fieldwork.recruitment.demo import load_recruitment_demo
    from fieldwork.replies.demo import load_replies_demo
    from fieldwork.scheduling.demo import load_scheduling_demo

    study = load_demo()
    load_recruitment_demo(study)
    load_scheduling_demo(study)
    load_replies_demo(study)
    load_coverage_demo(study)
    cancel_study_pending(study.id, DEMO_NOT_SENT)
    db.session.commit()
    return study
