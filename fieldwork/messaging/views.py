"""Message template pages: the list of every message the study sends, and one editor each."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from fieldwork.accounts.access import coordinator_required
from fieldwork.core.studies import require_study
from fieldwork.messaging import services
from fieldwork.messaging.forms import MessageTemplateForm
from fieldwork.messaging.kinds import KINDS

blueprint = Blueprint("messaging", __name__, url_prefix="/message-templates")


@blueprint.get("")
@coordinator_required
def templates():
    study = require_study()
    return render_template(
        "messaging/templates.html",
        study=study,
        kinds=list(KINDS.values()),
        stored=services.stored_templates(study),
    )


@blueprint.route("/<kind>", methods=["GET", "POST"])
@coordinator_required
def edit(kind: str):
    """Edit with "Preview" (renders the submitted text with sample values, saves nothing)
    and "Save" (checks the same way, then stores it)."""
    study = require_study()
    message_kind = KINDS.get(kind)
    if message_kind is None:
        abort(404)
    row = services.stored_template(study.id, kind)
    form = MessageTemplateForm()
    if request.method == "GET":
        form.subject.data = row.subject if row else message_kind.default_subject
        form.body.data = row.body if row else message_kind.default_body
    preview = None
    if form.validate_on_submit():
        try:
            if request.form.get("action") == "preview":
                preview = services.preview(kind, form.subject.data, form.body.data)
            else:
                services.save_template(study, kind, form.subject.data, form.body.data, current_user)
                flash(f"The {message_kind.label.lower()} text is saved.", "success")
                return redirect(url_for("messaging.templates"))
        except services.TemplateFieldProblem as problem:
            target = form.subject if problem.field == "subject" else form.body
            target.errors = [*target.errors, str(problem)]
    status = 422 if request.method == "POST" and form.errors else 200
    return render_template(
        "messaging/template_form.html",
        study=study,
        kind=message_kind,
        form=form,
        row=row,
        preview=preview,
    ), status


@blueprint.post("/<kind>/reset")
@coordinator_required
def reset(kind: str):
    study = require_study()
    message_kind = KINDS.get(kind)
    if message_kind is None:
        abort(404)
    if services.reset_template(study, kind, current_user):
        flash(f"The {message_kind.label.lower()} uses the default text again.", "success")
    else:
        flash(f"The {message_kind.label.lower()} already uses the default text.", "info")
    return redirect(url_for("messaging.templates"))
