"""The committed migrations build the schema the models describe, on SQLite and PostgreSQL."""

import os
import secrets

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from fieldwork import create_app
from fieldwork.extensions import db
from fieldwork.sampling.models import is_migrated_table


def _fresh_database(tmp_path):
    """Config for an empty database (a new schema on PostgreSQL) and a function to drop it."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.db"}, lambda: None
    schema = f"fw_migrations_{secrets.token_hex(4)}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop():
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
    }, drop


# SQLite cannot reflect an expression index (the participant search's, used on PostgreSQL
# only): SQLAlchemy and Alembic warn that they skip it there; PostgreSQL compares it.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrations_create_the_schema_of_the_models_and_downgrade_cleanly(tmp_path):
    config, drop = _fresh_database(tmp_path)
    app = create_app({"TESTING": True, **config})
    try:
        with app.app_context():
            upgrade()
            with db.engine.connect() as connection:
                # As `flask db migrate` compares: SQLite's search index is the migrations' own.
                context = MigrationContext.configure(
                    connection, opts={"include_name": is_migrated_table}
                )
                differences = compare_metadata(context, db.metadata)
            assert differences == []
            downgrade(revision="base")
            assert "participant" not in sa.inspect(db.engine).get_table_names()
            db.engine.dispose()
    finally:
        drop()
