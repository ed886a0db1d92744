"""The audit trail page: coordinators browse and filter every event of the study."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from fieldwork.accounts.access import coordinator_required
from fieldwork.audit import sentences, services
from fieldwork.audit.forms import EventFilterForm
from fieldwork.core.pagination import paginate, parse_page_number
from fieldwork.core.studies import require_study

blueprint = Blueprint("audit", __name__)


@blueprint.get("/audit")
@coordinator_required
def events():
    study = require_study()
    form = EventFilterForm(request.args)
    form.action.choices = [("", "Any action")] + sorted(
        ((a, sentences.action_label(a)) for a in services.actions_in(study)),
        key=lambda choice: choice[1],
    )
    form.actor.choices = [("", "Anyone")] + [(u.id, u.name) for u in services.actors_in(study)]
    filters = services.EventFilters()
    if form.validate():
        filters = services.EventFilters(
            action=form.action.data or "",
            reference=form.reference.data or "",
            actor_id=form.actor.data,
            date_from=form.date_from.data,
            date_to=form.date_to.data,
        )
    page = paginate(
        services.event_query(study, filters),
        parse_page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "audit/events.html",
        study=study,
        form=form,
        page=page,
        is_filtered=any(request.args.get(k) for k in form.data),
    ), (400 if form.errors else 200)
