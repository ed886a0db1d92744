"""A study with quotas and interviews around week 2026-W16 (Monday 13 to Sunday 19 April); the
clock stands at Wednesday 22 April 2026 (week W17)."""

from __future__ import annotations

import datetime as dt

import pytest

from fieldwork.core.time import UTC
from fieldwork.coverage import quotas
from fieldwork.sampling import services as sampling
from fieldwork.scheduling.models import AppointmentStatus
from tests.pipeline.conftest import clock, make_interview, world  # noqa: F401  (fixtures)

W16 = dt.date(2026, 4, 13)
#: The end of W16: Monday 20 April 2026, 00:00 BST.
W16_END = dt.datetime(2026, 4, 19, 23, 0, tzinfo=UTC)


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 4, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def report_study(world) -> dict:  # noqa: F811
    """Targets: TPPM phase 1: 4, manager phase 1: 2, TPPM phase 2: 2. Held: two TPPM (2 and
    14 April), one manager (15 April); a no-show on 16 April; booked: one TPPM on 23 April."""
    study = world["study"]
    phases = {phase.number: phase for phase in sampling.phases_of(study)}
    quotas.save_grid(
        study,
        {
            (world["tppm"].id, phases[1].id): 4,
            (world["manager"].id, phases[1].id): 2,
            (world["tppm"].id, phases[2].id): 2,
        },
    )
    make_interview(world, at(2), reference="P1-T01")
    make_interview(world, at(14), reference="P1-T02")
    make_interview(world, at(15), reference="P1-M01", role=world["manager"])
    make_interview(world, at(16), reference="P1-T03", status=AppointmentStatus.NO_SHOW)
    make_interview(world, at(23), reference="P1-T04", status=AppointmentStatus.BOOKED)
    return world
