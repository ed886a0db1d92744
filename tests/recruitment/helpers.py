"""Test data for recruitment: a published consent form and a participant in a small frame."""

from __future__ import annotations

from fieldwork.recruitment import services
from fieldwork.recruitment.models import ConsentFormVersion
from fieldwork.sampling.models import Study

ITEMS = [
    services.ItemSpec("take_part", "I agree to take part in an interview.", True),
    services.ItemSpec("audio_recording", "I agree to the interview being audio recorded."),
    services.ItemSpec("anonymised_quotes", "I agree to anonymised quotations being used."),
    services.ItemSpec("archiving", "I agree to the anonymised transcript being archived."),
]


def make_published_version(
    study: Study, actor=None, title: str = "Interview consent"
) -> ConsentFormVersion:
    form = services.create_consent_form(
        study,
        title,
        "We are studying outcome-based contracting.\n\nTaking part is voluntary.",
        ITEMS,
        actor,
    )
    version = services.get_version(form.versions[0].id)
    services.publish_version(version, actor)
    return services.get_version(version.id)


def all_yes() -> dict[str, bool]:
    return {item.key: True for item in ITEMS}
