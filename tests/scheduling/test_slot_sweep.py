"""Free slots come from one sorted sweep over the busy intervals, not slot × interval checks."""

from __future__ import annotations

import datetime as dt
import functools
import random

from fieldwork.scheduling.availability import clear_spans


@functools.total_ordering
class CountedMoment:
    """A point in time that counts every comparison made with it (shared tally)."""

    tally = 0

    def __init__(self, minutes: int) -> None:
        self.minutes = minutes

    def __eq__(self, other: object) -> bool:
        CountedMoment.tally += 1
        return isinstance(other, CountedMoment) and self.minutes == other.minutes

    def __lt__(self, other: CountedMoment) -> bool:
        CountedMoment.tally += 1
        return self.minutes < other.minutes

    def __hash__(self) -> int:
        return hash(self.minutes)


def _month(slots: int, seed: int = 7) -> tuple[list, list]:
    """`slots` hour-long spans end to end and as many half-hour bookings, in random order,
    every other one overlapping a slot."""
    spans = [(CountedMoment(60 * n), CountedMoment(60 * n + 60)) for n in range(slots)]
    bookings = [
        (CountedMoment(60 * n + 45), CountedMoment(60 * n + 75)) for n in range(0, slots, 2)
    ] + [(CountedMoment(60 * n + 70), CountedMoment(60 * n + 100)) for n in range(1, slots, 2)]
    random.Random(seed).shuffle(bookings)
    return spans, bookings


def _comparisons(slots: int) -> int:
    spans, bookings = _month(slots)
    CountedMoment.tally = 0
    clear_spans(spans, bookings)
    return CountedMoment.tally


def test_the_work_grows_with_slots_plus_intervals_not_their_product():
    """Four times the slots and bookings cost about four times the comparisons (one sort, one
    pass), where checking each slot against every booking would cost sixteen times."""
    small, large = _comparisons(500), _comparisons(2000)
    assert large < 6 * small
    assert large < 2000 * 2000 / 50


def test_a_span_is_clear_only_of_intervals_it_does_not_touch():
    """Half-open intervals: a booking ending as a slot starts leaves it clear; one covering
    a whole run of slots takes each of them; unsorted intervals are sorted first."""

    def at(hour: float) -> dt.datetime:
        return dt.datetime(2026, 3, 23, tzinfo=dt.UTC) + dt.timedelta(hours=hour)

    spans = [(at(h), at(h + 1)) for h in range(9, 17)]
    busy = [(at(14), at(16.5)), (at(8), at(9)), (at(10.5), at(10.75))]
    assert clear_spans(spans, busy) == [True, False, True, True, True, False, False, False]
    assert clear_spans(spans, []) == [True] * 8
    assert clear_spans([], busy) == []
