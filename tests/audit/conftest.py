"""The audit tests that need appointments use the scheduling world."""

from tests.scheduling.conftest import clock, world  # noqa: F401 - fixtures, used by name
