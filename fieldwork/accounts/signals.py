"""Signals the accounts domain publishes (a leaf module: blinker signals only)."""

from blinker import Namespace

_signals = Namespace()

#: A set-password link was made for a user: an invitation to a study, or a reset they asked for.
#: Sender: the User. Keywords: `purpose` (PasswordLinkPurpose), `url` (the link, token included:
#: send it, never store it), `lifetime` (a timedelta), and for an invitation `study`, `role` and
#: `invited_by`. Sent inside the transaction that stores the link; the receiver that emails it
#: (fieldwork.messaging.account_mail) queues the message in that same transaction.
password_link_issued = _signals.signal("password-link-issued")
