"""Pages for calendar replies: what to act on (declines, proposed times), every answer, and the
mail that could not be used. Coordinators only; the answers also show on each appointment."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from fieldwork.accounts.access import coordinator_required
from fieldwork.core.pagination import paginate, parse_page_number
from fieldwork.core.studies import require_study
from fieldwork.core.time import zone_label
from fieldwork.replies import mailbox, services
from fieldwork.scheduling.errors import NeedsConfirmation, SchedulingError

blueprint = Blueprint("replies", __name__)


@blueprint.get("/replies")
@coordinator_required
def replies():
    study = require_study()
    page = paginate(
        services.replies_query(study),
        parse_page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "replies/replies.html",
        study=study,
        to_rebook=services.first_rows(services.to_rebook_query(study)),
        proposals=services.first_rows(services.proposals_query(study)),
        page=page,
        zone=zone_label(study.timezone),
        is_configured=mailbox.is_configured(),
    )


@blueprint.get("/replies/unmatched")
@coordinator_required
def unmatched():
    study = require_study()
    page = paginate(
        services.unmatched_query(study),
        parse_page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "replies/unmatched.html", study=study, page=page, zone=zone_label(study.timezone)
    )


@blueprint.post("/replies/<int:reply_id>/move")
@coordinator_required
def move_to_proposed_time(reply_id: int):
    """One click: move the interview to the time a COUNTER proposed (updates are sent)."""
    study = require_study()
    reply = services.get_reply(reply_id, study)
    if reply is None:
        abort(404)
    appointment_id = reply.appointment_id
    back = url_for("scheduling.appointment", appointment_id=appointment_id)
    try:
        services.move_to_proposed_time(
            reply, current_user, confirmed=request.form.get("confirm") == "yes"
        )
    except NeedsConfirmation as warning:
        reply = services.get_reply(reply_id, study)  # the failed attempt rolled back
        if reply is None:
            abort(404)
        return (
            render_template(
                "replies/confirm_move.html",
                reply=reply,
                warnings=warning.warnings,
                zone=zone_label(reply.appointment.timezone),
            ),
            409,
        )
    except (services.ReplyError, SchedulingError) as error:
        flash(f"The interview was not moved: {error}", "error")
        return redirect(back)
    flash("Interview moved to the proposed time; updated invitations are on their way.", "success")
    return redirect(back)
