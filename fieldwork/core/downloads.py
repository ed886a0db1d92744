"""Downloads: CSV files of the tool's lists (every cell through the formula-neutralising
writer), and any other file a page hands over (a calendar entry, a PDF report)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import Any

from flask import Response

from fieldwork.core import spreadsheet
from fieldwork.core.time import now_utc


def private_download(body: str | bytes, mimetype: str, filename: str) -> Response:
    """A file to save, not to show, that no shared cache may keep (it is about people)."""
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def csv_filename(stem: str) -> str:
    """'participants-2026-03-20.csv': a name that sorts by date and needs no quoting."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "list"
    return f"{safe}-{now_utc():%Y-%m-%d}.csv"


def csv_download(stem: str, header: list[str], rows: Iterable[Iterable[Any]]) -> Response:
    """A CSV attachment: UTF-8 with a byte-order mark (so Excel reads accents), CRLF lines,
    cells that a spreadsheet would run as formulas neutralised."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = spreadsheet.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return private_download(buffer.getvalue(), "text/csv", csv_filename(stem))
