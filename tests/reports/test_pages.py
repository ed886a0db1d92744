"""The weekly report's pages: coordinators read any started week, download its PDF and choose
who gets it by email; interviewers are refused."""

from __future__ import annotations

import io

from pypdf import PdfReader


def test_the_report_page_shows_last_finished_weeks_figures(report_study, client, auth):
    auth.login(report_study["coordinator"])
    page = client.get("/reports/weekly")
    assert page.status_code == 200
    assert "Weekly report: 2026-W16" in page.text
    assert '<span class="report-figure" data-figure="achieved">3</span>' in page.text
    assert "2026-W17" in page.text, "a link to the week in progress"


def test_a_week_in_progress_is_provisional_and_a_future_week_is_refused(report_study, client, auth):
    auth.login(report_study["coordinator"])
    assert "Provisional" in client.get("/reports/weekly?week=2026-W17").text
    future = client.get("/reports/weekly?week=2026-W30", follow_redirects=True)
    assert "That week has not started yet" in future.text
    bad = client.get("/reports/weekly?week=nonsense", follow_redirects=True)
    assert "Write the week as YYYY-Www" in bad.text


def test_the_pdf_download(report_study, client, auth):
    auth.login(report_study["coordinator"])
    response = client.get("/reports/weekly.pdf?week=2026-W16")
    assert response.mimetype == "application/pdf"
    assert "weekly-report-" in response.headers["Content-Disposition"]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "2026-W16" in text


def test_interviewers_are_refused(report_study, client, auth):
    auth.login(report_study["interviewer"])
    for url in ("/reports/weekly", "/reports/weekly.pdf", "/reports/settings"):
        assert client.get(url).status_code == 403


def test_recipients_are_saved_or_the_problem_is_shown(report_study, client, auth):
    auth.login(report_study["coordinator"])
    bad = client.post("/reports/settings", data={"recipients": "nope", "is_weekly_email": "y"})
    assert bad.status_code == 422 and "is not an email address" in bad.text
    good = client.post(
        "/reports/settings",
        data={"recipients": "funder@example.org", "is_weekly_email": "y"},
        follow_redirects=True,
    )
    assert "Saved who gets the weekly report." in good.text
    assert "funder@example.org" in good.text
