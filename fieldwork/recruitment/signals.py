"""Signals the recruitment domain publishes, for other domains to react to.

`participant_withdrawn` is sent by `consent.withdraw` inside the withdrawal's transaction, after
consents are withdrawn and the status is Withdrawn, as
`receiver(participant, data_handling=DataHandling, actor=User | None)`. Scheduling cancels the
person's future appointments; the pipeline marks done steps to undo when data is to be
destroyed. A receiver that raises rolls the withdrawal back; receivers never commit.

`participant_erased` is sent by `erasure.erase_personal_data` inside the erasure's
transaction, after the participant's own rows are blanked and before the commit. Every domain
that keeps a copy of a person's details (outbox, scheduling, reminders, audit, imports)
subscribes and removes its copy in that same transaction; a receiver that raises rolls the whole
erasure back, so an erasure is either complete or did not happen.

Receivers are called as `receiver(participant, person=ErasedPerson(...))`.
"""

from __future__ import annotations

from dataclasses import dataclass

from blinker import Namespace

_signals = Namespace()

#: Sent with the participant (already Withdrawn) as sender, `data_handling` and `actor`.
participant_withdrawn = _signals.signal("participant-withdrawn")

#: Sent with the participant (already blanked) as sender and `person=ErasedPerson`.
participant_erased = _signals.signal("participant-erased")


@dataclass(frozen=True)
class ErasedPerson:
    """What an erased participant's details were, so receivers can find every copy."""

    participant_id: int
    study_id: int
    #: The pseudonymous reference, kept after erasure.
    reference: str
    name: str
    #: Lower-case; "" when they had none.
    email: str
    phone: str
    #: Every personal value erased (name, email, phone, job title, notes, contact notes,
    #: consent signatures, withdrawal reasons, referral notes), longest first, none empty.
    values: tuple[str, ...]
