"""Pagination that costs two queries whatever the size of the list."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from fieldwork.extensions import db

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of results and what a pager needs to link to its neighbours."""

    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

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


def paginate(statement: Select, page: int, per_page: int) -> Page:
    """Run `statement` for one page plus one COUNT; eager loads belong on the statement."""
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    page = min(page, max(1, math.ceil((total or 0) / per_page)))
    items = list(
        db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).unique()
    )
    return Page(items=items, page=page, per_page=per_page, total=total or 0)
