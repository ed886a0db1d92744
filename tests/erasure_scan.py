"""Helpers that look for a person's details everywhere a copy could hide: every text, binary and
JSON column of every table (stored messages decoded part by part), a backup file, database
files and folders on disk (with base64 and quoted-printable forms of each value)."""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import os
import re
from collections.abc import Iterable
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from sqlalchemy import select

from fieldwork.extensions import db


def _decoded_message(data: bytes) -> str:
    """A MIME message as a reader sees it: decoded headers and parts, calendars unfolded."""
    try:
        message = message_from_bytes(data, policy=default_policy)
    except Exception:  # noqa: BLE001 - not a message: nothing more to decode
        return ""
    chunks = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
        chunks.append(text)
        chunks.append(re.sub(r"\r?\n[ \t]", "", text).replace("\\,", ",").replace("\\;", ";"))
    return "\n".join(chunks)


def _texts_of(value: Any) -> Iterable[str]:
    if value is None:
        return
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        yield value.decode("utf-8", errors="replace")
        yield _decoded_message(value)
    elif isinstance(value, dict | list):
        yield json.dumps(value, ensure_ascii=False)
        yield json.dumps(value)
    else:
        yield str(value)


def hits_in_tables(needles: Iterable[str]) -> list[str]:
    """'table.column' for every value of every table that holds one of the needles."""
    needles = [n.lower() for n in needles]
    found = []
    db.session.expire_all()
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).mappings():
            for column, value in row.items():
                for text in _texts_of(value):
                    if any(needle in text.lower() for needle in needles):
                        found.append(f"{table.name}.{column}")
                        break
    return sorted(set(found))


def byte_forms(needle: str) -> list[bytes]:
    """The bytes a value can take in a file: UTF-8 and the three alignments of base64."""
    raw = needle.encode("utf-8")
    forms = [raw]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        start = ((shift + 2) // 3) * 4
        end = ((shift + len(raw)) // 3) * 4
        if end - start >= 8:
            forms.append(encoded[start:end])
    return forms


def hits_in_bytes(data: bytes, needles: Iterable[str]) -> list[str]:
    """The needles found in raw bytes (any case for text; base64 with line breaks removed;
    quoted-printable soft line breaks removed)."""
    lowered = data.lower()
    unbroken = data.replace(b"\r\n", b"").replace(b"\n", b"")
    unsoftened = data.replace(b"=\r\n", b"").replace(b"=\n", b"").lower()
    found = []
    for needle in needles:
        raw, *b64 = byte_forms(needle)
        if raw.lower() in lowered or raw.lower() in unsoftened:
            found.append(needle)
        elif any(form in unbroken for form in b64):
            found.append(f"{needle} (base64)")
    return found


def hits_in_files(folder: Path | str, needles: Iterable[str]) -> dict[str, list[str]]:
    """Files under `folder` (gzip files decompressed too) holding one of the needles."""
    needles = list(needles)
    found: dict[str, list[str]] = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            try:
                data = Path(path).read_bytes()
            except OSError:
                continue
            hits = hits_in_bytes(data, needles)
            if data[:2] == b"\x1f\x8b":
                with contextlib.suppress(OSError, EOFError, ValueError):
                    hits += hits_in_backup(path, needles)
            if hits:
                found[path] = hits
    return found


def hits_in_backup(path: Path | str, needles: Iterable[str]) -> list[str]:
    """The needles found in a `flask backup` file: its JSON lines, and every binary value
    (stored messages) decoded as bytes and as a MIME message."""
    needles = [n.lower() for n in needles]
    data = gzip.decompress(Path(path).read_bytes())
    texts = [data.decode("utf-8", errors="replace")]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if set(value) == {"$b"}:
                texts.extend(_texts_of(base64.b64decode(value["$b"])))
                return
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            texts.append(value)

    for line in data.splitlines():
        if line.strip():
            walk(json.loads(line))
    return [n for n in needles if any(n in text.lower() for text in texts)]
