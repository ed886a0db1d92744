"""Signals this domain publishes, for domains that react to calendar answers."""

from blinker import Namespace

_signals = Namespace()

#: Sent after a participant's decline of an open appointment is recorded; the sender is the
#: Appointment, `reply` the CalendarReply (its `comment` says why). The appointment stays
#: booked: whoever listens decides what to do (e.g. a "to rebook" list).
participant_declined = _signals.signal("participant-declined")
