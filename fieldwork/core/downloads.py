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


def record_download(actor: Any, study_id: int | None, what: str) -> None:
    """An audit event for a download of personal data ("Cora downloaded the participant list
    as CSV"); commits it on its own."""
    from fieldwork.audit import services as audit
    from fieldwork.extensions import db

    audit.record_event(
        "export.downloaded",
        actor=actor,
        study_id=study_id,
        subject_type="study",
        subject_id=study_id,
        after={"what": what},
    )
    db.session.commit()


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
