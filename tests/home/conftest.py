"""Home page tests use the scheduling world: a study in Europe/London, a coordinator, two
interviewers with weekday windows, participants P1-004 (Kathryn's) and P1-005; the clock is
fixed at Friday 20 March 2026, noon UTC."""

from tests.scheduling.conftest import clock, world  # noqa: F401 - fixtures, used by name
