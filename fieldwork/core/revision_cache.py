"""Values computed from a study's rows, kept in this process until the study changes.

An entry is keyed by (study, revision token, what was computed). The token comes from
`fieldwork.core.revisions`, changed in the transaction of every write to the study, so a worker
never serves a value older than the rows it can see: a change made through any worker or
process moves every worker to a new key. An entry may also carry the moment it stops being true
whatever happens (coverage's next interview starting, the next UTC day); after it the value is
computed again. Only plain values are kept (numbers, strings, dates), never ORM objects.

The store belongs to the app (so to one database), lives in its process and is bounded (least
recently used out first). Entries of a study's older revisions are dropped as soon as a newer
one is stored, so nothing computed before an erasure stays in memory after the next view.
Coverage (`coverage.cache`) adds a store shared by every worker on top of this one.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar, cast

from flask import current_app

from fieldwork.core.revisions import has_unrecorded_writes, revision_of
from fieldwork.extensions import db

T = TypeVar("T")

#: How many values a process keeps at most.
MAX_ENTRIES = 256
#: The app.extensions key of the store.
EXTENSION = "revision_cache"
#: "Holds until the study changes", for values no clock makes stale.
FOREVER = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass
class _Store:
    #: (study, revision, what) -> (value, made at, holds until).
    entries: OrderedDict[tuple[int, int, Hashable], tuple[object, dt.datetime, dt.datetime]] = (
        field(default_factory=OrderedDict)
    )
    lock: threading.Lock = field(default_factory=threading.Lock)


def _store() -> _Store:
    return current_app.extensions.setdefault(EXTENSION, _Store())


def can_keep() -> bool:
    """Whether values read in this transaction may be kept: not while it holds writes that the
    study's token does not show yet (other workers cannot see those rows)."""
    return not has_unrecorded_writes(db.session())


def cached(
    study_id: int,
    key: Hashable,
    compute: Callable[[], tuple[T, dt.datetime]],
    *,
    now: dt.datetime,
    share: Callable[[int], tuple[T, dt.datetime]] | None = None,
    may_keep: Callable[[], bool] = can_keep,
) -> T:
    """The value `compute` gives for this study's current revision, computed at most once per
    revision while `now` lies between when it was made and when `compute` said it stops holding
    (the second item it returns; `FOREVER` for values only a write changes).

    The revision is read before computing, so a write that commits meanwhile can only make the
    entry newer than its key, never older. `share(revision)`, when given, is asked instead of
    `compute` for a value this process lacks (a store shared between workers)."""
    store = _store()
    revision = revision_of(study_id)
    full_key = (study_id, revision, key)
    with store.lock:
        entry = store.entries.get(full_key)
        # Only for moments inside [made, holds until): a clock set back is not served the future.
        if entry is not None and entry[1] <= now < entry[2]:
            store.entries.move_to_end(full_key)
            return cast(T, entry[0])
    if not may_keep():
        return compute()[0]
    value, holds_until = share(revision) if share is not None else compute()
    with store.lock:
        for stale in [k for k in store.entries if k[0] == study_id and k[1] != revision]:
            del store.entries[stale]
        store.entries[full_key] = (value, now, holds_until)
        store.entries.move_to_end(full_key)
        while len(store.entries) > MAX_ENTRIES:
            store.entries.popitem(last=False)
    return value


def clear() -> None:
    """Forget every value kept by this process."""
    store = _store()
    with store.lock:
        store.entries.clear()
