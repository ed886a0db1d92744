"""The weekly email: once per finished week, to the study's recipients, through the outbox and
a real SMTP server, with the PDF attached."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader

from fieldwork.core.time import UTC
from fieldwork.outbox import sending
from fieldwork.outbox.models import OutboxMessage
from fieldwork.reports import jobs, services
from tests.smtp_server import smtp_server  # noqa: F401  (fixture)


def test_the_report_goes_once_a_week_to_the_recipients_with_the_pdf(
    report_study,
    smtp_server,  # noqa: F811
    app,
):
    study = report_study["study"]
    assert jobs.send_weekly_reports() == 0, "nobody to send to yet"
    services.save_setting(
        study,
        "funder@example.org\nofficer@example.net",
        True,
        report_study["coordinator"],
    )
    assert jobs.send_weekly_reports() == 1
    assert jobs.send_weekly_reports() == 0, "a second run (or a restart) sends no second copy"
    [row] = OutboxMessage.query.all()
    assert row.recipient_list == ["funder@example.org", "officer@example.net"]
    sending.send_due()
    [received] = smtp_server.messages
    message = received.message
    assert set(received.rcpt_tos) == {"funder@example.org", "officer@example.net"}
    assert "weekly fieldwork report 2026-W16" in str(message["Subject"])
    text = message.get_body(("plain",)).get_content()
    assert "Achieved: 3 of a target of 8 (38%)." in text
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"weekly-report-{study.slug}-2026-W16.pdf"
    reader = PdfReader(io.BytesIO(attachment.get_content()))
    assert "3 people interviewed of a target of 8" in " ".join(
        " ".join(page.extract_text().split()) for page in reader.pages
    )


def test_next_week_the_next_report_goes(report_study, smtp_server):  # noqa: F811
    from fieldwork.core.time import set_clock

    study = report_study["study"]
    services.save_setting(study, "funder@example.org", True, report_study["coordinator"])
    assert jobs.send_weekly_reports() == 1
    set_clock(lambda: dt.datetime(2026, 4, 27, 6, 0, tzinfo=UTC))  # Monday of W18
    assert jobs.send_weekly_reports() == 1
    weeks = sorted(row.subject[-8:] for row in OutboxMessage.query.all())
    assert weeks == ["2026-W16", "2026-W17"]


def test_recipients_are_checked_and_the_weekly_email_needs_one(report_study):
    import pytest

    study = report_study["study"]
    with pytest.raises(services.ReportError, match="not an email address"):
        services.save_setting(study, "funder@example.org\nnot-an-address", True, None)
    with pytest.raises(services.ReportError, match="at least one recipient"):
        services.save_setting(study, "  ", True, None)
    setting = services.save_setting(
        study, "a@example.org, A@example.org; b@example.org", False, None
    )
    assert setting.recipient_list == ["a@example.org", "b@example.org"]
