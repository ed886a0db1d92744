"""The outbox tests use a real SMTP server on loopback, and scheduling's study for bookings."""

from tests.scheduling.conftest import clock, world  # noqa: F401 - fixtures, used by name
from tests.smtp_server import smtp_server  # noqa: F401 - a fixture, used by name
