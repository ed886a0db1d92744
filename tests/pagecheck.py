"""Real tools for checking pages: a live server, chromium, axe-core and the Nu HTML checker.

Each tool is looked for, not assumed: where one is missing the tests that need it skip with a
reason, except under CI (CI=true), where a missing tool fails the run instead.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

try:  # The browser tests import `expect` from here, so that without playwright they skip.
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the `browser` fixture skips (or fails in CI) first
    expect = None  # type: ignore[assignment]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SCRIPT = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = PROJECT_ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
#: axe-core impacts that fail a page; "minor" and "moderate" are reported by axe but tolerated.
FAILING_IMPACTS = {"serious", "critical"}


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing_tool(reason: str) -> None:
    """Skip the test for want of a tool, or fail it in CI, where every tool must be present."""
    if running_in_ci():
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def require_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        missing_tool(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        missing_tool(f"the playwright package cannot be imported ({error})")


def require_axe() -> None:
    if not AXE_SCRIPT.exists():
        missing_tool(f"{AXE_SCRIPT.relative_to(PROJECT_ROOT)} is missing (run npm ci)")


def require_vnu() -> None:
    if not VNU_JAR.exists():
        missing_tool(f"{VNU_JAR.relative_to(PROJECT_ROOT)} is missing (run npm ci)")
    if shutil.which("java") is None:
        missing_tool("java is missing (apt-get install default-jre-headless)")


# --- The app on a real port ------------------------------------------------------------------


class LiveServer:
    """A Flask app served by werkzeug on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name="live-server"
        )

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()

    def __call__(self, path: str) -> str:
        """The absolute URL of a path on this server."""
        return self.url + path


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """Debian's chromium, headless, through Playwright's own driver (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class ConsoleWatch:
    """Collects console errors and uncaught page errors of one page.

    A page the test means to answer with an error status (422 for a refused form, 404) makes
    chromium log "Failed to load resource ... status of 422"; `expect_status` allows those.
    """

    problems: list[str] = field(default_factory=list)
    expected_statuses: set[int] = field(default_factory=set)

    def attach(self, page: Any) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def expect_status(self, *codes: int) -> None:
        self.expected_statuses.update(codes)

    def _on_console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        if text.startswith("Failed to load resource") and any(
            f"status of {code} " in text for code in self.expected_statuses
        ):
            return
        location = message.location.get("url", "") if message.location else ""
        self.problems.append(f"console error at {location}: {text}")

    def take(self) -> list[str]:
        problems, self.problems = self.problems, []
        return problems


def log_in_through_form(page: Any, live: LiveServer, email: str, password: str) -> None:
    """Log in as a person would: the login page, the two fields, the button."""
    page.goto(live("/login"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    if "/login" in page.url:
        raise AssertionError(f"logging in as {email} failed: still on {page.url}")


# --- axe-core ---------------------------------------------------------------------------------


@functools.cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[dict]:
    """Run axe-core in the page; the serious and critical violations, each with its nodes."""
    # Evaluated through the DevTools protocol rather than added as a <script> tag: the app's
    # Content-Security-Policy rightly refuses inline scripts, and the test must not weaken it.
    page.evaluate(_axe_source())
    result = page.evaluate("async () => await axe.run()")
    return [v for v in result["violations"] if v.get("impact") in FAILING_IMPACTS]


def every_axe_violation(page: Any) -> list[dict]:
    """Every axe-core violation in the page, whatever its impact (participants' pages)."""
    page.evaluate(_axe_source())
    return page.evaluate("async () => await axe.run()")["violations"]


def describe_axe(label: str, violations: list[dict]) -> list[str]:
    lines = []
    for violation in violations:
        targets = "; ".join(
            " ".join(node["target"]) if isinstance(node["target"], list) else str(node["target"])
            for node in violation["nodes"][:5]
        )
        lines.append(
            f"{label}: [{violation['impact']}] {violation['id']}: {violation['help']} "
            f"({len(violation['nodes'])} element(s): {targets})"
        )
    return lines


# --- The Nu HTML checker ----------------------------------------------------------------------


def vnu_errors(pages: dict[str, str], directory: Path) -> list[str]:
    """Check many HTML documents in one run of vnu.jar (it is slow to start).

    `pages` maps a label (the URL, say) to the HTML; the answer is one line per error, naming
    the page, the line and the message.
    """
    files: dict[str, str] = {}
    directory.mkdir(parents=True, exist_ok=True)
    for number, (label, html) in enumerate(pages.items()):
        path = directory / f"page{number:03d}.html"
        path.write_text(html, encoding="utf-8")
        files[path.resolve().as_uri()] = label
    completed = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", str(directory)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        report = json.loads(completed.stderr or completed.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"vnu.jar gave no JSON report: {completed.stderr[:2000]}")
    errors = []
    for message in report.get("messages", []):
        if message.get("type") not in ("error", "non-document-error"):
            continue
        url = message.get("url", "")
        label = files.get(url) or files.get(url.replace("file:/", "file:///", 1), url)
        errors.append(
            f"{label} line {message.get('lastLine', '?')}: {message['message']} "
            f"[{message.get('extract', '').strip()}]"
        )
    return errors
