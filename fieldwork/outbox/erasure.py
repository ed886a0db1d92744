"""Erasure in the outbox: every stored message to or about an erased person loses their details.

Subscribed to `participant_erased` (fieldwork.recruitment.signals), so it runs in the erasure's
transaction. A message is "about" the person when it was addressed to them or when its decoded
text (headers, subject, every text and calendar part, the last error) holds their name, email
or phone, such as the interviewer's invitation that names them or a digest. In such a message
every erased value is replaced (their address by `ERASED_ADDRESS`, their name by
"[name removed]", other values by "[removed]"), in headers, subject, bodies and the calendar
attachment, and the message is then read back: a part that still holds a value (written in a
form the replacement could not see) is replaced whole by a notice. Rows keep their kind, state
and dates, so the outbox still shows that a message went out and when. A message not yet sent
whose only recipient was the person is cancelled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email import message_from_bytes
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses

from sqlalchemy import or_, select

from fieldwork.extensions import db
from fieldwork.invites.headers import set_addresses
from fieldwork.outbox.composing import message_addresses
from fieldwork.outbox.models import OutboxMessage, OutboxState
from fieldwork.outbox.rewriting import replace_all, scrub_part

#: What an erased person's address becomes in stored messages (".invalid" cannot be delivered).
ERASED_ADDRESS = "erased@erased.invalid"
REMOVED_NAME = "[name removed]"
#: What any other erased value becomes.
REMOVED = "[removed]"
#: What a part that still held an erased value after replacement becomes.
PART_REMOVED = "[This part was removed when a participant's personal data was erased.]"
#: Values shorter than this are not searched for in other people's messages (too likely to
#: match unrelated words); they are still replaced in messages already found to be about them.
MIN_VALUE_LENGTH = 3
#: Rows read per batch while scanning a study's messages.
BATCH = 200


def _part_text(part) -> str:
    """A leaf part's decoded text; a calendar's lines unfolded and its escapes undone."""
    payload = part.get_payload(decode=True) or b""
    text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    if part.get_content_type() in ("text/calendar", "application/ics"):
        text = re.sub(r"\r?\n[ \t]", "", text)
        text = text.replace("\\,", ",").replace("\\;", ";").replace("\\n", "\n")
        text = text.replace("\\N", "\n").replace("\\\\", "\\")
    return text


def _message_text(message: EmailMessage) -> str:
    """Everything a reader of the message could see: headers and decoded, unfolded parts."""
    chunks = [f"{name}: {value}" for name, value in message.items()]
    chunks += [_part_text(part) for part in message.walk() if not part.is_multipart()]
    return "\n".join(chunks)


def _holds(text: str, needles: Iterable[str]) -> bool:
    lowered = text.lower()
    return any(needle.lower() in lowered for needle in needles if needle)


def _replacements(name: str, email: str, values: Iterable[str]) -> list[tuple[str, str]]:
    pairs: dict[str, str] = {}
    for value in values:
        if len(value) >= MIN_VALUE_LENGTH or value in (name, email):
            pairs.setdefault(value, REMOVED)
    if email:
        pairs[email] = "[email removed]"
    if name:
        pairs[name] = REMOVED_NAME
    return sorted(pairs.items(), key=lambda pair: -len(pair[0]))


def _scrub_headers(message: EmailMessage, email: str, replacements) -> None:
    for header in ("To", "Cc", "Reply-To"):
        values = message.get_all(header, [])
        if not values:
            continue
        mailboxes = []
        for value in values:
            for mailbox in value.addresses:
                if email and mailbox.addr_spec.lower() == email:
                    mailboxes.append(("", ERASED_ADDRESS))
                else:
                    display = replace_all(mailbox.display_name, replacements)
                    mailboxes.append((display, mailbox.addr_spec))
        try:
            set_addresses(message, header, mailboxes)
        except ValueError:
            # An address stored before addresses were checked: keep it bare, without names.
            del message[header]
            message.set_raw(header, ",\r\n ".join(f"<{address}>" for _, address in mailboxes))
    subject = replace_all(str(message["Subject"] or ""), replacements)
    del message["Subject"]
    message["Subject"] = subject


def _scrub_message(row: OutboxMessage, email: str, replacements, identifying) -> None:
    message = message_from_bytes(row.raw, policy=SMTP)
    _scrub_headers(message, email, replacements)
    for part in message.walk():
        if not part.is_multipart():
            scrub_part(part, replacements)
    # Read back: anything the replacement missed takes its whole part with it.
    for part in message.walk():
        if part.is_multipart():
            continue
        if _holds(_part_text(part), identifying):
            _blank_part(part)
    if _holds("\n".join(f"{k}: {v}" for k, v in message.items()), identifying):
        del message["Subject"]
        message["Subject"] = "[subject removed]"
    row.raw = message.as_bytes(policy=SMTP)
    row.subject = str(message["Subject"] or "")[:998]
    row.last_error = replace_all(row.last_error or "", replacements)
    remaining = [address for address in row.recipient_list if address.lower() != email]
    if len(remaining) != len(row.recipient_list):
        if row.state in (OutboxState.PENDING, OutboxState.FAILED) and not remaining:
            row.state = OutboxState.CANCELLED
            row.last_error = "Not sent: the recipient's personal data was erased."
        row.recipients = ",".join(remaining or [ERASED_ADDRESS])


def _blank_part(part) -> None:
    charset = part.get_content_charset() or "utf-8"
    if part.get("Content-Transfer-Encoding"):
        del part["Content-Transfer-Encoding"]
    part.set_payload(PART_REMOVED.encode(charset).decode(charset))
    part["Content-Transfer-Encoding"] = "7bit"


def scrub_person(
    *, study_id: int | None, email: str, name: str, phone: str, values: Iterable[str]
) -> int:
    """Remove a person's details from every message of the study (and from messages of no
    study) that is to or about them. No commit. Returns how many messages changed."""
    email = (email or "").strip().lower()
    identifying = [v for v in (name, email, phone) if v and len(v) >= MIN_VALUE_LENGTH]
    if not identifying:
        return 0
    replacements = _replacements(name, email, [v for v in values if v])
    scope = or_(OutboxMessage.study_id.is_(None), OutboxMessage.study_id == study_id)
    ids = list(db.session.scalars(select(OutboxMessage.id).where(scope).order_by(OutboxMessage.id)))
    changed = 0
    for start in range(0, len(ids), BATCH):
        batch = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(ids[start : start + BATCH]))
        )
        for row in batch:
            addressed = email and email in (a.lower() for a in row.recipient_list)
            text = _message_text(message_from_bytes(row.raw, policy=SMTP))
            extra = f"{row.recipients}\n{row.subject}\n{row.last_error}"
            if addressed or _holds(text + extra, identifying):
                _scrub_message(row, email, replacements, identifying)
                changed += 1
        db.session.flush()
    return changed


def on_participant_erased(sender, person, **_) -> None:
    """`participant_erased` receiver."""
    scrub_person(
        study_id=person.study_id,
        email=person.email,
        name=person.name,
        phone=person.phone,
        values=person.values,
    )


def scrub_text(*, study_id: int | None, values: Iterable[str]) -> int:
    """Replace other erased values (an appointment's place, notes) in the study's messages
    that hold them, for domains that erase such values in their own rows. No commit."""
    needles = [v for v in values if v and len(v) >= MIN_VALUE_LENGTH]
    if not needles:
        return 0
    replacements = sorted(((v, REMOVED) for v in set(needles)), key=lambda p: -len(p[0]))
    rows = db.session.scalars(
        select(OutboxMessage).where(
            or_(OutboxMessage.study_id.is_(None), OutboxMessage.study_id == study_id)
        )
    ).all()
    changed = 0
    for row in rows:
        if _holds(_message_text(message_from_bytes(row.raw, policy=SMTP)), needles):
            _scrub_message(row, "", replacements, needles)
            changed += 1
    db.session.flush()
    return changed


def _scrub_addresses(message, header: str, email: str, replacement: str) -> None:
    values = message.get_all(header, [])
    if not values:
        return
    mailboxes = []
    for name, address in getaddresses([str(v) for v in values]):
        if address.lower() == email:
            mailboxes.append(Address(addr_spec=replacement))
        else:
            mailboxes.append(Address(display_name=name, addr_spec=address))
    del message[header]
    message[header] = mailboxes


def scrub_recipient(email: str, replacement: str) -> int:
    """Erase a person from stored messages: their address becomes `replacement` (an address
    such as 'erased@invalid') and their name '[name removed]' in the recipients, headers,
    subject and every text and calendar part. Rows and their states stay. No commit.

    Returns the number of messages changed.
    """
    email = email.strip().lower()
    if not email:
        raise ValueError("give the address to remove")
    escaped = email.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipients.ilike(f"%{escaped}%", escape="\\"))
    ).all()
    changed = 0
    for row in rows:
        if email not in [address.lower() for address in row.recipient_list]:
            continue
        message = message_from_bytes(row.raw, policy=SMTP)
        names = {
            name
            for name, address in message_addresses(message, "To", "Cc")
            if address.lower() == email and name.strip()
        }
        replacements = [(email, replacement)] + [
            (name, REMOVED_NAME) for name in sorted(names, key=len, reverse=True)
        ]
        for header in ("To", "Cc"):
            _scrub_addresses(message, header, email, replacement)
        subject = replace_all(str(message["Subject"] or ""), replacements)
        del message["Subject"]
        message["Subject"] = subject
        for part in message.walk():
            if not part.is_multipart():
                scrub_part(part, replacements)
        row.raw = message.as_bytes(policy=SMTP)
        row.subject = subject[:998]
        row.recipients = ",".join(
            replacement if address.lower() == email else address for address in row.recipient_list
        )
        changed += 1
    db.session.flush()
    return changed
