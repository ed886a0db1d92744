"""Message-text tests use the scheduling world: a study, a coordinator, interviewers with
windows and participants, on a fixed clock."""

from tests.scheduling.conftest import clock, world  # noqa: F401 - fixtures, used by name
