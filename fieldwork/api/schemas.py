"""The API's shared shapes, as marshmallow schemas: one page envelope, one error, the paging
and search arguments, and the fields every domain's schemas are made of.

Response schemas derive from `Resource`: every field is always present and no other field is
allowed (`additionalProperties: false` in the document), so the contract tests fail on a field
answered but not described.
"""

from __future__ import annotations

import datetime as dt
import enum
import inspect
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from fieldwork.core.converters import MAX_ID

#: Page size when the request does not name one, and the most one may ask for.
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
#: Highest page number accepted (far beyond any real list; keeps OFFSET sane).
MAX_PAGE = 1_000_000
#: Longest search text accepted, as on the pages.
MAX_SEARCH_LENGTH = 200


# --- Fields ----------------------------------------------------------------------------------


class Id(fields.Integer):
    """A row's id in an answer."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(min=1), **kwargs)


class Text(fields.String):
    """Text that is never null in an answer: a missing value is the empty string."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str:
        return "" if value is None else str(value)


class UtcDateTime(fields.AwareDateTime):
    """A moment in UTC, ISO 8601 with a Z: 2026-03-23T09:00:00Z."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def RowId(**kwargs: Any) -> fields.Integer:  # noqa: N802 - reads as a field type
    """A row's id in a request body: a whole JSON number from 1 to MAX_ID. A larger number
    names no row, and the databases cannot even compare it (SQLite overflows, PostgreSQL's
    integer columns refuse it), so it is refused as invalid rather than looked up."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class WholeNumber(fields.Integer):
    """A query argument that is a whole number in ASCII digits within a range.

    Stricter than `int()`: "1.5", "-3", "" and other scripts' digits are refused, with a
    message that gives the range.
    """

    def __init__(self, minimum: int = 1, maximum: int = MAX_ID, **kwargs: Any) -> None:
        self.range = (minimum, maximum)
        super().__init__(validate=validate.Range(min=minimum, max=maximum), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        text = str(value).strip()
        minimum, maximum = self.range
        if not text.isascii() or not text.isdigit() or not minimum <= int(text) <= maximum:
            raise ma.ValidationError(f"must be a whole number from {minimum} to {maximum}.")
        return int(text)


class SearchText(fields.String):
    """Search text: trimmed, at most MAX_SEARCH_LENGTH characters, no NUL (PostgreSQL refuses
    NUL in text, and no name contains one)."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"maxLength": MAX_SEARCH_LENGTH, "pattern": "^[^\\u0000]*$"}
        super().__init__(load_default="", metadata={**metadata, **kwargs.pop("metadata", {})})

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = str(value).strip()
        if len(text) > MAX_SEARCH_LENGTH:
            raise ma.ValidationError(f"must be at most {MAX_SEARCH_LENGTH} characters.")
        if "\x00" in text:
            raise ma.ValidationError("must not contain NUL characters.")
        return text


class StrictBoolean(fields.Boolean):
    """JSON true or false only, as the document says: marshmallow's Boolean takes 0, 1 and
    "yes" too (and 0 == False in Python, so `truthy={True}` alone does not keep 0 out)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Choice(fields.Enum):
    """One of an enum's values, as the API spells them (the value, not the member's name)."""

    def __init__(self, enum_type: type[enum.Enum], **kwargs: Any) -> None:
        super().__init__(enum_type, by_value=True, **kwargs)
        allowed = ", ".join(str(member.value) for member in enum_type)
        self.error_messages["unknown"] = f"must be one of {allowed}."


class SortedList(fields.List):
    """A list answered in a fixed order (`key` as for `sorted`), whatever order it loaded in."""

    def __init__(self, inner: fields.Field | type[fields.Field], key: Any, **kwargs: Any) -> None:
        super().__init__(inner, **kwargs)
        self.sort_key = key

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        ordered = None if value is None else sorted(value, key=self.sort_key)
        return super()._serialize(ordered, attr, obj, **kwargs)


# --- Schemas ---------------------------------------------------------------------------------


class Described(ma.Schema):
    """A schema whose docstring describes it in the document (apispec reads Meta)."""

    #: True on the bases below, whose docstrings are for the reader of this module.
    is_base = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        doc = cls.__dict__.get("__doc__")
        if doc and not cls.__dict__.get("is_base"):
            # A Meta made at run time, set with setattr: mypy treats the `class Meta` that
            # marshmallow declares as a name no assignment may rebind.
            meta = type("Meta", (cls.Meta,), {"description": inspect.cleandoc(doc)})
            setattr(cls, "Meta", meta)  # noqa: B010


class Resource(Described):
    """Base of every answer's schema: all fields required, none other allowed."""

    is_base = True

    class Meta:
        unknown = ma.RAISE

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.required = True


class Arguments(Described):
    """Base of argument and request-body schemas: unknown names are ignored, as they always
    were."""

    is_base = True

    class Meta:
        unknown = ma.EXCLUDE


class PageArguments(Arguments):
    """`page` (from 1) and `per_page` (1 to MAX_PER_PAGE) of every list."""

    page = WholeNumber(
        maximum=MAX_PAGE, load_default=1, metadata={"description": "Page number, from 1."}
    )
    per_page = WholeNumber(
        maximum=MAX_PER_PAGE,
        load_default=DEFAULT_PER_PAGE,
        metadata={"description": f"Items per page, 1 to {MAX_PER_PAGE}."},
    )


class EmptyFiltersPageArguments(PageArguments):
    """Paging, and filters where an empty value means no filter (as some lists always took
    them; elsewhere an empty filter is an error)."""

    @ma.pre_load
    def drop_empty_filters(self, data: Any, **kwargs: Any) -> dict[str, Any]:
        paging = set(PageArguments._declared_fields)
        return {
            name: value
            for name, value in data.items()
            if name in paging or str(value).strip() != ""
        }


class SearchPageArguments(PageArguments):
    q = SearchText(
        metadata={"description": "Search text, case-insensitive, matched anywhere in the name."}
    )


class ErrorDetail(Resource):
    """What went wrong."""

    code = fields.Integer(metadata={"description": "The HTTP status code."})
    message = fields.String(metadata={"description": "What went wrong, for people."})


class Error(Resource):
    """Every error answer: 400 names the bad parameter, 401 asks for credentials."""

    error = fields.Nested(ErrorDetail)


class Page(Resource):
    """The envelope of every list."""

    items = fields.List(fields.Raw(), metadata={"description": "This page's resources."})
    page = fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": "This page's number (a page past the end answers the last)."},
    )
    per_page = fields.Integer(validate=validate.Range(min=1, max=MAX_PER_PAGE))
    total = fields.Integer(
        validate=validate.Range(min=0), metadata={"description": "Matches on all pages."}
    )
    pages = fields.Integer(validate=validate.Range(min=1))
    next = fields.String(
        allow_none=True,
        metadata={
            "format": "uri",
            "description": "Absolute URL of the next page, or null on the last.",
        },
    )
    prev = fields.String(
        allow_none=True,
        metadata={
            "format": "uri",
            "description": "Absolute URL of the previous page, or null on the first.",
        },
    )


def page_of(item_schema: type[ma.Schema]) -> type[Page]:
    """The page envelope whose items are `item_schema` (named e.g. StudyPage)."""
    name = item_schema.__name__
    return type(
        f"{name}Page",
        (Page,),
        {
            "items": fields.List(fields.Nested(item_schema)),
            "__doc__": f"One page of {name.lower()} resources.",
        },
    )
