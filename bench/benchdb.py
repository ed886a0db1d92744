"""An empty database for one benchmark run: a temporary SQLite file, or a schema of its own on
a PostgreSQL server (dropped afterwards), so runs never meet each other's rows."""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass, field

import sqlalchemy as sa


@dataclass
class FreshDatabase:
    #: SQLALCHEMY_DATABASE_URI and SQLALCHEMY_ENGINE_OPTIONS for create_app.
    config: dict = field(default_factory=dict)
    #: The PostgreSQL schema to drop at the end, if any.
    schema: str | None = None

    @classmethod
    def create(cls, database_url: str | None) -> FreshDatabase:
        if not database_url:
            folder = tempfile.mkdtemp(prefix="fieldwork-bench-")
            url = f"sqlite:///{os.path.join(folder, 'bench.sqlite')}"
            return cls({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": {}})
        url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        schema = f"fw_bench_{secrets.token_hex(4)}"
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        options = {"connect_args": {"options": f"-csearch_path={schema}"}}
        return cls({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options}, schema)

    def drop(self) -> None:
        """Drop the PostgreSQL schema (a SQLite file stays in its temporary folder)."""
        if not self.schema:
            return
        engine = sa.create_engine(self.config["SQLALCHEMY_DATABASE_URI"])
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        engine.dispose()
