"""Migration 0004 keeps an existing installation working: every user joins every study with
their role, and coordinators become administrators."""

import sqlalchemy as sa
from flask_migrate import upgrade

from fieldwork import create_app
from fieldwork.extensions import db
from tests.core.test_migrations import _fresh_database


def test_existing_users_become_members_of_every_study_in_their_role(tmp_path):
    config, drop = _fresh_database(tmp_path)
    app = create_app({"TESTING": True, **config})
    try:
        with app.app_context():
            upgrade(revision="0003")
            with db.engine.begin() as connection:
                for number, role in ((1, "coordinator"), (2, "interviewer")):
                    connection.execute(
                        sa.text(
                            'INSERT INTO "user" (id, email, name, role, password_hash, timezone, '
                            "is_enabled, created_at, session_version) VALUES (:id, :email, "
                            "'Name', :role, 'x', 'Europe/London', :yes, :now, 1)"
                        ),
                        {
                            "id": number,
                            "email": f"u{number}@example.org",
                            "role": role,
                            "yes": True,
                            "now": "2026-11-30 10:00:00",
                        },
                    )
                for number in (1, 2):
                    connection.execute(
                        sa.text(
                            "INSERT INTO study (id, slug, name, description, timezone, "
                            "organiser_name, organiser_email, interview_minutes, created_at) "
                            "VALUES (:id, :slug, 'S', '', 'Europe/London', 'O', "
                            "'o@example.org', 60, :now)"
                        ),
                        {"id": number, "slug": f"s{number}", "now": "2026-11-30 10:00:00"},
                    )
            upgrade(revision="0004")
            with db.engine.connect() as connection:
                memberships = connection.execute(
                    sa.text("SELECT user_id, study_id, role FROM membership ORDER BY 1, 2")
                ).all()
                administrators = connection.execute(
                    sa.text('SELECT id, is_administrator FROM "user" ORDER BY id')
                ).all()
            assert [tuple(row) for row in memberships] == [
                (1, 1, "coordinator"),
                (1, 2, "coordinator"),
                (2, 1, "interviewer"),
                (2, 2, "interviewer"),
            ]
            assert [(row[0], bool(row[1])) for row in administrators] == [(1, True), (2, False)]
            db.engine.dispose()
    finally:
        drop()
