"""The base of every domain's API blueprint, and what its views share: paging, lookups that
answer 404, and the mark of a deprecated path.

A domain writes `blueprint = ApiBlueprint("sampling_api", __name__)` in its `api.py`, declares
arguments and answers with its schemas (`@blueprint.arguments(...)`,
`@blueprint.response(200, ...)`), and registers it with `fieldwork.api.register(app, blueprint)`.
See /work/coord/api-toolkit.md and docs/api.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlencode

import flask_smorest
from flask import abort, request
from sqlalchemy import Select
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import IntegerConverter

from fieldwork.api.schemas import MAX_ID
from fieldwork.api.writes import FieldErrors, InvalidFields
from fieldwork.core.pagination import paginate

#: Where every API blueprint is mounted; the document's `servers` entry.
BASE_PATH = "/api/v1"

F = TypeVar("F", bound=Callable[..., Any])


class IdConverter(IntegerConverter):
    """`<id:name>` in a rule: a row id, 1 to MAX_ID. A larger number cannot name a row, so the
    route does not match and the answer is 404 (not an overflow in the database)."""

    def __init__(self, map, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's signature
        super().__init__(map, min=1, max=MAX_ID, **kwargs)


def id_parameter_schema(converter: IdConverter) -> dict[str, Any]:
    """How an `<id:...>` path parameter is described in the document."""
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


class ApiError(HTTPException):
    """An error answer with more than a message (e.g. a booking's `warnings`); the app's error
    handler puts `details` beside code and message."""

    def __init__(self, code: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


class ArgumentParser(FlaskParser):
    """Query arguments that do not fit answer 400 in the one error shape, naming the first bad
    argument: "per_page: must be a whole number from 1 to 200.". A request body that does not
    fit answers 400 naming every bad field at once (`writes.InvalidFields`), so a client can
    correct them all in one go."""

    DEFAULT_VALIDATION_STATUS = 400

    def handle_error(self, error, req, schema, *, error_status_code, error_headers) -> NoReturn:
        # webargs files messages under their location first: {"query": {"page": [...]}}.
        location, by_name = next(iter(error.normalized_messages().items()))
        if location == "json":
            raise InvalidFields(
                {
                    _field_name(name, messages): _first(messages)
                    for name, messages in by_name.items()
                }
            )
        name, messages = next(iter(sorted(by_name.items())))
        raise BadRequest(f"{_field_name(name, messages)}: {_first(messages)}")

    def _handle_invalid_json_error(self, error: Exception, req: Any, *args: Any, **kwargs: Any):
        """A body that is not JSON at all is a write's 400 like any other: its `fields` name
        the body (webargs' own answer has no `fields`, which the document promises)."""
        raise InvalidFields({"body": "The body is not valid JSON."})


def _field_name(name: str, messages: Any) -> str:
    """A nested field's innermost part: "rows.2.email"; a body that is no object: "body"."""
    if name == "_schema":
        return "body"
    while isinstance(messages, Mapping):
        inner, messages = next(iter(sorted(messages.items())))
        name = f"{name}.{inner}"
    return name


def _first(messages: Any) -> str:
    while isinstance(messages, Mapping):
        messages = next(iter(sorted(messages.items())))[1]
    return messages[0] if isinstance(messages, list) else str(messages)


class ApiBlueprint(flask_smorest.Blueprint):
    """A domain's API endpoints, mounted under BASE_PATH.

    Every operation is given an `operationId` (its view function's name in camelCase) and a
    documented 401, since every endpoint not marked public needs credentials.
    """

    ARGUMENTS_PARSER = ArgumentParser()

    def __init__(self, name: str, import_name: str, **kwargs: Any) -> None:
        kwargs.setdefault("url_prefix", BASE_PATH)
        super().__init__(name, import_name, **kwargs)

    def route(self, rule: str, *, parameters=None, tags=None, **options: Any) -> Callable[[F], F]:
        register = super().route(rule, parameters=parameters, tags=tags, **options)

        def decorator(func: F) -> F:
            view = self.doc(operationId=_camel_case(func.__name__))(func)
            if not getattr(func, "is_public", False):
                view = self.alt_response(401, response="UNAUTHORIZED")(view)
            if "<" in rule:
                view = self.alt_response(404, response="NOT_FOUND")(view)
            return register(view)

        return decorator

    def write_errors(
        self, *, invalid: str, conflict: str | None = None, unprocessable: bool = False
    ) -> Callable[[F], F]:
        """The errors a write documents: 400 with `error.fields` (`invalid` says when), 403
        (not a coordinator of the study, or a read-only token), and where they can happen 409
        (`conflict` says when) and 422."""

        def decorator(func: F) -> F:
            view = self.alt_response(400, schema=FieldErrors, description=invalid)(func)
            view = self.alt_response(403, response="FORBIDDEN")(view)
            if conflict:
                view = self.alt_response(409, response="CONFLICT", description=conflict)(view)
            if unprocessable:
                view = self.alt_response(422, response="UNPROCESSABLE_ENTITY")(view)
            return view

        return decorator

    @staticmethod
    def checks_first(check: Callable[..., object]) -> Callable[[F], F]:
        """Run `check(**path parameters)` before the body is read, so that someone who may not
        write here gets its 401/403/404 and learns nothing from a 400 about the body. Put it
        between `route` and `arguments`."""

        def decorator(func: F) -> F:
            @wraps(func)
            def view(*args: Any, **kwargs: Any) -> Any:
                check(**kwargs)
                return func(*args, **kwargs)

            return view  # type: ignore[return-value]

        return decorator

    def deprecated(self, func: F) -> F:
        """Marks an old path (kept for one release): `deprecated: true` in the document, and a
        `Deprecation: true` header on its answers. Its docstring names the path to use. Put it
        between `route` and the other decorators.
        """

        @wraps(func)
        def view(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs), {"Deprecation": "true"}

        return self.doc(deprecated=True)(view)


def _camel_case(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def not_found(what: str) -> NoReturn:
    abort(404, f"There is no {what} with that id.")


def found(thing: Any, what: str) -> Any:
    """`thing`, or 404 naming what was not found."""
    if thing is None:
        not_found(what)
    return thing


def page_url(number: int) -> str:
    """This request's absolute URL with another page number (the other arguments kept)."""
    args = request.args.to_dict()
    args["page"] = str(number)
    return request.base_url + "?" + urlencode(args)


def page_of(statement: Select, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """One page of `statement` in the page envelope, for a `Page` schema to dump; the page and
    its size come from the parsed `PageArguments`."""
    page = paginate(statement, arguments["page"], arguments["per_page"])
    return {
        "items": page.items,
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
        "next": page_url(page.page + 1) if page.has_next else None,
        "prev": page_url(page.page - 1) if page.has_prev else None,
    }
