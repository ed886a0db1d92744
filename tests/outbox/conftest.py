"""The outbox tests use a real SMTP server on loopback."""

from tests.smtp_server import smtp_server  # noqa: F401 - a fixture, used by name
