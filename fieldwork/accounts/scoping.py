"""Studies are the unit of access: in a request, a logged-in user's queries see member studies only.

Every list and page already narrows to the current study, and the study switcher offers only
member studies; this guard is the backstop under all of them. On each ORM query made while a
user is logged in, rows of any model with a `study_id` (and studies themselves, and rows hanging
off a participant) are limited to the studies the user belongs to, so a guessed id, an API
call, an export, the outbox or the audit trail of another study finds nothing (404). Rows that
belong to no study (installation-wide audit events and messages) are for administrators only.

Outside a request (commands, the scheduler) and for anonymous visitors (token links, feeds,
whose token is the key) nothing is added.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import g, has_request_context
from sqlalchemy import event, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from fieldwork.extensions import Model

#: Models that belong to a study through a participant rather than a `study_id` of their own.
_BY_PARTICIPANT = ("ContactAttempt", "Consent", "ConsentLink", "Referral", "BookingLink")
#: ... through an appointment.
_BY_APPOINTMENT = ("Reminder", "AppointmentChange")


def _model(name: str):
    """A mapped class by name, or None (a domain may not define it)."""
    for mapper in Model.registry.mappers:
        if mapper.class_.__name__ == name:
            return mapper.class_
    return None


def _scoped_user_id() -> int | None:
    """The id of this request's logged-in user, if Flask-Login has already loaded one.

    Reads no attribute of the user (an expired one would load itself, through this hook)."""
    if not has_request_context():
        return None
    from fieldwork.accounts.models import User

    user = g.get("_login_user")  # never trigger loading from inside a query
    if not isinstance(user, User):
        return None
    identity: tuple[Any, ...] | None = sa_inspect(user).identity
    return identity[0] if identity else None


def member_roles(session: Session, user_id: int) -> tuple[dict[int, str], bool]:
    """The user's studies with their role in each, and whether they are an administrator:
    one query per request (cached in `g`), shared by this guard and `User.study_roles`."""
    cached = g.get("_member_study_ids")
    if cached is None or cached[0] != user_id:
        from fieldwork.accounts.models import Membership, User

        # A Core query on the connection: it does not come back through this hook.
        membership, user = Membership.__table__, User.__table__
        rows = (
            session.connection()
            .execute(
                select(user.c.is_administrator, membership.c.study_id, membership.c.role)
                .select_from(user.outerjoin(membership, membership.c.user_id == user.c.id))
                .where(user.c.id == user_id)
            )
            .all()
        )
        roles = {row.study_id: row.role for row in rows if row.study_id is not None}
        cached = (user_id, roles, bool(rows and rows[0].is_administrator))
        g._member_study_ids = cached
    return cached[1], cached[2]


def _member_study_ids(session: Session, user_id: int) -> tuple[tuple[int, ...], bool]:
    roles, is_administrator = member_roles(session, user_id)
    return tuple(sorted(roles)), is_administrator


def forget_member_studies() -> None:
    """Memberships changed in this request: read them again."""
    g.pop("_member_study_ids", None)


# Memoised on (member studies, administrator): building the ~30 criteria walks every mapper,
# and it ran on each query of each request (a third of a short page's time). The options are
# immutable, so one tuple serves every query that has the same studies to see; the cache holds
# one entry per distinct set of memberships, bounded.
# Long by design: one criterion per way a table reaches its study (its own study_id, its
# participant, appointment, consent form, organisation or role), each a lambda written out here.
@lru_cache(maxsize=256)
def _criteria(ids: tuple[int, ...], is_administrator: bool, mapper_count: int) -> tuple:
    """The loader criteria for these member studies. Each is a lambda written out once, so that
    it follows aliased entities (joined eager loads) and SQLAlchemy caches it with `ids` as a
    parameter. `mapper_count` is only part of the cache key: a model mapped later (a domain
    imported after the first query) gets criteria built afresh."""
    from fieldwork.accounts.models import Membership

    # By name, like every model here: the scoping sits in accounts, below the domains it guards.
    Study, Participant = _model("Study"), _model("Participant")

    options = [with_loader_criteria(Study, lambda cls: cls.id.in_(ids), include_aliases=True)]

    def scope(model, criterion) -> None:
        if model is not None:
            options.append(with_loader_criteria(model, criterion, include_aliases=True))

    for mapper in Model.registry.mappers:
        model = mapper.class_
        if model is Membership or model is Study or "study_id" not in mapper.columns:
            continue
        if mapper.columns["study_id"].nullable and is_administrator:
            scope(model, lambda cls: or_(cls.study_id.in_(ids), cls.study_id.is_(None)))
        else:
            scope(model, lambda cls: cls.study_id.in_(ids))
    for name in _BY_PARTICIPANT:
        scope(
            _model(name),
            lambda cls: cls.participant_id.in_(
                select(Participant.id).where(Participant.study_id.in_(ids))
            ),
        )
    appointment = _model("Appointment")
    for name in _BY_APPOINTMENT:
        scope(
            _model(name),
            lambda cls: cls.appointment_id.in_(
                select(appointment.id).where(appointment.study_id.in_(ids))
            ),
        )
    form, version, consent = _model("ConsentForm"), _model("ConsentFormVersion"), _model("Consent")
    scope(
        version,
        lambda cls: cls.form_id.in_(select(form.id).where(form.study_id.in_(ids))),
    )
    # Parents as Core tables in the sub-selects (no joins): ORM adaptation of aliased
    # entities leaves plain tables alone.
    form_table: Any
    version_table: Any
    consent_table: Any
    form_table, version_table, consent_table = (
        model.__table__ if model is not None else None for model in (form, version, consent)
    )
    participant_table = Participant.__table__
    scope(
        _model("ConsentItem"),
        lambda cls: cls.version_id.in_(
            select(version_table.c.id).where(
                version_table.c.form_id.in_(
                    select(form_table.c.id).where(form_table.c.study_id.in_(ids))
                )
            )
        ),
    )
    scope(
        _model("ConsentAnswer"),
        lambda cls: cls.consent_id.in_(
            select(consent_table.c.id).where(
                consent_table.c.participant_id.in_(
                    select(participant_table.c.id).where(participant_table.c.study_id.in_(ids))
                )
            )
        ),
    )
    organisation, role = _model("Organisation"), _model("Role")
    scope(
        _model("OrganisationAccess"),
        lambda cls: cls.organisation_id.in_(
            select(organisation.id).where(organisation.study_id.in_(ids))
        ),
    )
    scope(
        _model("TopicGuide"),
        lambda cls: cls.role_id.in_(select(role.id).where(role.study_id.in_(ids))),
    )
    return tuple(options)


@event.listens_for(Session, "do_orm_execute")
def _only_member_studies(state: ORMExecuteState) -> None:
    """Registered once for every session (this module is imported once)."""
    if not state.is_select or state.execution_options.get("all_studies"):
        return
    user_id = _scoped_user_id()
    if user_id is None:
        return
    ids, is_administrator = _member_study_ids(state.session, user_id)
    criteria = _criteria(ids, is_administrator, len(Model.registry.mappers))
    state.statement = state.statement.options(*criteria)
