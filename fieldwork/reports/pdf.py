"""The weekly report as a PDF: WeasyPrint, the app's own fonts, and no network at all.

WeasyPrint may only read files from the app's `static/` folder (the stylesheet and the fonts
shipped in `static/fonts/`): any other URL, however it got into the HTML, is refused, so making
a PDF never reaches out to another machine.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlparse

from flask import current_app, render_template


class OfflineOnly(ValueError):
    """WeasyPrint asked for something outside the app's static folder."""


def static_only_fetcher(static_folder: str):
    """A WeasyPrint fetcher that serves files under `static_folder` and refuses the rest."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    root = os.path.realpath(static_folder)

    class StaticOnly(URLFetcher):
        def fetch(self, url: str, headers=None) -> URLFetcherResponse:
            parsed = urlparse(url)
            if parsed.scheme != "file":
                raise OfflineOnly(f"the report's PDF reads no URL ({url[:80]})")
            path = os.path.realpath(unquote(parsed.path))
            if os.path.commonpath([root, path]) != root or not os.path.isfile(path):
                raise OfflineOnly(f"the report's PDF reads only the app's files ({url[:80]})")
            with open(path, "rb") as handle:
                body = handle.read()
            media = "text/css" if path.endswith(".css") else "font/ttf"
            return URLFetcherResponse(url, body, {"Content-Type": media})

    return StaticOnly(allowed_protocols=("file",), fail_on_errors=False)


def render_pdf(content: dict) -> bytes:
    """The report's PDF (A4), set in the DejaVu fonts of static/fonts."""
    from weasyprint import HTML

    static_folder = current_app.static_folder
    assert static_folder is not None  # the factory always gives the app its static folder
    html = render_template("reports/weekly_pdf.html", report=content)
    document = HTML(
        string=html,
        base_url=static_folder.rstrip("/") + "/",
        url_fetcher=static_only_fetcher(static_folder),
    )
    return document.write_pdf(
        pdf_identifier=content["study"]["slug"].encode() + content["week"].encode(),
    )
