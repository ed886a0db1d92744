"""The outbox page: every message with its state, and a resend for failed ones."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from fieldwork.accounts.access import coordinator_required
from fieldwork.core.pagination import parse_page_number
from fieldwork.core.studies import current_study
from fieldwork.core.time import now_utc
from fieldwork.core.web import SENT_AGAIN_NOTE, act_on_button
from fieldwork.outbox import listing, services
from fieldwork.outbox.forms import OutboxFilterForm, RetryForm

blueprint = Blueprint("outbox", __name__, url_prefix="/outbox")


@blueprint.get("")
@coordinator_required
def messages():
    form = OutboxFilterForm(request.args)
    filters = listing.OutboxFilters()
    if form.validate():
        filters = listing.OutboxFilters(state=form.state.data or "", kind=form.kind.data or "")
    study = current_study()
    page = listing.list_messages(
        filters,
        parse_page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
        study_id=study.id if study else None,
    )
    now = now_utc()
    return render_template(
        "outbox/messages.html",
        form=form,
        page=page,
        study=study,
        is_filtered=bool(filters.state or filters.kind),
        interrupted={row.id for row in page.items if services.is_interrupted(row, now)},
    )


@blueprint.get("/messages.csv")
@coordinator_required
def messages_csv():
    """The filtered outbox list, every page of it."""
    from fieldwork.audit.services import record_download
    from fieldwork.core.downloads import csv_download

    form = OutboxFilterForm(request.args)
    filters = listing.OutboxFilters()
    if form.validate():
        filters = listing.OutboxFilters(state=form.state.data or "", kind=form.kind.data or "")
    study = current_study()
    record_download(current_user, study.id if study else None, "the outbox list as CSV")
    return csv_download(
        f"outbox-{study.slug}" if study else "outbox",
        listing.OUTBOX_CSV_HEADER,
        listing.message_rows(filters, study.id if study else None),
    )


@blueprint.get("/<int:message_id>")
@coordinator_required
def message(message_id: int):
    row = listing.get_message(message_id)
    if row is None:
        abort(404, "There is no such message.")
    return render_template(
        "outbox/message.html",
        row=row,
        view=listing.describe(row),
        is_interrupted=services.is_interrupted(row),
        is_retryable=services.is_retryable(row),
        retry_form=RetryForm(),
    )


@blueprint.post("/<int:message_id>/retry")
@coordinator_required
def retry(message_id: int):
    act_on_button(
        RetryForm(),
        lambda: services.retry(message_id),
        services.OutboxError,
        f"The message is queued to be sent again. {SENT_AGAIN_NOTE}",
    )
    return redirect(url_for("outbox.message", message_id=message_id))
