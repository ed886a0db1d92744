"""Address headers that no display name can turn into another address, and the Date and
Message-ID every message carries.

The stdlib's header folding re-parses a long address header to fold it, and loses the quotes
around a display name that holds specials: `Ivy <spoof@attacker.example> zzz…` long enough to
fold went out as a `To` that parses as spoof@attacker.example, and "Équipe" came back as
"Équi pe". So the tool writes address headers itself (`set_addresses`): a display name is
either a quoted string (short, printable ASCII) or RFC 2047 base64 encoded-words cut on
character boundaries, each mailbox's parts on lines of their own, so the header never needs
refolding; the stdlib then stores and emits it as written (`Message.set_raw`). What parses
back with `email.policy.default` is exactly the intended addresses and names.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from fieldwork.core.time import now_utc

ADDRESS_HEADERS = ("From", "To", "Cc", "Reply-To", "Sender")
#: Characters that may stand in an RFC 5322 dot-atom local part.
_DOT_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
#: UTF-8 bytes per encoded-word (45 bytes → 60 base64 characters + 12 = 72 ≤ 75).
_WORD_BYTES = 45


def clean_name(name: str) -> str:
    """A display name on one line: control characters become one space; spaces collapse."""
    return re.sub(r"\s+", " ", _CONTROL.sub(" ", name or "")).strip()


def checked_address(email: str) -> str:
    """An addr-spec that can be written as is: ASCII local part (dot-atom), IDNA domain.
    Raises ValueError for anything else (a space, a control character, no @)."""
    email = (email or "").strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or _CONTROL.search(email) or " " in email:
        raise ValueError(f"not a usable email address: {email!r}")
    if not _DOT_ATOM.match(local):
        raise ValueError(f"not a usable email address: {email!r}")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise ValueError(f"not a usable email address: {email!r}") from error
    if not re.fullmatch(r"[A-Za-z0-9.-]+", domain) or ".." in domain:
        raise ValueError(f"not a usable email address: {email!r}")
    return f"{local}@{domain}"


_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/^_`{|}~-]+$")


def _encoded_words(text: str) -> list[str]:
    """`text` as RFC 2047 base64 encoded-words of at most 45 bytes, cut between characters,
    preferably after a space (which stays inside the first word, so RFC 2047 decoders, which
    drop the whitespace between two encoded-words, give the text back exactly)."""
    chunks: list[str] = []
    current = ""
    for character in text:
        if len((current + character).encode("utf-8")) > _WORD_BYTES:
            cut = current.rfind(" ")
            if 0 < cut < len(current) - 1:
                chunks.append(current[: cut + 1])
                current = current[cut + 1 :]
            else:
                chunks.append(current)
                current = ""
        current += character
    if current:
        chunks.append(current)
    return [
        f"=?utf-8?b?{base64.b64encode(chunk.encode('utf-8')).decode('ascii')}?=" for chunk in chunks
    ]


def _phrase_tokens(name: str) -> list[str]:
    """A display name as header tokens. Printable ASCII: one quoted string, cut at its spaces
    into tokens (a fold inside a quoted string keeps the space). Otherwise: plain words stay
    words; runs of other words (accents, specials) become encoded-words, one run at a time,
    so two encoded-words meet only inside a run too long for one."""
    words = name.split(" ")
    plain = name.isascii() and name.isprintable() and "=?" not in name
    if plain and max(len(word) for word in words) <= 60:
        escaped = [word.replace("\\", "\\\\").replace('"', '\\"') for word in words]
        escaped[0] = '"' + escaped[0]
        escaped[-1] += '"'
        return escaped
    tokens: list[str] = []
    run: list[str] = []
    for word in words:
        if _ATOM.match(word) and "=?" not in word and len(word) <= 60:
            if run:
                tokens += _encoded_words(" ".join(run))
                run = []
            tokens.append(word)
        else:
            run.append(word)
    if run:
        tokens += _encoded_words(" ".join(run))
    return tokens


def _mailbox_tokens(name: str, email: str) -> list[str]:
    """The pieces of one mailbox, each short enough for a line of its own."""
    address = f"<{checked_address(email)}>"
    name = clean_name(name)
    return [*_phrase_tokens(name), address] if name else [address]


def format_addresses(mailboxes: Iterable[Address | tuple[str, str]]) -> str:
    """The value of an address header, folded already: lines joined by CRLF + space."""
    tokens: list[str] = []
    for mailbox in mailboxes:
        if isinstance(mailbox, Address):
            name, email = mailbox.display_name, mailbox.addr_spec
        else:
            name, email = mailbox
        if tokens:
            tokens[-1] += ","
        tokens.extend(_mailbox_tokens(name, email))
    if not tokens:
        raise ValueError("an address header needs at least one address")
    lines, current = [], ""
    for token in tokens:
        if current and len(current) + 1 + len(token) > 70:
            lines.append(current)
            current = token
        else:
            current = f"{current} {token}" if current else token
    lines.append(current)
    return "\r\n ".join(lines)


def set_addresses(
    message: EmailMessage, header: str, mailboxes: Iterable[Address | tuple[str, str]]
) -> None:
    """Set From/To/Cc/Reply-To to exactly these mailboxes, replacing any value it had."""
    if header not in ADDRESS_HEADERS:
        raise ValueError(f"{header} is not an address header")
    del message[header]
    message.set_raw(header, format_addresses(mailboxes))


def stamp(message: EmailMessage, sender_email: str, message_id: str | None = None) -> None:
    """Give a message its Date (now) and Message-ID (the one given, or a new one in the
    sender's domain), replacing any it had."""
    domain = (sender_email or "").rpartition("@")[2] or "localhost"
    del message["Date"]
    message["Date"] = format_datetime(now_utc())
    del message["Message-ID"]
    message["Message-ID"] = clean_name(message_id) if message_id else make_msgid(domain=domain)


def address_message(
    message: EmailMessage,
    *,
    sender: Address | tuple[str, str],
    to: Iterable[Address | tuple[str, str]],
    cc: Iterable[Address | tuple[str, str]] = (),
    message_id: str | None = None,
) -> EmailMessage:
    """The one builder every message kind uses: From, To, optional Cc, Date, Message-ID."""
    sender_email = sender.addr_spec if isinstance(sender, Address) else sender[1]
    set_addresses(message, "From", [sender])
    set_addresses(message, "To", list(to))
    cc = list(cc)
    if cc:
        set_addresses(message, "Cc", cc)
    stamp(message, sender_email, message_id)
    return message
