"""Sampling tests may use the loopback SMTP server (bulk sends are checked as received mail)."""

from tests.smtp_server import smtp_server  # noqa: F401 - a fixture, used by name
