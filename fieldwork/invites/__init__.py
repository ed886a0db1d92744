"""Invites: iCalendar objects (ical.py, vtimezone.py) and the emails that carry them
(mail.py). Pure functions and templates; no blueprint, nothing to register."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing to register: invites are built by the scheduling services and sent by the
    outbox."""
