"""What `/healthz` reports: whether the database answers, and the state of every check a domain
registered (the scheduler registers one). A failing check is reported, never raised."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import text

from fieldwork.extensions import db

#: app.extensions key: name -> callable returning a JSON-able dict for /healthz.
HEALTH_CHECKS = "fieldwork.health_checks"


def register_health_check(app: Flask, name: str, check: Callable[[], dict]) -> None:
    """Add a section to /healthz; `check()` runs inside the request (a query or two at most)
    and returns a dict; its "problems" (sentences) are what anonymous callers see."""
    app.extensions.setdefault(HEALTH_CHECKS, {})[name] = check


def health_report() -> tuple[bool, list[str], dict[str, Any]]:
    """(does the database answer, the problems anyone may see, the details behind them). The
    registered checks run only when the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
        database = {"ok": True, "dialect": db.engine.dialect.name}
    except Exception as error:  # the health check reports, it does not raise
        db.session.rollback()
        database = {"ok": False, "error": error.__class__.__name__}
    problems: list[str] = [] if database["ok"] else ["database: does not answer"]
    details: dict[str, Any] = {"database": database}
    if not database["ok"]:
        return False, problems, details
    for name, check in current_app.extensions.get(HEALTH_CHECKS, {}).items():
        try:
            details[name] = check()
        except Exception as error:  # the health check reports, it does not raise
            db.session.rollback()
            details[name] = {"ok": False, "error": error.__class__.__name__}
            problems.append(f"{name}: its check failed")
            continue
        problems.extend(f"{name}: {problem}" for problem in details[name].get("problems", []))
    return True, problems, details
