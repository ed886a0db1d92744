"""bandit finds nothing of medium or high severity in the app's code; every finding it would
report is fixed or annotated where it stands (`# nosec BXXX` with the reason beside it)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from tests.pagecheck import missing_tool

PACKAGE = Path(__file__).resolve().parents[2] / "fieldwork"


def test_bandit_finds_no_medium_or_high_issue():
    if importlib.util.find_spec("bandit") is None:
        missing_tool("bandit is not installed (pip install -r requirements-dev.txt)")
    result = subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, "-m", "bandit", "-r", str(PACKAGE), "-q", "-ll", "-f", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stdout)
    findings = [
        f"{item['filename']}:{item['line_number']} {item['test_id']} {item['issue_severity']}: "
        f"{item['issue_text']}"
        for item in report["results"]
        if item["issue_severity"] in ("MEDIUM", "HIGH")
    ]
    assert not findings, "bandit findings:\n" + "\n".join(findings)
    assert not report["errors"], report["errors"]
    assert report["metrics"]["_totals"]["loc"] > 1000, "bandit scanned the package"
