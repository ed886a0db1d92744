"""Migration 0017 marks each participant's latest contact attempt (latest time, then highest
id) on an installation that already has attempts, so the follow-ups list stays the same."""

import sqlalchemy as sa
from flask_migrate import upgrade

from fieldwork import create_app
from fieldwork.extensions import db
from tests.core.test_migrations import _fresh_database

#: (id, participant, attempted_at): participant 1's latest is 2, participant 2's two latest
#: share a time and the higher id wins, participant 3 has one attempt.
ATTEMPTS = [
    (1, 1, "2026-11-01 09:00:00"),
    (2, 1, "2026-11-03 09:00:00"),
    (3, 1, "2026-11-02 09:00:00"),
    (4, 2, "2026-11-05 09:00:00"),
    (5, 2, "2026-11-05 09:00:00"),
    (6, 3, "2026-10-01 09:00:00"),
]


def _without_foreign_keys(connection: sa.Connection) -> None:
    """The attempts are all this test needs; their participants' frames would be noise."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
    else:
        connection.exec_driver_sql("PRAGMA foreign_keys = OFF")


def test_existing_attempts_get_the_latest_mark_per_participant(tmp_path):
    config, drop = _fresh_database(tmp_path)
    app = create_app({"TESTING": True, **config})
    try:
        with app.app_context():
            upgrade(revision="0016")
            with db.engine.begin() as connection:
                _without_foreign_keys(connection)
                for attempt_id, participant_id, attempted_at in ATTEMPTS:
                    connection.execute(
                        sa.text(
                            "INSERT INTO contact_attempt (id, participant_id, attempted_at, "
                            "channel, disposition, note, next_action_on, created_at) VALUES "
                            "(:id, :participant, :at, 'telephone', 'no_answer', '', NULL, :at)"
                        ),
                        {"id": attempt_id, "participant": participant_id, "at": attempted_at},
                    )
            upgrade(revision="0017")
            with db.engine.connect() as connection:
                marked = connection.execute(
                    sa.text("SELECT id FROM contact_attempt WHERE is_latest ORDER BY id")
                ).scalars()
                assert list(marked) == [2, 5, 6]
            db.engine.dispose()
    finally:
        drop()
