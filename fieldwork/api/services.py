"""Query-string parsing of the domains not yet moved to the toolkit (whose argument schemas
in `fieldwork.api.schemas` replace it). Nothing here touches `request`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fieldwork.api.schemas import (
    DEFAULT_PER_PAGE,
    MAX_ID,
    MAX_PAGE,
    MAX_PER_PAGE,
)


class ParameterError(ValueError):
    """A query argument the API cannot use; answered as 400 naming the parameter.

    An empty value is an error too (`kind=` is not "any kind"): leave the parameter out.
    """

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name


# --- Parsing query arguments -----------------------------------------------------------------


def _integer(
    args: Mapping[str, str],
    name: str,
    *,
    minimum: int = 1,
    maximum: int = MAX_ID,
    default: int | None = None,
) -> int | None:
    raw = args.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not text.isascii() or not text.isdigit():
        raise ParameterError(name, f"must be a whole number from {minimum} to {maximum}.")
    value = int(text)
    if not minimum <= value <= maximum:
        raise ParameterError(name, f"must be a whole number from {minimum} to {maximum}.")
    return value


@dataclass(frozen=True)
class PageRequest:
    page: int
    per_page: int


def parse_page_request(args: Mapping[str, str]) -> PageRequest:
    """`page` (from 1) and `per_page` (1..200, default 50)."""
    return PageRequest(
        page=_integer(args, "page", maximum=MAX_PAGE, default=1),
        per_page=_integer(args, "per_page", maximum=MAX_PER_PAGE, default=DEFAULT_PER_PAGE),
    )
