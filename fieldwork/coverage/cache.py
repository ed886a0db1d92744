"""Coverage results kept between requests until the study changes or time moves them on.

An entry is keyed by (study, revision token, what was computed). The token comes from
`fieldwork.core.revisions`, changed in the transaction of every write to the study, so a worker
never serves figures older than the rows it can see: a change made through any worker or
process moves every worker to a new key. Entries also carry the moment they stop being true
whatever happens (the next booked interview starting, the next UTC day); after it they are
computed again. Only plain values are kept (numbers, strings, dates), never ORM objects.

The store belongs to the app (so to one database), lives in its process and is bounded (least
recently used out first). Entries of a study's older revisions are dropped as soon as a newer
one is stored, so nothing computed before an erasure (the gaps' candidates are people) stays
in memory after the next view. Values that are only counts may also be shared between workers
through the database (`coverage.shared`, the `shared` argument): then a busy dashboard costs
one computation per change, whatever the number of workers.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

from flask import current_app

from fieldwork.core.revisions import revision_of
from fieldwork.coverage import shared as shared_store

T = TypeVar("T")

#: How many results a process keeps at most.
MAX_ENTRIES = 256


@dataclass(frozen=True)
class Shared(Generic[T]):
    """How a value is kept in the store shared by every worker: its kind (a name unique per
    study) and its conversions to JSON-able counts and back."""

    kind: str
    dump: Callable[[T], object]
    load: Callable[[object], T]


#: (study, revision, what); (value, made at, holds until).
_Key = tuple[int, int, Hashable]
_Entry = tuple[object, dt.datetime, dt.datetime]


@dataclass
class _Store:
    entries: OrderedDict[tuple[int, int, Hashable], tuple[object, dt.datetime, dt.datetime]] = (
        field(default_factory=OrderedDict)
    )
    lock: threading.Lock = field(default_factory=threading.Lock)


def _store() -> _Store:
    return current_app.extensions.setdefault("coverage_cache", _Store())


def cached(
    study_id: int,
    key: Hashable,
    now: dt.datetime,
    compute: Callable[[], tuple[T, dt.datetime]],
    shared: Shared[T] | None = None,
) -> T:
    """The value `compute` gives for this study's current revision, computed at most once per
    revision while `now` lies between when it was made and when `compute` said it stops holding.

    The revision is read before computing, so a write that commits meanwhile can only make the
    entry newer than its key, never older. With `shared`, a value this process lacks is read
    from (or computed once for) every worker; nothing is kept while the transaction holds
    writes the revision does not show yet."""
    store = _store()
    revision = revision_of(study_id)
    full_key = (study_id, revision, key)
    with store.lock:
        entry = store.entries.get(full_key)
        # Only for moments inside [made, holds until): a clock set back is not served the future.
        if entry is not None and entry[1] <= now < entry[2]:
            store.entries.move_to_end(full_key)
            return cast(T, entry[0])
    if not shared_store.can_share():
        return compute()[0]
    if shared is None:
        value, holds_until = compute()
    else:
        value, holds_until = shared_store.shared(
            study_id, shared.kind, revision, now, compute, shared.dump, shared.load
        )
    with store.lock:
        for stale in [k for k in store.entries if k[0] == study_id and k[1] != revision]:
            del store.entries[stale]
        store.entries[full_key] = (value, now, holds_until)
        store.entries.move_to_end(full_key)
        while len(store.entries) > MAX_ENTRIES:
            store.entries.popitem(last=False)
    return value


def clear() -> None:
    """Forget every entry, here and in the shared store (for tests and benchmarks that time a
    computation)."""
    store = _store()
    with store.lock:
        store.entries.clear()
    shared_store.forget_all()
