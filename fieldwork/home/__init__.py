"""The home page: what each person needs first today, built from panels that domains register.

The page at `/` is a column of panels. A domain with something to say on it writes a panel
function; `fieldwork.home.panels` registers it (home sits above every domain, so it imports
them and they never import home)::

    # fieldwork/pipeline/panels.py
    def due_panel(user, study) -> tuple[str, dict] | None:
        due = due_steps(study, user, HOME_LIMIT)  # bounded queries: the rows it lists
        if not due.total:
            return None                           # nothing to show: the panel is left out
        return "pipeline/_home_due.html", {"due": due.items, "due_total": due.total}

    # fieldwork/home/panels.py, register_builtin_panels()
    home.register_panel(
        "pipeline_due",               # unique name; registering it again replaces it
        order=45,                     # smaller first; the built-in panels use 10..90 in tens
        roles=("coordinator", "interviewer"),  # who sees it (UserRole values)
        function=pipeline_panels.due_panel,
    )

The function gets the logged-in user and the current study and returns a `Panel` (a template
name and its context; a plain `(template, context)` tuple works too) or None. The template is
included inside the page's panel list and should render one `<section class="home-panel">`
with an `<h2>`; it sees its context plus `user`, `study` and `zone` (the viewer's IANA zone).
Keep a panel's queries constant whatever the size of the study: the home pages' query counts
are tested at two data sizes. An interviewer's panel must show only that interviewer's rows.

A panel registered with ``cached=True`` is rendered at most once a minute per viewer (user,
role, zone) and study revision (`fieldwork.core.revisions`): every write to the study's data
shows at the next view. Only a panel that reads nothing but revision-tracked rows may opt in;
one that reads bookkeeping (the outbox, the audit log) is rendered on every view.

The panels (interviews today and this week, outcomes overdue, to rebook, follow-ups due,
pipeline steps due, messages needing attention, changes since the last visit, an
interviewer's people to contact) are all registered in `fieldwork.home.panels`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask


@dataclass(frozen=True)
class Panel:
    """What a panel function returns: the template to include and the context it needs."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


PanelFunction = Callable[[Any, Any], "Panel | tuple[str, dict] | None"]


@dataclass(frozen=True)
class RegisteredPanel:
    name: str
    order: int
    roles: frozenset[str]
    function: PanelFunction
    #: Whether its HTML may be kept between views (`fieldwork.home.services.panels_html`): only
    #: when everything it reads changes the study's revision token (no BOOKKEEPING_TABLES).
    cached: bool = False


#: The registry: panel name -> registered panel. Module level, so a domain may register before
#: or after the home package's own `init_app` runs; names make registering twice harmless.
_PANELS: dict[str, RegisteredPanel] = {}

ROLES = ("coordinator", "interviewer")


def register_panel(
    name: str, order: int, roles: Iterable[str], function: PanelFunction, cached: bool = False
) -> RegisteredPanel:
    """Put a panel on the home page of users with one of `roles` (see the module docstring).
    `cached=True` lets its HTML be kept for a minute while the study's revision stays the same:
    only for a panel whose every read is of rows that change the revision token."""
    wanted = frozenset(roles)
    unknown = wanted - set(ROLES)
    if unknown or not wanted:
        raise ValueError(f"A panel's roles are some of {ROLES}, not {sorted(unknown) or 'none'}.")
    panel = RegisteredPanel(name=name, order=order, roles=wanted, function=function, cached=cached)
    _PANELS[name] = panel
    return panel


def unregister_panel(name: str) -> None:
    """Take a panel off the home page (tests use it to clean up)."""
    _PANELS.pop(name, None)


def registered_panels(role: str) -> list[RegisteredPanel]:
    """The panels for a role, in order (then by name, so the order is stable)."""
    return sorted(
        (panel for panel in _PANELS.values() if role in panel.roles),
        key=lambda panel: (panel.order, panel.name),
    )


def init_app(app: Flask) -> None:
    """Register the home page, the built-in panels and the visit tracking table."""
    from fieldwork.home import (
        models,  # noqa: F401  (the table joins the metadata)
        panels,
        views,
    )

    panels.register_builtin_panels()
    app.register_blueprint(views.blueprint)
