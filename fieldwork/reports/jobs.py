"""The weekly email: after each week ends, its report goes to the study's recipients.

The scheduler runs `send_weekly_reports` every hour or so. Each study's message has a
Message-ID made of the study and the week, and the outbox refuses a Message-ID twice, so
running the job often (or after a downtime) sends each week's report once.
"""

from __future__ import annotations

import datetime as dt
import logging
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from flask import current_app, render_template
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.outbox import services as outbox
from fieldwork.outbox.models import OutboxMessage
from fieldwork.reports import pdf, services
from fieldwork.reports.models import ReportSetting
from fieldwork.sampling.models import Study

log = logging.getLogger(__name__)


def message_id(study: Study, week: str, domain: str) -> str:
    return f"<weekly-report.{study.id}.{week}@{domain}>"


def report_message(study: Study, report: services.Report, recipients: list[str], domain: str):
    """The email: a short text, and the PDF attached."""
    from fieldwork.invites.mail import header_text, mailbox

    content = report.content
    message = EmailMessage(policy=SMTP)
    sender = study.organiser_email or f"fieldwork@{domain}"
    message["From"] = mailbox(study.organiser_name or "Fieldwork", sender)
    message["To"] = ", ".join(str(mailbox("", address)) for address in recipients)
    message["Subject"] = header_text(f"{study.name}: weekly fieldwork report {content['week']}")
    message["Date"] = format_datetime(now_utc())
    message["Message-ID"] = message_id(study, content["week"], domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_template("reports/email.txt", report=content))
    message.add_attachment(
        pdf.render_pdf(content),
        maintype="application",
        subtype="pdf",
        filename=f"weekly-report-{study.slug}-{content['week']}.pdf",
    )
    return message


def send_weekly_reports(now: dt.datetime | None = None) -> int:
    """Queue last week's report for every study whose weekly email is on, once per week.
    Returns how many were queued."""
    now = now or now_utc()
    domain = current_app.config["REMINDER_DIGEST_DOMAIN"]
    rows = db.session.execute(
        select(Study, ReportSetting)
        .join(ReportSetting, ReportSetting.study_id == Study.id)
        .where(ReportSetting.is_weekly_email.is_(True))
        .order_by(Study.id)
    ).all()
    queued = 0
    for study, setting in rows:
        recipients = setting.recipient_list
        if not recipients:
            continue
        monday = services.last_finished_week(study, now)
        wanted = message_id(study, services.week_label(monday), domain)
        if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.message_id == wanted)):
            continue
        report = services.weekly_report(study, monday, now)
        try:
            message = report_message(study, report, recipients, domain)
            with db.session.begin_nested():
                outbox.enqueue(message, kind="other", study_id=study.id)
        except IntegrityError:
            continue  # another run queued it a moment ago
        except ValueError:
            log.exception("weekly report for %s: a recipient address is not usable", study.slug)
            continue
        db.session.commit()
        queued += 1
    return queued
