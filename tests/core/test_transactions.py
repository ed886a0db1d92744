"""Services own their transactions through `fieldwork.core.transactions.transaction`."""

import pytest
from sqlalchemy import func, select

from fieldwork.core.transactions import after_commit, transaction
from fieldwork.extensions import db
from fieldwork.sampling.models import Study


def _add_study(slug: str) -> None:
    db.session.add(Study(slug=slug, name=slug.title()))


def _stored_slugs() -> set[str]:
    """The slugs that survive throwing away whatever the session has not committed."""
    db.session.rollback()
    return set(db.session.scalars(select(Study.slug)))


class Refused(Exception):
    """A rule a service enforces."""


def test_the_block_commits_when_it_ends_normally(app):
    with transaction():
        _add_study("kept")

    assert _stored_slugs() == {"kept"}


def test_an_error_rolls_the_block_back_and_reaches_the_caller(app):
    with pytest.raises(Refused), transaction():
        _add_study("lost")
        db.session.flush()
        raise Refused

    assert db.session.scalar(select(func.count(Study.id))) == 0
    assert _stored_slugs() == set()


def test_a_nested_block_joins_the_outer_one_and_does_not_commit_early(app):
    with pytest.raises(Refused), transaction():
        with transaction():
            _add_study("inner")
        raise Refused

    assert _stored_slugs() == set()


def test_an_error_in_a_nested_block_rolls_back_the_whole_unit(app):
    with pytest.raises(Refused), transaction():
        _add_study("outer")
        with transaction():
            _add_study("inner")
            raise Refused

    assert _stored_slugs() == set()


def test_a_failed_commit_leaves_a_clean_session(app):
    with transaction():
        _add_study("taken")

    with pytest.raises(Exception, match="(?i)unique"), transaction():
        _add_study("taken")

    with transaction():
        _add_study("next")
    assert _stored_slugs() == {"taken", "next"}


def test_it_decorates_a_service(app):
    @transaction()
    def open_study(slug: str) -> None:
        _add_study(slug)
        if slug == "refused":
            raise Refused

    open_study("open")
    with pytest.raises(Refused):
        open_study("refused")

    assert _stored_slugs() == {"open"}


def test_after_commit_work_waits_for_the_outermost_commit(app):
    calls: list[set[str]] = []
    with transaction():
        _add_study("erased")
        with transaction():
            after_commit(lambda: calls.append(set(db.session.scalars(select(Study.slug)))))
        assert calls == []

    assert calls == [{"erased"}]


def test_after_commit_work_is_dropped_on_rollback(app):
    calls: list[str] = []
    with pytest.raises(Refused), transaction():
        after_commit(lambda: calls.append("ran"))
        raise Refused
    with transaction():
        pass

    assert calls == []


def test_after_commit_outside_a_block_is_refused(app):
    with pytest.raises(RuntimeError):
        after_commit(lambda: None)
