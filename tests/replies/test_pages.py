"""The replies pages and the job's place in the scheduler, on the demo study."""

from __future__ import annotations

from fieldwork.extensions import db
from fieldwork.reminders.scheduler import ReminderScheduler
from fieldwork.replies import MAILBOX_JOB, services
from fieldwork.replies.models import ReplyAnswer
from fieldwork.sampling.models import Study
from tests.demo_urls import COORDINATOR, INTERVIEWER
from tests.factories import make_study


def _demo(app):
    from fieldwork.demo import load_demo_study

    return load_demo_study()


def test_the_demo_has_an_acceptance_a_decline_to_rebook_and_a_proposed_time(app, client):
    """The demo's answers go through the real reading path and fill every list of the page."""
    study = _demo(app)
    to_rebook = db.session.scalars(services.to_rebook_query(study)).unique().all()
    proposals = db.session.scalars(services.proposals_query(study)).unique().all()
    assert [r.answer for r in to_rebook] == [ReplyAnswer.DECLINED]
    assert len(proposals) == 1
    client.post("/login", data={"email": COORDINATOR.email, "password": COORDINATOR.password})
    page = client.get("/replies")
    assert page.status_code == 200
    assert "Sorry, I am at a conference that day." in page.text
    assert "Move to this time" in page.text
    assert client.get("/replies/unmatched").status_code == 200


def test_interviewers_are_refused_the_replies_pages(app, client):
    _demo(app)
    client.post("/login", data={"email": INTERVIEWER.email, "password": INTERVIEWER.password})
    assert client.get("/replies").status_code == 403
    assert client.get("/replies/unmatched").status_code == 403


def test_a_reply_of_another_study_is_not_found_from_this_one(app, client):
    study = _demo(app)
    reply = db.session.scalars(services.replies_query(study)).first()
    other = make_study(name="Another study")
    assert services.get_reply(reply.id, other) is None
    assert services.get_reply(reply.id, db.session.get(Study, study.id)) is not None


def test_the_page_costs_the_same_number_of_queries_with_more_answers(app, client, count_queries):
    from tests.replies.mail import reply_email

    study = _demo(app)
    client.post("/login", data={"email": COORDINATOR.email, "password": COORDINATOR.password})
    client.get("/replies")
    with count_queries() as before:
        client.get("/replies")
    appointment = db.session.scalars(services.replies_query(study)).first().appointment
    for number in range(5):
        raw = reply_email(appointment.ical_uid, appointment.interviewer.email, "ACCEPTED")
        raw = raw.replace(b"Message-ID: <", f"Message-ID: <n{number}".encode(), 1)
        header = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        services.process_message(header, raw, len(raw), 10**6)
    with count_queries() as after:
        client.get("/replies")
    assert after.count == before.count


def test_the_scheduler_reads_the_mailbox_only_when_imap_is_configured(app):
    class Lock:
        def acquire(self) -> bool:
            return True

        def is_held(self) -> bool:
            return True

        def release(self) -> None:
            pass

    app.config["IMAP_HOST"] = ""
    without = ReminderScheduler(app, Lock()).start()
    try:
        assert without.scheduler.get_job(MAILBOX_JOB) is None
    finally:
        without.shutdown(wait=False)
    app.config["IMAP_HOST"] = "imap.example.org"
    try:
        with_imap = ReminderScheduler(app, Lock()).start()
        job = with_imap.scheduler.get_job(MAILBOX_JOB)
        assert job is not None and job.trigger.interval.total_seconds() == 300
        with_imap.shutdown(wait=False)
    finally:
        app.config["IMAP_HOST"] = ""
