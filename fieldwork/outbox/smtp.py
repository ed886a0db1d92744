"""The only code that talks SMTP (stdlib smtplib), configured by the app's SMTP_* settings.

Timeouts are long enough for a slow server's answer to DATA (SMTP_DATA_TIMEOUT, 90 seconds
by default; RFC 5321 allows ten) and short for everything before it (SMTP_TIMEOUT). A failure
after the whole message went out but before the server answered is reported as
UnconfirmedSendError: the message may have arrived, so the outbox must not simply resend it.
"""

from __future__ import annotations

import re
import smtplib

from flask import current_app

#: What the outbox says of messages it keeps because no mail server is configured.
NOT_CONFIGURED = "not sent: no mail server configured"


class PermanentSendError(Exception):
    """The server refused the message for good (a 5xx answer); retrying will not help."""


class UnconfirmedSendError(Exception):
    """The message went out whole but the server's answer never came: it may have arrived."""


def is_configured() -> bool:
    """True when SMTP_HOST names a mail server (it is empty by default)."""
    return bool(current_app.config["SMTP_HOST"].strip())


def timeouts() -> tuple[float, float]:
    config = current_app.config
    return (
        float(config["SMTP_TIMEOUT"]),
        float(config["SMTP_DATA_TIMEOUT"]),
    )


def open_connection() -> smtplib.SMTP:
    """A logged-in connection to the configured server (STARTTLS when SMTP_USE_TLS)."""
    config = current_app.config
    if not is_configured():
        raise smtplib.SMTPConnectError(0, NOT_CONFIGURED)
    connection = smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=timeouts()[0])
    try:
        if config["SMTP_USE_TLS"]:
            connection.starttls()
        if config["SMTP_USERNAME"]:
            connection.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
    except BaseException:
        connection.close()
        raise
    return connection


def _angle(address: str) -> str:
    """An addr-spec as a path in MAIL FROM / RCPT TO (an empty sender is the null path)."""
    return f"<{address.strip()}>"


def _dot_stuffed(raw: bytes) -> bytes:
    data = re.sub(rb"(?m)^\.", b"..", raw)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _transaction(
    connection: smtplib.SMTP, sender: str, recipients: list[str], raw: bytes
) -> dict[str, tuple[int, bytes]]:
    """MAIL, RCPT, DATA as smtplib's sendmail does, but knowing when the message is out."""
    connection.ehlo_or_helo_if_needed()
    options = [f"SIZE={len(raw)}"] if connection.has_extn("size") else []
    # MAIL and RCPT as smtplib's mail() and rcpt() send them, without their quoteaddr(): the
    # outbox stores bare addr-specs written by the email package, and parsing each again
    # with email.utils.parseaddr was a tenth of a sweep's sending.
    connection.putcmd("mail", f"FROM:{_angle(sender)}{''.join(' ' + o for o in options)}")
    code, answer = connection.getreply()
    if code != 250:
        connection.rset()
        raise smtplib.SMTPSenderRefused(code, answer, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for recipient in recipients:
        connection.putcmd("rcpt", f"TO:{_angle(recipient)}")
        code, answer = connection.getreply()
        if code not in (250, 251):
            refused[recipient] = (code, answer)
    if len(refused) == len(recipients):
        connection.rset()
        raise smtplib.SMTPRecipientsRefused(refused)
    connection.putcmd("data")
    code, answer = connection.getreply()
    if code != 354:
        connection.rset()
        raise smtplib.SMTPDataError(code, answer)
    connection.send(_dot_stuffed(raw))
    # From here on the server has the whole message: give it time to answer, and report a
    # silence as "may have arrived", never as a plain failure that would be resent.
    try:
        if connection.sock is not None:
            connection.sock.settimeout(timeouts()[1])
        code, answer = connection.getreply()
    except (OSError, smtplib.SMTPException) as error:
        raise UnconfirmedSendError(
            f"the server took the message but never confirmed it ({type(error).__name__}: "
            f"{error}); it may have arrived"
        ) from error
    finally:
        if connection.sock is not None:
            connection.sock.settimeout(timeouts()[0])
    if code != 250:
        raise smtplib.SMTPDataError(code, answer)
    return refused


def send_raw(
    connection: smtplib.SMTP, sender: str, recipients: list[str], raw: bytes
) -> dict[str, tuple[int, bytes]]:
    """Hand one message to the server over an open connection; returns the recipients it
    refused (if others were accepted). Raises PermanentSendError on a 5xx answer,
    UnconfirmedSendError when the answer to DATA never came, other exceptions otherwise."""
    try:
        return _transaction(connection, sender, recipients, raw)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            raise PermanentSendError(f"all recipients refused: {error.recipients}") from error
        raise
    except smtplib.SMTPResponseException as error:
        if error.smtp_code >= 500:
            raise PermanentSendError(f"{error.smtp_code} {error.smtp_error!r}") from error
        raise
