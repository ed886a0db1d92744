"""The study a request works on: the one its API URL names, else the one chosen in the header
(kept in the session), else the first.

Core holds the rule; sampling, which owns the Study model, registers how to find a study
(`register_study_lookup`). So the packages below sampling (accounts, audit, the outbox,
messaging) can ask for the current study without importing sampling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from flask import abort, g, has_request_context, request, session
from werkzeug.exceptions import BadRequest

if TYPE_CHECKING:
    from fieldwork.sampling.models import Study


class StudyFinder(Protocol):
    def __call__(self, *, study_id: int | None = None, slug: str | None = None) -> Study | None:
        """The study with this id or slug; with neither, the first study; None if none."""


@dataclass
class _Registry:
    find: StudyFinder | None = None


_registry = _Registry()

#: Longest slug a study can have; anything longer (or with NUL) names none.
MAX_SLUG_LENGTH = 60


def register_study_lookup(find: StudyFinder) -> None:
    """Sampling tells core how to find a study (at app start)."""
    _registry.find = find


def current_study() -> Study | None:
    """The study the logged-in person is working on: chosen in the header, else the first.
    Looked up once per request."""
    if "current_study" in g:
        return g.current_study
    find = _find()
    named = study_named_by_api_request()
    if named is not None:
        # The API chooses no study in a header: the one its URL names is worked on (the
        # membership guard hides a study the caller does not belong to, so it is None then).
        g.current_study = find(slug=named)
        return g.current_study
    study = None
    study_id = session.get("study_id")
    if isinstance(study_id, int):
        study = find(study_id=study_id)
    if study is None:
        study = find()
    g.current_study = study
    return study


def study_by_slug(slug: str) -> Study | None:
    """The study with this slug, through the registered lookup; None for anything that cannot
    be a slug (too long, or with NUL, which PostgreSQL refuses in text)."""
    if len(slug) > MAX_SLUG_LENGTH or "\x00" in slug:
        return None
    return _find()(slug=slug)


def study_or_404(slug: str) -> Study:
    """The study a path's slug names, or 404 (for the study-scoped endpoints of the packages
    below sampling)."""
    study = study_by_slug(slug)
    if study is None:
        abort(404, "There is no study with that slug.")
    return study


def study_of_query_argument(arguments: dict[str, Any]) -> Study | None:
    """Takes the deprecated lists' `?study=` out of parsed `arguments`: None for every
    study; 400 for an unknown slug."""
    slug = arguments.pop("study", None)
    if slug is None:
        return None
    study = study_by_slug(slug)
    if study is None:
        raise BadRequest("study: no study has that slug.")
    return study


def _find() -> StudyFinder:
    find = _registry.find
    if find is None:
        raise RuntimeError("No study lookup is registered (sampling's init_app registers it).")
    return find


def study_named_by_api_request() -> str | None:
    """The slug an API request names (`/studies/{slug}/...` or `?study=`), if it names one."""
    if not has_request_context() or not request.path.startswith("/api/"):
        return None
    named = (request.view_args or {}).get("slug") or request.args.get("study")
    return named if isinstance(named, str) and named else None


def require_study() -> Study:
    """The current study, or a 404 page that says there is none yet."""
    study = current_study()
    if study is None:
        abort(404, "There is no study yet. Create one, or load the demo with `flask demo`.")
    return study
