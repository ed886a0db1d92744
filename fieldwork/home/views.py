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
    # per panel as render_template would: each costs queries. They run only if some panel is
    # rendered at all (cached panels are not, until the study changes or the minute turns).
    shared: dict = {}

    def render(panel: services.RenderedPanel) -> str:
        if not shared:
            shared.update(user=current_user, study=study, zone=zone)
            current_app.update_template_context(shared)
        template = current_app.jinja_env.get_template(panel.template)
        return template.render({**shared, **panel.context})

    panels = services.panels_html(current_user, study, render)
    return render_template(
        "home/index.html",
        study=study,
        panels=panels,
        role=services.role_of(current_user),
        zone=zone,
    )
