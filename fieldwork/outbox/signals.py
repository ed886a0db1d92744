"""What the outbox tells others (a leaf module: blinker signals only, no domain imports)."""

from blinker import Namespace

_signals = Namespace()

#: Sent after a commit that left a message ready to send (queued, or put back by a retry).
#: Sender: the SQLAlchemy session that committed. Receivers run in the committing thread and
#: must return at once (the in-process scheduler wakes its sweep).
messages_ready = _signals.signal("messages-ready")
