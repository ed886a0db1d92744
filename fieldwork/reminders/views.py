"""The reminder pages: the study's settings (with a preview), the list of reminders (missed
ones first in view, with what to do), and the one-click resend."""

from __future__ import annotations

from typing import TypeGuard

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from fieldwork.accounts.access import coordinator_required
from fieldwork.core.pagination import parse_page_number
from fieldwork.core.studies import current_study
from fieldwork.core.time import now_utc
from fieldwork.core.web import SENT_AGAIN_NOTE, act_on_button
from fieldwork.messaging import templating
from fieldwork.outbox.services import is_interrupted
from fieldwork.reminders import services
from fieldwork.reminders import settings as reminder_settings
from fieldwork.reminders.forms import ReminderFilterForm, ReminderSettingsForm, ResendForm

blueprint = Blueprint("reminders", __name__, url_prefix="/reminders")


def _require_study():
    study = current_study()
    if study is None:
        abort(404, "There is no study yet. Create one, or load the demo with `flask demo`.")
    return study


@blueprint.get("")
@coordinator_required
def reminders():
    study = _require_study()
    form = ReminderFilterForm(request.args)
    filters = services.ReminderFilters()
    if form.validate():
        filters = services.ReminderFilters(state=form.state.data or "")
    page = services.list_reminders(
        filters,
        parse_page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
        study.id,
    )
    now = now_utc()
    return render_template(
        "reminders/reminders.html",
        study=study,
        form=form,
        page=page,
        is_filtered=bool(filters.state),
        attention=services.attention(study.id),
        resendable={r.id for r in page.items if services.is_resendable(r, now)},
        interrupted={
            r.id
            for r in page.items
            if r.outbox_message is not None and is_interrupted(r.outbox_message, now)
        },
        resend_form=ResendForm(),
    )


@blueprint.post("/<int:reminder_id>/resend")
@coordinator_required
def resend(reminder_id: int):
    act_on_button(
        ResendForm(),
        lambda: services.resend(reminder_id),
        services.ReminderError,
        f"The reminder is queued to be sent again. {SENT_AGAIN_NOTE}",
    )
    next_url = request.form.get("next")
    return redirect(next_url if _is_local(next_url) else url_for("reminders.reminders"))


def _is_local(target: str | None) -> TypeGuard[str]:
    """True for a path within the reminders pages, so the form cannot send people elsewhere."""
    return target is not None and target.startswith("/reminders") and "//" not in target


@blueprint.route("/settings", methods=["GET", "POST"])
@coordinator_required
def settings():
    study = _require_study()
    form = ReminderSettingsForm()
    previews = []
    if request.method == "GET":
        form.fill(reminder_settings.settings_for(study.id))
    else:
        is_valid = form.validate_on_submit()
        values = form.values()
        # Render-time problems (a misspelt variable) are checked even when another field is
        # wrong, so every problem shows at once; fields with a syntax error are skipped.
        for name, message in reminder_settings.template_problems(values, study).items():
            if not getattr(form, name).errors:
                getattr(form, name).errors.append(message)
        if request.form.get("action") == "preview":
            previews = reminder_settings.preview(study, values)
        elif is_valid and not form.errors:
            reminder_settings.save_settings(study, values, current_user)
            flash(
                "Reminder settings saved. New bookings use them; pending reminders use the "
                "new texts.",
                "success",
            )
            return redirect(url_for("reminders.settings"))
    return render_template(
        "reminders/settings.html",
        study=study,
        form=form,
        previews=previews,
        variables=templating.VARIABLES,
    ), (422 if form.errors else 200)
