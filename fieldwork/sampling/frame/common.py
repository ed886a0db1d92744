"""What the frame's modules share: the field error, message phrasing, name rules, paging."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from fieldwork.core.pagination import Page
from fieldwork.core.spreadsheet import refuse_formula_name
from fieldwork.extensions import db
from fieldwork.sampling.models import (
    District,
    Participant,
    Study,
    organisation_district,
)
from fieldwork.sampling.services import FrameError

T = TypeVar("T")


class FrameFieldError(FrameError):
    """A FrameError about one field; `field` is the name of the form field it belongs beside."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def people_are(count: int) -> str:
    """'1 participant is' / '3 participants are', for messages."""
    return f"{count} participant is" if count == 1 else f"{count} participants are"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def clean_text(text: str | None) -> str:
    return (text or "").strip()


def flush_or_refuse(field: str, message: str) -> None:
    """Write now; if a unique constraint fires anyway (two people saving at once), say so.
    The caller's `transaction()` then rolls the change back."""
    try:
        db.session.flush()
    except IntegrityError:
        raise FrameFieldError(field, message) from None


def name_taken(model: Any, study_id: int, name: str, except_id: int | None) -> bool:
    """True when another row of `model` in the study has this name, ignoring case."""
    statement = select(model.id).where(
        model.study_id == study_id, func.lower(model.name) == name.lower()
    )
    if except_id is not None:
        statement = statement.where(model.id != except_id)
    return db.session.scalar(statement.limit(1)) is not None


def name_taken_message(what: str, name: str) -> str:
    """'This study already has a district called X.' (an organisation: 'an')."""
    article = "an" if what[0] in "aeiou" else "a"
    return f"This study already has {article} {what} called {name}."


def refuse_taken_name(model: Any, study_id: int, record: Any, name: str, what: str) -> None:
    """Refuse a name another row of `model` in the study has (`record` None when adding)."""
    if name_taken(model, study_id, name, record.id if record is not None else None):
        raise FrameFieldError("name", name_taken_message(what, name))


def people_still_using(study_id: int, where: str, instead: str, **which: int) -> str | None:
    """Why a record cannot go while participants use it ('3 participants are <where>: <instead>
    or delete them first.'), or None when nobody does; `which` as participant_count takes."""
    people = participant_count(study_id, **which)
    if people:
        return f"{people_are(people)} {where}: {instead} or delete them first."
    return None


def refuse_if(reason: str | None) -> None:
    """Refuse a deletion for the reason a `why_not_delete_*` gave, if it gave one (the
    caller's `transaction()` then rolls back)."""
    if reason:
        raise FrameError(reason)


def require_name(name: str | None, what: str) -> str:
    cleaned = clean_text(name)
    if not cleaned:
        raise FrameFieldError("name", f"Enter the {what}'s name.")
    refusal = refuse_formula_name(cleaned, what)
    if refusal:
        raise FrameFieldError("name", refusal)
    return cleaned


def page_of_rows(
    count_statement: Select,
    rows_statement: Select,
    page: int,
    per_page: int,
    make_row: Callable[[Any], T],
) -> Page[T]:
    """Like core.pagination.paginate, for statements that select an entity and its counts."""
    total = (
        db.session.scalar(
            select(func.count()).select_from(count_statement.order_by(None).subquery())
        )
        or 0
    )
    page = min(page, max(1, math.ceil(total / per_page)))
    result = db.session.execute(rows_statement.limit(per_page).offset((page - 1) * per_page))
    return Page(
        items=[make_row(row) for row in result.unique().all()],
        page=page,
        per_page=per_page,
        total=total,
    )


def participants_per(column: Any, study: Study):
    """A grouped subquery: (key, n) participants of the study per value of `column`."""
    return (
        select(column.label("key"), func.count().label("n"))
        .where(Participant.study_id == study.id)
        .group_by(column)
        .subquery()
    )


def links_per(column: Any, study: Study):
    """A grouped subquery: (key, n) links between the study's districts and organisations per
    value of `column` (organisation_district's district_id or organisation_id)."""
    return (
        select(column.label("key"), func.count().label("n"))
        .join(District, District.id == organisation_district.c.district_id)
        .where(District.study_id == study.id)
        .group_by(column)
        .subquery()
    )


def participant_count(
    study_id: int,
    *,
    district_id: int | None = None,
    organisation_id: int | None = None,
    role_id: int | None = None,
    phase_id: int | None = None,
) -> int:
    """How many participants of the study use a district, organisation, role or phase."""
    statement = (
        select(func.count()).select_from(Participant).where(Participant.study_id == study_id)
    )
    if district_id is not None:
        statement = statement.where(Participant.district_id == district_id)
    if organisation_id is not None:
        statement = statement.where(Participant.organisation_id == organisation_id)
    if role_id is not None:
        statement = statement.where(Participant.role_id == role_id)
    if phase_id is not None:
        statement = statement.where(
            Participant.district_id.in_(select(District.id).where(District.phase_id == phase_id))
        )
    return db.session.scalar(statement) or 0
