"""The funder's weekly report: its figures are the dashboard's as of the week's end, the PDF
says the same when read back, a finished week always reads the same, it holds no names, and
`flask weekly-report` writes it."""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from pypdf import PdfReader

from fieldwork.coverage import services as coverage
from fieldwork.reports import pdf, services
from fieldwork.sampling.models import Participant
from tests.pipeline.conftest import make_interview
from tests.reports.conftest import W16, W16_END, at


def pdf_text(data: bytes) -> str:
    """The PDF's text as pypdf reads it, whitespace folded."""
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_the_report_holds_the_dashboards_figures_as_of_the_weeks_end(report_study):
    study = report_study["study"]
    content = services.weekly_report(study, W16).content
    board = coverage.dashboard(study, now=W16_END)
    assert content["as_of"] == W16_END.isoformat()
    assert not content["is_provisional"]
    assert content["overall"]["achieved"] == board.overall.achieved == 3
    assert content["overall"]["target"] == board.total_target == 8
    assert content["overall"]["booked"] == board.overall.booked == 1
    for phase in board.phases:
        row = next(p for p in content["phases"] if p["name"] == phase.name)
        assert row["achieved"] == board.by_phase[phase.id].achieved
        assert row["target"] == board.by_phase[phase.id].target
    assert [r["reference"] for r in content["interviews"]["this_week"]] == [
        "P1-T02",
        "P1-M01",
        "P1-T03",
    ]
    assert [r["reference"] for r in content["interviews"]["next_week"]] == ["P1-T04"]
    assert [w["cumulative"] for w in content["weeks"]][-1] == 3


def test_the_pdf_read_back_says_what_the_dashboard_says(report_study):
    """Parsed with pypdf: the summary, every phase row and every heat-map cell carry the
    dashboard's figures for the same moment."""
    study = report_study["study"]
    board = coverage.dashboard(study, now=W16_END)
    text = pdf_text(pdf.render_pdf(services.weekly_report(study, W16).content))
    assert (
        f"{board.overall.achieved} people interviewed of a target of {board.total_target}" in text
    )
    for phase in board.phases:
        figures = board.by_phase[phase.id]
        target = figures.target if figures.target is not None else "–"
        assert re.search(rf"{phase.name} {figures.achieved} {target} ", text), phase.name
    cells = re.findall(r"(\d+) / (\d+|–)", text.split("by role and phase", 1)[1])
    expected = []
    for role in board.roles:
        for figures in [*(board.cell(role.id, p.id) for p in board.phases), board.by_role[role.id]]:
            expected.append((str(figures.achieved), str(figures.target) if figures.target else "–"))
    assert cells[: len(expected)] == expected
    assert "2026-W16" in text and "Made 22 April 2026" in text
    assert "Response rate (AAPOR RR1)" in text and "Definitions" in text


def test_a_finished_week_always_reads_the_same(report_study):
    """The first report made after W16 ended is kept: an interview recorded later for that
    week does not change it, while the week not over yet is provisional and does change."""
    study = report_study["study"]
    first = services.weekly_report(study, W16)
    make_interview(report_study, at(17), reference="P1-LATE")
    again = services.weekly_report(study, W16)
    assert again.is_stored and again.content == first.content
    assert pdf_text(pdf.render_pdf(again.content)) == pdf_text(pdf.render_pdf(first.content))
    current = services.weekly_report(study, W16 + dt.timedelta(days=7))
    assert current.content["is_provisional"] and not current.is_stored
    assert current.content["overall"]["achieved"] == 4


def test_the_report_names_nobody(report_study):
    study = report_study["study"]
    text = pdf_text(pdf.render_pdf(services.weekly_report(study, W16).content))
    from fieldwork.extensions import db

    for person in db.session.query(Participant).all():
        assert person.name not in text and person.email not in text
    for user in ("interviewer", "coordinator"):
        assert report_study[user].name not in text


def test_cells_far_behind_with_time_left_are_risks(report_study):
    """Fieldwork 2 March to 29 May 2026: by 19 April over half the window is gone; TPPM phase 2
    (0 of 2) is at risk, manager phase 1 (1 of 2, 50%) is not."""
    study = report_study["study"]
    study.fieldwork_starts_on = dt.date(2026, 3, 2)
    study.fieldwork_ends_on = dt.date(2026, 5, 29)
    from fieldwork.extensions import db

    db.session.commit()
    content = services.build_content(study, W16)
    assert [(r["role"], r["phase"], r["uncovered"]) for r in content["risks"]] == [
        ("JCP Third Party Provision Manager", "Phase 2", 2)
    ]
    assert content["risks"][0]["per_week_needed"] == round(2 / content["window"]["weeks_left"], 1)


@pytest.mark.parametrize("text", ["2026-16", "2026-W54", "W16", ""])
def test_a_malformed_week_is_refused(text):
    with pytest.raises(services.ReportError):
        services.parse_week(text)


def test_the_pdf_reads_nothing_from_the_network(app):
    """The fetcher serves the app's static files and refuses every other URL: a local web
    server named in the HTML is never asked."""
    from weasyprint import HTML

    asked = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        html = f'<link rel="stylesheet" href="{url}/x.css"><img src="{url}/x.png"><p>Hi</p>'
        fetcher = pdf.static_only_fetcher(app.static_folder)
        HTML(string=html, base_url=app.static_folder + "/", url_fetcher=fetcher).write_pdf()
        with pytest.raises(pdf.OfflineOnly):
            fetcher.fetch(f"{url}/x.css")
        with pytest.raises(pdf.OfflineOnly):
            fetcher.fetch("file:///etc/passwd")
        assert fetcher.fetch(f"file://{app.static_folder}/fonts/DejaVuSans.ttf").status == 200
    finally:
        server.shutdown()
        server.server_close()
    assert asked == []


def test_the_pdf_is_set_in_the_fonts_shipped_with_the_app(report_study, caplog):
    reader = PdfReader(
        io.BytesIO(pdf.render_pdf(services.weekly_report(report_study["study"], W16).content))
    )
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    # "Report Sans" is the @font-face of static/css/report-print.css over static/fonts/: a
    # system font would carry its own name (DejaVuSans, ...).
    assert fonts and all("Report-Sans" in name for name in fonts), fonts


def test_the_command_writes_the_pdf_of_a_week(report_study, runner, tmp_path):
    out = tmp_path / "report.pdf"
    result = runner.invoke(args=["weekly-report", str(out), "--week", "2026-W16"])
    assert result.exit_code == 0, result.output
    assert "report for 2026-W16" in result.output and "3 achieved of 8" in result.output
    assert "3 people interviewed of a target of 8" in pdf_text(out.read_bytes())


def test_the_command_defaults_to_the_last_finished_week_and_explains_bad_input(
    report_study, runner, tmp_path
):
    out = tmp_path / "report.pdf"
    result = runner.invoke(args=["weekly-report", str(out)])
    assert result.exit_code == 0 and "2026-W16" in result.output
    result = runner.invoke(args=["weekly-report", str(out), "--week", "2026-16"])
    assert result.exit_code != 0 and "YYYY-Www" in result.output
    result = runner.invoke(args=["weekly-report", str(out), "--study", "nope"])
    assert result.exit_code != 0 and "There is no study 'nope'" in result.output
