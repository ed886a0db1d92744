"""The sample frame: studies, phases, districts, organisations, roles and participants."""

from __future__ import annotations

from flask import Flask, request, url_for
from flask_login import current_user

#: The main navigation: (endpoint, label, blueprint names and endpoint prefixes that light it up,
#: coordinators only?).
NAVIGATION = [
    ("sampling.home", "Overview", ("sampling.home",), False),
    (
        "sampling.participants",
        "Participants",
        (
            "sampling.participant",
            "sampling.new_participant",
            "sampling.edit_participant",
            "sampling.delete_participant",
        ),
        False,
    ),
    (
        "frame.organisations",
        "Organisations",
        (
            "frame.organisation",
            "frame.new_organisation",
            "frame.edit_organisation",
            "frame.delete_organisation",
        ),
        False,
    ),
    (
        "frame.districts",
        "Districts",
        (
            "frame.district",
            "frame.phase",
            "frame.new_district",
            "frame.edit_district",
            "frame.delete_district",
            "frame.new_phase",
            "frame.edit_phase",
            "frame.delete_phase",
        ),
        False,
    ),
    (
        "frame.roles",
        "Roles",
        ("frame.role", "frame.new_role", "frame.edit_role", "frame.delete_role"),
        False,
    ),
    (
        "frame.studies",
        "Studies",
        ("frame.stud", "frame.new_study", "frame.edit_study", "frame.delete_study"),
        True,
    ),
    ("imports.upload", "Import", ("imports.",), True),
    (
        "accounts.users",
        "Users",
        ("accounts.users", "accounts.new_user", "accounts.edit_user"),
        True,
    ),
]


def navigation() -> list[dict]:
    """The navigation items this user may use, the current one marked."""
    endpoint = request.endpoint or ""
    items = []
    for target, label, prefixes, coordinators_only in NAVIGATION:
        if coordinators_only and not current_user.is_coordinator:
            continue
        is_current = endpoint == target or any(endpoint.startswith(p) for p in prefixes)
        items.append({"href": url_for(target), "label": label, "current": is_current})
    return items


def init_app(app: Flask) -> None:
    from fieldwork.sampling import frame_views, import_cli, import_views, services, views

    app.register_blueprint(views.blueprint)
    app.register_blueprint(frame_views.blueprint)
    app.register_blueprint(import_views.blueprint)
    import_cli.init_app(app)

    @app.context_processor
    def study_context() -> dict:
        if not current_user or not current_user.is_authenticated:
            return {"nav_items": [], "studies": [], "current_study": None}
        return {
            "nav_items": navigation(),
            "studies": services.list_studies(),
            "current_study": services.current_study(),
        }
