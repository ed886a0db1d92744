"""The participant search reads an index on both databases (PostgreSQL's trigram index, SQLite's
FTS5 trigram table) and finds the same people as a plain "contains" test of each searched
column, whatever path changed the rows: a form save, a bulk insert, an update, a delete."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from fieldwork import create_app
from fieldwork.extensions import db
from fieldwork.recruitment.erasure import erase_personal_data
from fieldwork.sampling import services
from fieldwork.sampling.models import Participant, Study
from tests.core.test_migrations import _fresh_database
from tests.factories import make_frame, make_participant, make_user


def _found(study, text: str) -> list[str]:
    filters = services.ParticipantFilters(search=text)
    return [p.reference for p in db.session.scalars(services.participant_query(study, filters))]


def _by_hand(study, text: str) -> list[str]:
    """The references a plain substring test finds, letter case ignored, in reference order."""
    people = db.session.scalars(
        sa.select(Participant).where(Participant.study_id == study.id)
    ).all()
    needle = text.strip().lower()
    return sorted(
        p.reference
        for p in people
        if any(
            needle in (value or "").lower() for value in (p.name, p.email, p.reference, p.job_title)
        )
    )


@pytest.fixture
def frame(app):
    frame = make_frame()
    make_user("coordinator")
    return frame


def _add(frame, reference: str, **fields) -> Participant:
    return make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        reference=reference,
        **fields,
    )


QUERIES = [
    "smith",
    "SMITH",
    "ali",
    "mit",
    "ith",
    "al",
    "a",
    "o'b",
    'say "hi"',
    "zoë",
    "ZOË",
    "p1-0",
    "example.org",
    "adviser",
    "x_y",
    "50%",
    "no such person",
    "h ",
    " smi",
]


def test_search_finds_what_a_substring_test_of_each_column_finds(frame):
    """Three characters and more go through the index; shorter ones test each column; both
    find exactly the people whose name, email, reference or job title contains the text."""
    _add(frame, "P1-001", name="Alex Smith", email="alex@example.org", job_title="Adviser")
    _add(frame, "P1-002", name="Zoë O'Brien", email="zob@example.org", job_title='Say "hi" lead')
    _add(frame, "P1-003", name="Sam Smithers", email="x_y@example.net", job_title="50% manager")
    _add(frame, "P1-004", name="Ali Khan", email="", job_title="")
    for text in QUERIES:
        assert _found(frame["study"], text) == _by_hand(frame["study"], text), text


def test_a_match_never_spans_two_columns(frame):
    """The columns are searched one by one: the end of a name and the start of the email
    together are no match."""
    _add(frame, "P1-001", name="Alex Smith", email="jones@example.org")
    assert _found(frame["study"], "smithjones") == []
    assert _found(frame["study"], "smith jones") == []


def test_search_follows_bulk_inserts_updates_and_deletes(frame):
    """Rows inserted in bulk (as the import does), renamed, erased or deleted are found or no
    longer found at once, in the same transaction's statements."""
    study = frame["study"]
    db.session.execute(
        sa.insert(Participant),
        [
            {
                "study_id": study.id,
                "reference": f"P1-{index:03d}",
                "organisation_id": frame["jcp"].id,
                "role_id": frame["tppm"].id,
                "district_id": frame["north"].id,
                "name": f"Bulk Person {index}",
                "email": f"bulk{index}@example.org",
                "status": "identified",
            }
            for index in range(1, 31)
        ],
    )
    db.session.commit()
    assert len(_found(study, "bulk person")) == 30
    renamed = db.session.scalar(sa.select(Participant).where(Participant.reference == "P1-007"))
    renamed.name = "Renée Renamed"
    renamed.status = "approached"
    db.session.commit()
    assert _found(study, "renée") == ["P1-007"]
    assert "P1-007" not in _found(study, "bulk person")
    assert _found(study, "bulk7@") == ["P1-007"]  # the email did not change
    db.session.execute(sa.delete(Participant).where(Participant.reference == "P1-012"))
    db.session.execute(
        sa.update(Participant)
        .where(Participant.reference == "P1-013")
        .values(name=Participant.ERASED_NAME, email="")
    )
    db.session.commit()
    assert _found(study, "bulk person 12") == []
    assert _found(study, "bulk person 13") == []
    assert _found(study, "bulk13@") == []
    assert len(_found(study, "bulk person")) == 27


def test_a_search_of_one_study_never_shows_anothers_people(frame):
    other = make_frame()
    _add(frame, "P1-001", name="Alex Smith")
    make_participant(
        other["study"],
        district=other["north"],
        organisation=other["jcp"],
        role=other["tppm"],
        reference="P1-001",
        name="Alex Smithson",
    )
    assert _found(frame["study"], "smith") == ["P1-001"]
    assert [
        p.name
        for p in db.session.scalars(
            services.participant_query(other["study"], services.ParticipantFilters(search="smith"))
        )
    ] == ["Alex Smithson"]


def _insert_participant(connection: sa.Connection, number: int, name: str) -> None:
    """A participant row as it stood at revision 0019, its frame left out (no foreign keys)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
    else:
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
    connection.execute(
        sa.text(
            "INSERT INTO participant (id, study_id, reference, organisation_id, role_id, "
            "district_id, name, job_title, email, phone, timezone, notes, status, created_at, "
            "updated_at) VALUES (:id, 1, :reference, 1, 1, 1, :name, '', '', '', '', '', "
            "'identified', '2026-11-01 09:00:00', '2026-11-01 09:00:00')"
        ),
        {"id": number, "reference": f"P1-{number:03d}", "name": name},
    )


def test_the_migrations_index_the_participants_already_there_and_keep_the_index(tmp_path):
    """On SQLite, migration 0020 indexes the rows a database already holds, and at the head
    revision the triggers keep the index in step (a later migration that rebuilt the
    participant table would lose them: this fails then). PostgreSQL reads its trigram index."""
    config, drop = _fresh_database(tmp_path)
    app = create_app({"TESTING": True, **config})
    try:
        with app.app_context():
            upgrade(revision="0019")
            with db.engine.begin() as connection:
                _insert_participant(connection, 1, "Alex Smith")
            upgrade()
            with db.engine.begin() as connection:
                _insert_participant(connection, 2, "Sam Smithers")
            study = Study(id=1)
            statement = services.participant_query(study, services.ParticipantFilters("smith"))
            found = db.session.scalars(statement.with_only_columns(Participant.reference)).all()
            assert found == ["P1-001", "P1-002"]
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()


def _index_blocks(connection: sa.Connection, table: str) -> list[bytes]:
    """The index's segment pages (ids past 10: the header and structure records are not)."""
    return list(
        connection.exec_driver_sql(f"SELECT block FROM {table}_data WHERE id > 10 ORDER BY id")
        .scalars()
        .all()
    )


def test_after_an_erasure_sqlites_index_holds_nothing_of_the_old_text(frame):
    """FTS5 keeps a changed row's old terms and positions in older segments until they merge;
    after an erasure the index is merged, so it is the index built afresh from the rows as
    they now are, page for page (the erased name and email could be read back otherwise)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's FTS5 index; PostgreSQL's trigram index is not this table")
    people = [
        _add(frame, f"P1-{n:03d}", name=f"Person {n} Smith", email=f"p{n}@example.org")
        for n in range(1, 40)
    ]
    study_id = frame["study"].id
    erase_personal_data(people[10], None)
    db.session.remove()
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE VIRTUAL TABLE afresh USING fts5(name, email, reference, job_title, "
            "content='participant', content_rowid='id', tokenize='trigram')"
        )
        connection.exec_driver_sql("INSERT INTO afresh(afresh) VALUES ('rebuild')")
    with db.engine.begin() as connection:
        assert _index_blocks(connection, "participant_search") == _index_blocks(
            connection, "afresh"
        )
        connection.exec_driver_sql("DROP TABLE afresh")
    assert _found(db.session.get(Study, study_id), "person 11 smith") == []
