"""Core tests that need the scheduling test study."""

from tests.scheduling.conftest import clock, world  # noqa: F401 - fixtures, used by name
