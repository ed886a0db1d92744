"""Consent forms and their versions: drafts change, published versions are fixed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from fieldwork.accounts.models import User
from fieldwork.audit import services as audit
from fieldwork.core.time import now_utc
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.recruitment.models import (
    ConsentForm,
    ConsentFormVersion,
    ConsentItem,
)
from fieldwork.recruitment.status import TAKE_PART, RecruitmentError
from fieldwork.sampling.models import Study


class PublishedVersionError(RecruitmentError):
    """A published consent form version cannot change."""


@dataclass(frozen=True)
class ItemSpec:
    """An item as a form or the demo gives it."""

    key: str
    text: str
    is_required: bool = False


#: The four usual items, in order, with a label for the forms.
STANDARD_ITEM_KEYS: dict[str, str] = {
    "take_part": "Take part in the interview",
    "audio_recording": "Audio recording",
    "anonymised_quotes": "Use of anonymised quotations",
    "archiving": "Deposit of the anonymised transcript in a data archive",
}


def _check_items(items: list[ItemSpec]) -> None:
    keys = [item.key for item in items]
    if len(set(keys)) != len(keys):
        raise RecruitmentError("Each item may appear only once.")
    for item in items:
        if not item.key or len(item.key) > 40:
            raise RecruitmentError("Each item needs a short key.")
        if not item.text.strip():
            raise RecruitmentError(f"The item {item.key} needs a text.")


def create_consent_form(
    study: Study, title: str, text: str, items: list[ItemSpec], actor: User | None
) -> ConsentForm:
    """A new form with a draft version 1. Commits."""
    _check_items(items)
    form = ConsentForm(study_id=study.id, title=title.strip())
    version = ConsentFormVersion(number=1, text=text.strip())
    version.items = _make_items(items)
    form.versions = [version]
    with transaction():
        db.session.add(form)
        db.session.flush()
        audit.record_event(
            "consent_form.created",
            actor=actor,
            study_id=study.id,
            subject_type="consent_form",
            subject_id=form.id,
            after={"title": form.title},
        )
    return get_consent_form(form.id, study)  # type: ignore[return-value]


def _make_items(items: list[ItemSpec]) -> list[ConsentItem]:
    return [
        ConsentItem(
            key=item.key, text=item.text.strip(), is_required=item.is_required, position=position
        )
        for position, item in enumerate(items)
    ]


def get_version(version_id: int, study: Study | None = None) -> ConsentFormVersion | None:
    """A version with its form and items; None if absent or of another study."""
    version = db.session.scalar(
        select(ConsentFormVersion)
        .where(ConsentFormVersion.id == version_id)
        .options(joinedload(ConsentFormVersion.form), selectinload(ConsentFormVersion.items))
        .execution_options(populate_existing=True)
    )
    if version is None or (study is not None and version.form.study_id != study.id):
        return None
    return version


def fresh_version(version: ConsentFormVersion) -> ConsentFormVersion:
    """`version` read again with its form and items: a service checks what is stored, not what
    its caller holds."""
    found = get_version(version.id)
    if found is None:
        raise RecruitmentError("That consent form version no longer exists.")
    return found


@transaction()
def update_draft(
    version: ConsentFormVersion, text: str, items: list[ItemSpec], actor: User | None
) -> ConsentFormVersion:
    """Change a draft's text and items. A published version is refused. Commits."""
    if version.is_published:
        raise PublishedVersionError(
            f"Version {version.number} is published and cannot change; make a new version."
        )
    _check_items(items)
    version.text = text.strip()
    version.items.clear()
    db.session.flush()  # the old items go before new ones take their keys
    version.items.extend(_make_items(items))
    return version


@transaction()
def publish_version(version: ConsentFormVersion, actor: User | None) -> None:
    """Publish a draft; from now on it is fixed. Commits."""
    if version.is_published:
        raise PublishedVersionError(f"Version {version.number} is already published.")
    if not version.text.strip():
        raise RecruitmentError("Write the information text before publishing.")
    if not any(item.key == TAKE_PART and item.is_required for item in version.items):
        raise RecruitmentError(
            "A version needs a required “take part” item before it can be published."
        )
    version.published_at = now_utc()
    study_id = db.session.scalar(
        select(ConsentForm.study_id).where(ConsentForm.id == version.form_id)
    )
    audit.record_event(
        "consent_form.version_published",
        actor=actor,
        study_id=study_id,
        subject_type="consent_form_version",
        subject_id=version.id,
        after={"version": version.number},
    )


def new_draft_from(version: ConsentFormVersion, actor: User | None) -> ConsentFormVersion:
    """Start the next version of a form as a copy of `version`; an open draft is reused.
    Commits."""
    existing = db.session.scalar(
        select(ConsentFormVersion)
        .where(
            ConsentFormVersion.form_id == version.form_id,
            ConsentFormVersion.published_at.is_(None),
        )
        .options(joinedload(ConsentFormVersion.form), selectinload(ConsentFormVersion.items))
    )
    if existing is not None:
        return existing
    number = db.session.scalar(
        select(func.max(ConsentFormVersion.number)).where(
            ConsentFormVersion.form_id == version.form_id
        )
    )
    draft = ConsentFormVersion(form_id=version.form_id, number=(number or 0) + 1, text=version.text)
    draft.items = _make_items(
        [ItemSpec(item.key, item.text, item.is_required) for item in version.items]
    )
    with transaction():
        db.session.add(draft)
    return get_version(draft.id)  # type: ignore[return-value]


def consent_forms_of(study: Study) -> list[ConsentForm]:
    """The study's forms with their versions (two queries)."""
    return list(
        db.session.scalars(
            select(ConsentForm)
            .where(ConsentForm.study_id == study.id)
            .options(selectinload(ConsentForm.versions))
            .order_by(ConsentForm.title)
        )
    )


def get_consent_form(form_id: int, study: Study) -> ConsentForm | None:
    return db.session.scalar(
        select(ConsentForm)
        .where(ConsentForm.id == form_id, ConsentForm.study_id == study.id)
        .options(selectinload(ConsentForm.versions).selectinload(ConsentFormVersion.items))
    )


def published_versions(study: Study) -> list[ConsentFormVersion]:
    """Every published version of the study's forms, newest first, with form and items."""
    return list(
        db.session.scalars(
            select(ConsentFormVersion)
            .join(ConsentForm)
            .where(ConsentForm.study_id == study.id, ConsentFormVersion.published_at.is_not(None))
            .options(joinedload(ConsentFormVersion.form), selectinload(ConsentFormVersion.items))
            .order_by(ConsentForm.title, ConsentFormVersion.number.desc())
        )
    )


def published_versions_for(study_id: int) -> list[ConsentFormVersion]:
    return list(
        db.session.scalars(
            select(ConsentFormVersion)
            .join(ConsentForm)
            .where(ConsentForm.study_id == study_id, ConsentFormVersion.published_at.is_not(None))
            .options(joinedload(ConsentFormVersion.form))
            .order_by(ConsentForm.title, ConsentFormVersion.number.desc())
        )
    )
