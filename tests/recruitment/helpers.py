"""Test data for recruitment: a published consent form and a participant in a small frame."""

from __future__ import annotations

from fieldwork.recruitment.consent_versions import (
    ItemSpec,
    create_consent_form,
    get_version,
    publish_version,
)
from fieldwork.recruitment.models import ConsentFormVersion
from fieldwork.sampling.models import Study

ITEMS = [
    ItemSpec("take_part", "I agree to take part in an interview.", True),
    ItemSpec("audio_recording", "I agree to the interview being audio recorded."),
    ItemSpec("anonymised_quotes", "I agree to anonymised quotations being used."),
    ItemSpec("archiving", "I agree to the anonymised transcript being archived."),
]


def make_published_version(
    study: Study, actor=None, title: str = "Interview consent"
) -> ConsentFormVersion:
    form = create_consent_form(
        study,
        title,
        "We are studying outcome-based contracting.\n\nTaking part is voluntary.",
        ITEMS,
        actor,
    )
    version = get_version(form.versions[0].id)
    publish_version(version, actor)
    return get_version(version.id)


def all_yes() -> dict[str, bool]:
    return {item.key: True for item in ITEMS}
