"""The home page: each panel the user's role gets, for the current study."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from fieldwork.core.studies import current_study
from fieldwork.home import services

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
def index():
    study = current_study()
    if study is None:
        return render_template("sampling/no_study.html")
    services.record_visit(current_user, study)
    zone = current_user.timezone
    # Each panel is its own template rendered with autoescaping; the page includes the HTML.
    # The context processors (navigation, the study list) run once for every panel, not once
    # per panel as render_template would: each costs queries.
    shared = {"user": current_user, "study": study, "zone": zone}
    current_app.update_template_context(shared)
    panels = [
        current_app.jinja_env.get_template(panel.template).render({**shared, **panel.context})
        for panel in services.panels_for(current_user, study)
    ]
    return render_template(
        "home/index.html",
        study=study,
        panels=panels,
        role=services.role_of(current_user),
        zone=zone,
    )
