"""Coordinators make, email and withdraw a participant's private booking links."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from fieldwork.accounts.access import coordinator_required
from fieldwork.core.time import now_utc
from fieldwork.sampling import services as sampling
from fieldwork.scheduling import links
from fieldwork.scheduling.errors import SchedulingError
from fieldwork.scheduling.forms import (
    BookingLinkForm,
)
from fieldwork.scheduling.links import booking_links_of, send_booking_link
from fieldwork.scheduling.models import AppointmentMode
from fieldwork.scheduling.views import blueprint, interviewer_or_error, people_choices

# --- Booking links ---------------------------------------------------------------------------


@blueprint.route("/participants/<int:participant_id>/booking-links", methods=["GET", "POST"])
@coordinator_required
def booking_links(participant_id: int):
    participant = sampling.get_participant(participant_id)
    if participant is None:
        abort(404)
    study = participant.study
    form = BookingLinkForm()
    form.interviewer_id.choices = people_choices()
    if request.method == "GET":
        form.interviewer_id.data = participant.interviewer_id
    new_url = None
    if form.validate_on_submit():
        interviewer = interviewer_or_error(form.interviewer_id)
        if interviewer is not None:
            try:
                _link, token = send_booking_link(
                    participant,
                    interviewer,
                    current_user,
                    lambda token: url_for("feeds.self_booking", token=token, _external=True),
                    mode=AppointmentMode(form.mode.data),
                    location=form.location.data or "",
                    video_link=form.video_link.data or "",
                    travel_minutes=form.travel_minutes.data or 0,
                    days=form.days.data,
                )
            except SchedulingError as error:
                form.interviewer_id.errors = [*form.interviewer_id.errors, str(error)]
            else:
                new_url = url_for("feeds.self_booking", token=token, _external=True)
                flash(f"Booking link emailed to {participant.email}.", "success")
                form = BookingLinkForm(formdata=None)
                form.interviewer_id.choices = people_choices()
    status = 422 if request.method == "POST" and new_url is None else 200
    return (
        render_template(
            "scheduling/booking_links.html",
            participant=participant,
            study=study,
            form=form,
            links=booking_links_of(participant),
            new_url=new_url,
            now=now_utc(),
        ),
        status,
    )


@blueprint.post("/participants/<int:participant_id>/booking-links/<int:link_id>/revoke")
@coordinator_required
def revoke_booking_link(participant_id: int, link_id: int):
    participant = sampling.get_participant(participant_id)
    if participant is None or links.revoke_booking_link(link_id, participant) is None:
        abort(404)
    flash("The booking link no longer works.", "success")
    return redirect(url_for("scheduling.booking_links", participant_id=participant_id))
