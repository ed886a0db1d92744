"""No usable secret at rest: once a message has gone out, the private links in its stored copy
are replaced by a placeholder.

Booking links, consent links, set-password links and calendar feeds carry a token that opens
them (fieldwork.core.tokens: 43 URL-safe characters). The database keeps only the tokens'
digests, but the outbox stores every message whole, so before this a stolen database or backup
held working links. When the server has accepted a message (or it has failed for good) every
link with a token in it, in every text, HTML and calendar part, becomes
"[link removed after sending]"; the message keeps its parts, headers and wording, so the outbox
still shows what was sent. A message not yet sent keeps its links: it still has to deliver them.
"""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import SMTP

from fieldwork.outbox.models import OutboxMessage
from fieldwork.outbox.rewriting import scrub_part

PLACEHOLDER = "[link removed after sending]"
#: A link whose path holds a token-like segment (32+ URL-safe characters).
_LINK = re.compile(r"""https?://[^\s<>"'\\]*?[/=][A-Za-z0-9_-]{32,}[^\s<>"'\\]*""", re.IGNORECASE)
#: A bare token (exactly the length fieldwork.core.tokens makes), outside a link.
_BARE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
_TEXT_TYPES = ("text/plain", "text/html", "text/calendar", "application/ics")


def _part_text(part) -> str:
    payload = part.get_payload(decode=True) or b""
    text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    if part.get_content_type() in ("text/calendar", "application/ics"):
        text = re.sub(r"\r?\n[ \t]", "", text)
    return text


def secrets_in_text(text: str) -> set[str]:
    """The token links and bare tokens in one decoded text (plain, HTML or calendar)."""
    text = text.replace("&amp;", "&")
    return set(_LINK.findall(text)) | set(_BARE.findall(_LINK.sub(" ", text)))


def secrets_in(raw: bytes) -> list[str]:
    """The token links and bare tokens a stored message holds, longest first."""
    message = message_from_bytes(raw, policy=SMTP)
    found: set[str] = set()
    for part in message.walk():
        if part.is_multipart() or part.get_content_type() not in _TEXT_TYPES:
            continue
        found |= secrets_in_text(_part_text(part))
    return sorted(found, key=lambda value: (-len(value), value))


def redacted(raw: bytes) -> bytes | None:
    """The message with its private links replaced by the placeholder, or None when it holds
    none (the stored copy then stays as it is)."""
    secrets = secrets_in(raw)
    if not secrets:
        return None
    message = message_from_bytes(raw, policy=SMTP)
    replacements = [(secret, PLACEHOLDER) for secret in secrets]
    for part in message.walk():
        if not part.is_multipart():
            scrub_part(part, replacements)
    return message.as_bytes(policy=SMTP)


def redact_links(row: OutboxMessage) -> int:
    """Replace the private links of a stored message by the placeholder. No commit. Returns
    how many distinct links or tokens were removed."""
    count = len(secrets_in(row.raw))
    if count:
        row.raw = redacted(row.raw) or row.raw
    return count
