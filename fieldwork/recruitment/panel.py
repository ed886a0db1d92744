"""What the participant page's recruitment sections show."""

from __future__ import annotations

from fieldwork.audit import services as audit
from fieldwork.recruitment.consent import consents_of
from fieldwork.recruitment.consent_versions import published_versions_for
from fieldwork.recruitment.contacts import access_of, contact_attempts_of
from fieldwork.recruitment.erasure import is_erased
from fieldwork.recruitment.links import links_of
from fieldwork.recruitment.referrals import referrals_of
from fieldwork.recruitment.status import TAKE_PART
from fieldwork.sampling.models import Participant


def recruitment_panel(participant: Participant) -> dict:
    """Everything the participant page's recruitment sections show, in a fixed number of
    queries whatever the history's length."""
    consents = consents_of(participant)
    return {
        "attempts": contact_attempts_of(participant),
        "consents": consents,
        "has_consent_to_take_part": any(
            not c.is_withdrawn and any(a.is_agreed and a.item.key == TAKE_PART for a in c.answers)
            for c in consents
        ),
        "links": links_of(participant),
        "referrals": referrals_of(participant),
        "events": audit.events_for_participant(participant.id),
        "access": access_of(participant.organisation_id),
        "versions": published_versions_for(participant.study_id),
        "is_erased": is_erased(participant),
    }
