"""Signals the scheduling domain publishes when an interview is booked, moved, cancelled or its
outcome recorded, for other domains to react to (recruitment moves the participant's status,
reminders plan, move or cancel their rows).

Each is sent with the Appointment as sender and `actor` (the User, or None for a participant's
own change through their link or the system), inside the change's transaction, after the
appointment is flushed and before the commit. Receivers write in that same session and never
commit: what they write is committed with the booking, and a receiver that raises rolls the
whole change back. A receiver refuses a change by raising a ValueError whose message is for
the user; the booking service passes it on as a SchedulingError.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A new interview was booked (or recorded after it took place: `already_took_place=True`).
appointment_booked = _signals.signal("appointment-booked")

#: The interview moved; `previous_starts_at` is when it was to start before.
appointment_moved = _signals.signal("appointment-moved")

#: The interview was cancelled; `is_participant_still_booked` says whether the participant
#: keeps another booked interview.
appointment_cancelled = _signals.signal("appointment-cancelled")

#: Held, no-show or cancelled late was recorded (appointment.status says which);
#: `is_participant_still_booked` as for a cancellation.
appointment_outcome_recorded = _signals.signal("appointment-outcome-recorded")
