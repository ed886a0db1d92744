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

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, cast

from flask import g, has_request_context
from sqlalchemy import BindParameter, ColumnElement, Table, bindparam, event, exists, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapper, ORMExecuteState, Session
from sqlalchemy.orm.util import LoaderCriteriaOption

# Private to SQLAlchemy, and exactly what its own LoaderCriteriaOption does with a criterion
# (requirements.txt pins the version; tests/accounts and tests/security cover the guard).
from sqlalchemy.sql.annotation import _deep_annotate

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


#: (entity, the member-study ids parameter) -> the criterion limiting that entity's rows.
Criterion = Callable[[Any, BindParameter], ColumnElement[bool]]


class _MemberStudiesOnly(LoaderCriteriaOption):
    """One loader-criteria option for every guarded model, in place of one per model.

    `with_loader_criteria` takes one model (or a base class) and a lambda; with one per model,
    each of the ~35 options was coerced, keyed and its lambda's closure analysed again on every
    query, 3 ms of a 20 ms page. This option registers itself for every guarded mapper and
    builds each one's criterion when the statement compiles; its cache key is the shape (the
    administrator flag, the mappers) and one expanding parameter, the member study ids, so a
    compiled statement is reused for every user, with their ids bound.
    """

    __slots__ = ("_criteria",)
    #: The parent's cache key (shape, parameter, flags) says all that varies.
    inherit_cache = True
    _cache_key_traversal = LoaderCriteriaOption._traverse_internals

    def __init__(
        self, ids: tuple[int, ...], shape: tuple, criteria: dict[Mapper[Any], Criterion]
    ) -> None:
        # The parent's constructor wants one entity; set what it would, for a set of them.
        self.root_entity = shape  # type: ignore[assignment]  # compared in the cache key
        self.entity = None
        self.where_criteria = bindparam("member_study_ids", list(ids), expanding=True, unique=True)
        self._where_crit_orig = None
        self.deferred_where_criteria = False
        self.include_aliases = True  # joined eager loads and aliases are guarded too
        self.propagate_to_loaders = True  # and lazy loads from what this query loads
        self._criteria = criteria

    def _all_mappers(self) -> Iterator[Mapper[Any]]:
        yield from self._criteria

    def _resolve_where_criteria(self, ext_info: Any) -> ColumnElement[bool]:
        """The criterion for one entity (a class or an alias of it) as it appears in a query,
        marked as this option's as SQLAlchemy's own option marks it (so it is not applied
        again inside its own sub-selects)."""
        ids = cast(BindParameter, self.where_criteria)  # set so in __init__
        criterion = self._criteria[ext_info.mapper](ext_info.entity, ids)
        return _deep_annotate(
            criterion,
            {"for_loader_criteria": self},
            detect_subquery_cols=True,
            ind_cols_on_fromclause=True,
        )


def _by_parent(parent: Any, key: str) -> Criterion:
    """Rows whose `key` names a row of `parent` (an alias of a table with a study_id) in the
    member studies: EXISTS on that one parent row, by its primary key."""

    def criterion(entity: Any, ids: BindParameter) -> ColumnElement[bool]:
        return (
            exists()
            .where(parent.c.id == getattr(entity, key), parent.c.study_id.in_(ids))
            .correlate_except(parent)
        )

    return criterion


# Memoised on (member studies, administrator): building the criteria walks every mapper. The
# option is immutable, so one serves every query that has the same studies to see; the cache
# holds one entry per distinct set of memberships, bounded.
# Long by design: one criterion per way a table reaches its study (its own study_id, its
# participant, appointment, consent form, organisation or role), each written out here.
@lru_cache(maxsize=256)
def _criteria(ids: tuple[int, ...], is_administrator: bool, mapper_count: int) -> tuple:
    """The loader option for these member studies. `mapper_count` is part of the cache key: a
    model mapped later (a domain imported after the first query) gets criteria built afresh.

    Parents are reached through Core tables (aliased where the entity's own table could be in
    the query) in sub-selects and EXISTS on the one parent row (a primary-key lookup): an
    `IN (SELECT id ... every participant of the study)` was built in full by SQLite for every
    query, 100,000 rows to show one participant's contact attempts."""
    from fieldwork.accounts.models import Membership

    # By name, like every model here: the scoping sits in accounts, below the domains it guards.
    def table(name: str) -> Table | None:
        model = _model(name)
        return model.__table__ if model is not None else None

    criteria: dict[Mapper[Any], Criterion] = {}

    def scope(name: str, criterion: Criterion) -> None:
        model = _model(name)
        if model is not None:
            criteria[sa_inspect(model)] = criterion

    scope("Study", lambda entity, ids: entity.id.in_(ids))
    for mapper in Model.registry.mappers:
        model = mapper.class_
        if model is Membership or "study_id" not in mapper.columns:
            continue
        if mapper.columns["study_id"].nullable and is_administrator:
            criteria[mapper] = lambda entity, ids: or_(
                entity.study_id.in_(ids), entity.study_id.is_(None)
            )
        else:
            criteria[mapper] = lambda entity, ids: entity.study_id.in_(ids)

    participant, appointment, consent = table("Participant"), table("Appointment"), table("Consent")
    form, version = table("ConsentForm"), table("ConsentFormVersion")
    organisation, role = table("Organisation"), table("Role")
    assert participant is not None  # noqa: S101 (sampling is always there)
    scoped_participant = participant.alias("scoped_participant")

    for name in _BY_PARTICIPANT:
        scope(name, _by_parent(scoped_participant, "participant_id"))
    if appointment is not None:
        scoped_appointment = appointment.alias("scoped_appointment")
        by_appointment = _by_parent(scoped_appointment, "appointment_id")
        for name in _BY_APPOINTMENT:
            scope(name, by_appointment)
    if form is not None and version is not None and consent is not None:
        scope("ConsentFormVersion", _by_parent(form.alias("scoped_form"), "form_id"))
        scope(
            "ConsentItem",
            lambda entity, ids: entity.version_id.in_(
                select(version.c.id).where(
                    version.c.form_id.in_(select(form.c.id).where(form.c.study_id.in_(ids)))
                )
            ),
        )
        scoped_consent = consent.alias("scoped_consent")
        scope(
            "ConsentAnswer",
            lambda entity, ids: (
                exists()
                .where(
                    scoped_consent.c.id == entity.consent_id,
                    scoped_participant.c.id == scoped_consent.c.participant_id,
                    scoped_participant.c.study_id.in_(ids),
                )
                .correlate_except(scoped_consent, scoped_participant)
            ),
        )
    if organisation is not None:
        scope(
            "OrganisationAccess",
            _by_parent(organisation.alias("scoped_organisation"), "organisation_id"),
        )
    if role is not None:
        scope("TopicGuide", _by_parent(role.alias("scoped_role"), "role_id"))
    shape = ("member studies only", is_administrator, mapper_count)
    return (_MemberStudiesOnly(ids, shape, criteria),)


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
