"""Coverage results kept between requests until the study changes or time moves them on.

An entry is keyed by (study, revision token, what was computed). The token comes from
`fieldwork.core.revisions`, changed in the transaction of every write to the study, so a worker
never serves figures older than the rows it can see: a change made through any worker or
process moves every worker to a new key. Entries also carry the moment they stop being true
whatever happens (the next booked interview starting, the next UTC day); after it they are
computed again. Only plain values are kept (numbers, strings, dates), never ORM objects.

The store belongs to the app (so to one database), lives in its process and is bounded (least
recently used out first): a busy dashboard costs one computation per change per worker.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar, cast

from flask import current_app

from fieldwork.core.revisions import revision_of

T = TypeVar("T")

#: How many results a process keeps at most.
MAX_ENTRIES = 256


@dataclass
class _Store:
    entries: OrderedDict[Hashable, tuple[object, dt.datetime, dt.datetime]] = field(
        default_factory=OrderedDict
    )
    lock: threading.Lock = field(default_factory=threading.Lock)


def _store() -> _Store:
    return current_app.extensions.setdefault("coverage_cache", _Store())


def cached(
    study_id: int,
    key: Hashable,
    now: dt.datetime,
    compute: Callable[[], tuple[T, dt.datetime]],
) -> T:
    """The value `compute` gives for this study's current revision, computed at most once per
    revision while `now` lies between when it was made and when `compute` said it stops holding.

    The revision is read before computing, so a write that commits meanwhile can only make the
    entry newer than its key, never older."""
    store = _store()
    full_key = (study_id, revision_of(study_id), key)
    with store.lock:
        entry = store.entries.get(full_key)
        # Only for moments inside [made, holds until): a clock set back is not served the future.
        if entry is not None and entry[1] <= now < entry[2]:
            store.entries.move_to_end(full_key)
            return cast(T, entry[0])
    value, holds_until = compute()
    with store.lock:
        store.entries[full_key] = (value, now, holds_until)
        store.entries.move_to_end(full_key)
        while len(store.entries) > MAX_ENTRIES:
            store.entries.popitem(last=False)
    return value


def clear() -> None:
    """Forget every entry (for tests and benchmarks that time a computation)."""
    store = _store()
    with store.lock:
        store.entries.clear()
