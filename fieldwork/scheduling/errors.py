"""What a change to a booking can be refused with; every message is for the user."""

from __future__ import annotations


class SchedulingError(ValueError):
    """A change that cannot be made; the message is for the user."""


class ClashError(SchedulingError):
    """The interviewer or the participant is already booked at that time."""


class ConsentMissing(SchedulingError):
    """An interview cannot be recorded as held without consent to take part."""


class PastTimeError(SchedulingError):
    """A booking for a time already gone, not declared as an interview that took place."""


PAST_MESSAGE = (
    "That time is in the past. To record an interview that already took place, "
    "tick “Record an interview that already took place” (no invitations are sent)."
)


class NeedsConfirmation(SchedulingError):
    """The booking is allowed but unusual (outside windows, on a busy block): confirm it."""

    def __init__(self, warnings: list[str]):
        super().__init__(" ".join(warnings))
        self.warnings = warnings
