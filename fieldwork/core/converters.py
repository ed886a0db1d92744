"""URL converters: a record id in a URL is a positive integer that fits the database.

Werkzeug's `int` accepts any number of digits, and an id of 2^31 then fails in PostgreSQL
(an `integer` column) or 2^63 in SQLite as a 500. Registered as `int`'s replacement, so every
`<int:...>` in every blueprint answers 404 for 0, 2^31 and beyond without reaching the
database; a non-number never matched `int` and stays a 404.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

#: The largest id any table can hold on every supported database (PostgreSQL `integer`).
MAX_ID = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    """`int` limited to 1 .. 2^31-1 unless a rule asks for other bounds."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID):  # noqa: A002 - Werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=False)


def init_app(app: Flask) -> None:
    """Must run before any blueprint is registered (rules bind their converters then)."""
    app.url_map.converters["int"] = DatabaseIdConverter
