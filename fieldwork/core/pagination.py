"""Pagination that costs two queries whatever the size of the list.

A list that needs no exact total counts at most COUNT_LIMIT rows past the page's start
(`paginate(..., bounded=True)`), so its COUNT costs the same at 20,000 rows as at
100,000; the pager then says "more than N" and still links to the next page."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, inspect, select

from fieldwork.extensions import db

T = TypeVar("T")

#: How many rows past a page's start a bounded count reads before it says "more than".
#: Twenty pages of fifty: past that a total helps nobody (they filter rather than page on),
#: and a count costs a probe per row it reads: 10,000 probes of the participants behind the
#: follow-ups took 40 ms on SQLite at 100,000 participants, 1,000 take a tenth of that.
COUNT_LIMIT = 1_000


@dataclass
class Page(Generic[T]):
    """One page of results and what a pager needs to link to its neighbours."""

    items: list[T]
    page: int
    per_page: int
    #: The number of rows, or when `is_total_exact` is false a number there are more than.
    total: int
    is_total_exact: bool = True

    @property
    def pages(self) -> int:
        """The number of pages, or when the total is not exact the pages known so far."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages or not self.is_total_exact

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)


def parse_page_number(raw: Any) -> int:
    """A page number from a query string; anything odd is page 1."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return number if 1 <= number <= 1_000_000 else 1


def paginate(statement: Select, page: int, per_page: int, *, bounded: bool = False) -> Page:
    """Run `statement` for one page plus one COUNT; eager loads belong on the statement.

    `bounded`: the COUNT reads no more than COUNT_LIMIT rows past the page's start, so the
    total is exact below the bound and "more than" above it."""
    unordered = statement.order_by(None)
    if bounded:
        count_limit = COUNT_LIMIT
        start = (page - 1) * per_page
        counted = _count(unordered.offset(start).limit(count_limit + 1))
        if counted or page == 1:
            items = list(db.session.scalars(statement.limit(per_page).offset(start)).unique())
            return Page(
                items=items,
                page=page,
                per_page=per_page,
                total=start + min(counted, count_limit),
                is_total_exact=counted <= count_limit,
            )
        # A page past the end (an old link): the exact count finds the last page, as below.
    total = _count(unordered)
    page = min(page, max(1, math.ceil(total / per_page)))
    items = list(
        db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).unique()
    )
    return Page(items=items, page=page, per_page=per_page, total=total)


def _count(statement: Select) -> int:
    """COUNT the statement's rows, with its execution options (e.g. `all_studies`)."""
    counting = select(func.count()).select_from(_narrowed(statement).subquery())
    return db.session.scalar(counting.execution_options(**statement.get_execution_options())) or 0


def _narrowed(statement: Select) -> Select:
    """The statement selecting only its entity's primary key, when that counts the same rows
    (one entity, no DISTINCT or GROUP BY): a COUNT over the key can be answered from an index
    alone, where one over every column reads each row (SQLite does not prune a subquery's
    unused columns)."""
    descriptions = statement.column_descriptions
    if len(descriptions) != 1 or statement._distinct or statement._group_by_clauses:
        return statement
    entity = descriptions[0].get("entity")
    entity_info = inspect(entity, raiseerr=False) if entity is not None else None
    if entity_info is None or descriptions[0].get("expr") is not entity:
        return statement
    mapper = entity_info.mapper
    keys = [getattr(entity, mapper.get_property_by_column(c).key) for c in mapper.primary_key]
    return statement.with_only_columns(*keys)
