"""Reading the organiser's mailbox on a real IMAP server (Dovecot): answers recorded once,
mail moved (never deleted), declines on the "to rebook" list, and the job never stopped by a
message it cannot use."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select

from fieldwork.extensions import db
from fieldwork.replies import mailbox as reader
from fieldwork.replies import services
from fieldwork.replies.models import CalendarReply, MailboxMessage, MailOutcome, ReplyAnswer
from fieldwork.replies.signals import participant_declined
from fieldwork.scheduling.models import Appointment, AppointmentStatus
from tests.replies.conftest import at, book
from tests.replies.mail import reply_email

PROCESSED, UNMATCHED = "Fieldwork-Processed", "Fieldwork-Unmatched"


def _replies() -> list[CalendarReply]:
    db.session.expire_all()
    return list(db.session.scalars(select(CalendarReply).order_by(CalendarReply.id)))


def test_an_outlook_acceptance_is_recorded_and_the_mail_moved_to_the_processed_folder(
    app, world, mailbox
):
    """The participant's Accept from Outlook (METHOD:REPLY, one ATTENDEE, PARTSTAT=ACCEPTED)
    is recorded on the appointment with its comment, and the message is moved, not deleted."""
    appointment = book(world, at(2026, 3, 24, 10))
    message = reply_email(
        appointment.ical_uid, "sian@example.org", "ACCEPTED", name="Siân", comment="See you then"
    )
    mailbox.append(message)

    report = reader.read_mailbox()

    assert len(report.recorded) == 1 and not report.errors
    [reply] = _replies()
    assert (reply.appointment_id, reply.answer, reply.is_participant) == (
        appointment.id,
        ReplyAnswer.ACCEPTED,
        True,
    )
    assert reply.comment == "See you then"
    assert reply.attendee_name == "Siân" and reply.is_sender_attendee
    assert reply.replied_at == dt.datetime(2026, 3, 20, 11, 30, tzinfo=dt.UTC)
    assert mailbox.count("INBOX") == 0
    assert mailbox.message_ids(PROCESSED) == [report.recorded[0].join("<>")]


def test_running_the_job_again_records_nothing_twice(app, world, mailbox):
    """A second run, and a copy of the same message put back in the inbox, add no answer:
    the Message-ID was handled; the copy is moved along without being recorded again."""
    appointment = book(world, at(2026, 3, 24, 10))
    message = reply_email(appointment.ical_uid, "sian@example.org", "TENTATIVE")
    mailbox.append(message)
    reader.read_mailbox()
    reader.read_mailbox()
    mailbox.append(message)  # the same message again (a client resent it)
    second = reader.read_mailbox()

    assert len(_replies()) == 1
    assert len(second.already_handled) == 1 and not second.recorded
    assert db.session.scalar(select(func.count(MailboxMessage.id))) == 1
    assert mailbox.count("INBOX") == 0 and mailbox.count(PROCESSED) == 2


def test_two_runs_at_once_record_each_answer_once_and_lose_no_mail(app, world, mailbox):
    """Two jobs reading the same mailbox concurrently record each answer exactly once; every
    message ends in the processed folder once, none deleted, none copied twice."""
    first = book(world, at(2026, 3, 24, 10))
    second = book(world, at(2026, 3, 25, 10), participant=world["second"])
    messages = [
        reply_email(first.ical_uid, "sian@example.org", "ACCEPTED"),
        reply_email(first.ical_uid, "kathryn@example.org", "ACCEPTED"),
        reply_email(second.ical_uid, "dev@example.org", "TENTATIVE"),
        reply_email(second.ical_uid, "kathryn@example.org", "ACCEPTED", style="google"),
    ]
    mailbox.append(*messages)
    barrier = threading.Barrier(2)
    reports, failures = [], []

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait()
                reports.append(reader.read_mailbox())
            except Exception as error:  # pragma: no cover - shown by the assertion below
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert not failures
    assert len(_replies()) == 4
    assert sum(len(r.recorded) for r in reports) == 4
    assert mailbox.count("INBOX") == 0 and mailbox.count(PROCESSED) == 4
    assert len(set(mailbox.message_ids(PROCESSED))) == 4


def test_two_runs_handling_the_same_message_at_once_record_it_once(app, world):
    """The database decides: of two runs handling one message at the same moment, one records
    it and the other is told it was handled (its transaction writes nothing)."""
    appointment = book(world, at(2026, 3, 24, 10))
    message = reply_email(appointment.ical_uid, "sian@example.org", "ACCEPTED")
    header = message.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    barrier = threading.Barrier(4)
    results = []

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait()
                results.append(services.process_message(header, message, len(message), 10**6))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(results) == 4
    assert sum(result is not None for result in results) == 1
    assert len(_replies()) == 1


def test_a_move_interrupted_after_recording_is_finished_by_the_next_run(app, world, mailbox):
    """If the job stopped between recording an answer and moving its mail, the next run moves
    the mail without recording the answer again."""
    appointment = book(world, at(2026, 3, 24, 10))
    message = reply_email(appointment.ical_uid, "sian@example.org", "ACCEPTED")
    header = message.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    services.process_message(header, message, len(message), 10**6, lambda *_: PROCESSED)
    mailbox.append(message)

    report = reader.read_mailbox()

    assert report.already_handled and not report.recorded
    assert len(_replies()) == 1
    assert mailbox.count("INBOX") == 0 and mailbox.count(PROCESSED) == 1


def test_a_participants_decline_lands_on_to_rebook_with_its_comment_and_cancels_nothing(
    app, world, mailbox, auth, client
):
    """Google's Decline (comment in X-RESPONSE-COMMENT) keeps the interview booked, puts it on
    the coordinator's "to rebook" list with the comment, and tells listeners by a signal."""
    appointment = book(world, at(2026, 3, 24, 10))
    heard = []

    def listener(sender, reply):
        heard.append((sender.id, reply.comment))

    participant_declined.connect(listener)
    try:
        mailbox.append(
            reply_email(
                appointment.ical_uid,
                "sian@example.org",
                "DECLINED",
                style="google",
                comment="I am on leave that week; the week after works.",
            )
        )
        reader.read_mailbox()
    finally:
        participant_declined.disconnect(listener)

    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.BOOKED
    [on_list] = db.session.scalars(services.to_rebook_query(world["study"])).unique().all()
    assert on_list.appointment_id == appointment.id
    assert heard == [(appointment.id, "I am on leave that week; the week after works.")]
    auth.login(world["coordinator"])
    page = client.get("/replies")
    assert page.status_code == 200
    assert "I am on leave that week; the week after works." in page.text
    assert f"/appointments/{appointment.id}/reschedule" in page.text
    shown = client.get(f"/appointments/{appointment.id}")
    assert "Declined" in shown.text and "the week after works" in shown.text


def test_an_interviewers_decline_is_recorded_but_is_not_a_participant_to_rebook(
    app, world, mailbox
):
    appointment = book(world, at(2026, 3, 24, 10))
    mailbox.append(reply_email(appointment.ical_uid, "kathryn@example.org", "DECLINED"))
    reader.read_mailbox()
    [reply] = _replies()
    assert reply.answer == ReplyAnswer.DECLINED and not reply.is_participant
    assert not db.session.scalars(services.to_rebook_query(world["study"])).all()


def test_a_later_acceptance_takes_the_appointment_off_the_to_rebook_list(app, world, mailbox):
    appointment = book(world, at(2026, 3, 24, 10))
    mailbox.append(reply_email(appointment.ical_uid, "sian@example.org", "DECLINED"))
    reader.read_mailbox()
    assert db.session.scalars(services.to_rebook_query(world["study"])).unique().all()
    later = reply_email(appointment.ical_uid, "sian@example.org", "ACCEPTED")
    later = later.replace(b"20260320T113000Z", b"20260320T120000Z")
    mailbox.append(later)
    reader.read_mailbox()
    assert not db.session.scalars(services.to_rebook_query(world["study"])).unique().all()
    answers = services.current_answers([appointment.id])[appointment.id]
    assert [a.answer for a in answers] == [ReplyAnswer.ACCEPTED]


def test_a_reply_sent_from_another_address_is_recorded_with_that_address(app, world, mailbox):
    """The attendee is on the appointment but the mail came from elsewhere (a delegate, an
    alias): the answer is recorded, with the sender kept and flagged."""
    appointment = book(world, at(2026, 3, 24, 10))
    mailbox.append(
        reply_email(
            appointment.ical_uid, "sian@example.org", "ACCEPTED", sender="pa@elsewhere.example"
        )
    )
    reader.read_mailbox()
    [reply] = _replies()
    assert not reply.is_sender_attendee and reply.sender_email == "pa@elsewhere.example"


def test_without_imap_settings_the_job_does_nothing(app, world):
    app.config["IMAP_HOST"] = ""
    report = reader.read_mailbox()
    assert report == reader.ReadReport()
    assert db.session.scalar(select(func.count(MailboxMessage.id))) == 0


def test_outcomes_are_stored_for_every_message(app, world, mailbox):
    """Recorded mail is stored as recorded, with no reason."""
    appointment = book(world, at(2026, 3, 24, 10))
    mailbox.append(reply_email(appointment.ical_uid, "sian@example.org", "ACCEPTED"))
    reader.read_mailbox()
    row = db.session.scalar(select(MailboxMessage))
    assert (row.outcome, row.reason, row.folder, row.study_id) == (
        MailOutcome.RECORDED,
        "",
        PROCESSED,
        world["study"].id,
    )


def test_ordinary_mail_left_in_the_inbox_does_not_hide_new_replies(app, world, mailbox):
    """With a batch of two and three ordinary emails ahead of a reply, the second run skips
    the emails already looked at (they stay in the inbox) and reaches the reply."""
    from tests.replies.mail import plain_email

    app.config["IMAP_BATCH_SIZE"] = 2
    appointment = book(world, at(2026, 3, 24, 10))
    mailbox.append(
        plain_email("One"),
        plain_email("Two"),
        plain_email("Three"),
        reply_email(appointment.ical_uid, "sian@example.org", "ACCEPTED"),
    )
    first = reader.read_mailbox()
    second = reader.read_mailbox()
    third = reader.read_mailbox()

    assert (len(first.unmatched), len(second.unmatched), len(second.recorded)) == (2, 1, 1)
    assert third == reader.ReadReport()
    assert mailbox.count("INBOX") == 3 and mailbox.count(PROCESSED) == 1
