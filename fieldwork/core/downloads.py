"""CSV downloads of the tool's lists, every cell through the formula-neutralising writer."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import Any

from flask import Response

from fieldwork.core import spreadsheet
from fieldwork.core.time import now_utc


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
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{csv_filename(stem)}"',
            "Cache-Control": "private, no-store",
        },
    )
