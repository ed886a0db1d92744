"""Rewriting stored messages in place: values replaced in every text, HTML and calendar part,
each part written back in its own transfer encoding. The erasure (erasure.py) and the removal
of links after sending (redaction.py) both use it."""

from __future__ import annotations

import base64
import quopri
import re

from markupsafe import escape


def replace_all(text: str, replacements: list[tuple[str, str]]) -> str:
    """Each (old, new) in turn, case-insensitively; `new` is taken literally."""
    for old, new in replacements:
        if old:
            # Backslashes doubled: re.sub then reads no group reference or escape in `new`.
            text = re.sub(re.escape(old), new.replace("\\", "\\\\"), text, flags=re.IGNORECASE)
    return text


def _fold(line: str, limit: int = 75) -> str:
    """Fold an iCalendar content line at 75 octets without splitting a character."""
    pieces, current, size = [], "", 0
    for character in line:
        width = len(character.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size = " ", 1
        current += character
        size += width
    pieces.append(current)
    return "\r\n".join(pieces)


def _scrub_calendar(text: str, replacements: list[tuple[str, str]]) -> str:
    """Unfold the iCalendar lines first (a name may be split across a fold), then refold."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    lines = replace_all(unfolded, replacements).splitlines()
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def _ical_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def scrub_part(part, replacements: list[tuple[str, str]]) -> None:
    """Replace the values in one text, HTML or calendar part (each in the form it takes there),
    and write it back in its transfer encoding. Other parts are left alone."""
    content_type = part.get_content_type()
    if part.get_content_maintype() != "text" and content_type != "application/ics":
        return
    charset = part.get_content_charset() or "utf-8"
    payload = part.get_payload(decode=True) or b""
    text = payload.decode(charset, errors="replace")
    if content_type in ("text/calendar", "application/ics"):
        # Text values are RFC 5545-escaped there ("O'Brien\\, Siân"); try that form first.
        escaped = [(_ical_escape(old), _ical_escape(new)) for old, new in replacements]
        text = _scrub_calendar(text, escaped + replacements)
    elif content_type == "text/html":
        escaped = [(str(escape(old)), str(escape(new))) for old, new in replacements]
        text = replace_all(text, escaped + replacements)
    else:
        text = replace_all(text, replacements)
    data = text.encode(charset)
    encoding = (part.get("Content-Transfer-Encoding") or "7bit").lower()
    if encoding == "base64":
        part.set_payload(base64.encodebytes(data).decode("ascii"))
    elif encoding == "quoted-printable":
        part.set_payload(quopri.encodestring(data).decode("ascii"))
    elif data.isascii():
        part.set_payload(data.decode("ascii"))
    else:
        # An 8bit part still holding other non-ASCII text cannot be written back as str;
        # quoted-printable keeps every character and any generator can write it.
        del part["Content-Transfer-Encoding"]
        part["Content-Transfer-Encoding"] = "quoted-printable"
        part.set_payload(quopri.encodestring(data).decode("ascii"))
