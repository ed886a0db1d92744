"""Coverage results kept between requests until the study changes or time moves them on.

The in-process store is `fieldwork.core.revision_cache` (keyed by study, revision token and
what was computed; entries of older revisions dropped when a newer one is stored, so nothing
computed before an erasure stays in memory after the next view). Entries also carry the moment
they stop being true whatever happens (the next booked interview starting, the next UTC day).
Values that are only counts may also be shared between workers through the database
(`coverage.shared`, the `shared` argument): then a busy dashboard costs one computation per
change, whatever the number of workers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from fieldwork.core import revision_cache
from fieldwork.coverage import shared as shared_store

T = TypeVar("T")


@dataclass(frozen=True)
class Shared(Generic[T]):
    """How a value is kept in the store shared by every worker: its kind (a name unique per
    study) and its conversions to JSON-able counts and back."""

    kind: str
    dump: Callable[[T], object]
    load: Callable[[object], T]


def cached(
    study_id: int,
    key: Hashable,
    now: dt.datetime,
    compute: Callable[[], tuple[T, dt.datetime]],
    shared: Shared[T] | None = None,
) -> T:
    """The value `compute` gives for this study's current revision (`revision_cache.cached`).
    With `shared`, a value this process lacks is read from (or computed once for) every worker;
    nothing is kept while the transaction holds writes the revision does not show yet."""

    def share(revision: int) -> tuple[T, dt.datetime]:
        assert shared is not None  # noqa: S101 (only passed with it)
        return shared_store.shared(
            study_id, shared.kind, revision, now, compute, shared.dump, shared.load
        )

    return revision_cache.cached(
        study_id,
        key,
        compute,
        now=now,
        share=share if shared is not None else None,
        may_keep=shared_store.can_share,
    )


def clear() -> None:
    """Forget every entry, here and in the shared store (for tests and benchmarks that time a
    computation)."""
    revision_cache.clear()
    shared_store.forget_all()
