"""The only code that talks SMTP (stdlib smtplib), configured by the app's SMTP_* settings."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses

from flask import current_app

TIMEOUT_SECONDS = 10


class PermanentSendError(Exception):
    """The server refused the message for good (a 5xx answer); retrying will not help."""


def open_connection() -> smtplib.SMTP:
    """A logged-in connection to the configured server (STARTTLS when SMTP_USE_TLS)."""
    config = current_app.config
    connection = smtplib.SMTP(
        config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=TIMEOUT_SECONDS
    )
    try:
        if config.get("SMTP_USE_TLS"):
            connection.starttls()
        if config.get("SMTP_USERNAME"):
            connection.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD", ""))
    except BaseException:
        connection.close()
        raise
    return connection


def envelope_recipients(message: EmailMessage) -> list[str]:
    """The addresses in To and Cc: the envelope we send to (never anything else)."""
    fields = [str(value) for name in ("To", "Cc") for value in message.get_all(name, [])]
    return [address for _, address in getaddresses(fields) if address]


def send_raw(
    sender: str,
    recipients: list[str],
    raw: bytes,
    connection: smtplib.SMTP | None = None,
) -> dict[str, tuple[int, bytes]]:
    """Hand one message to the server; returns the recipients it refused (if others were
    accepted). Raises PermanentSendError on a 5xx answer, other exceptions otherwise."""
    own = connection is None
    connection = connection or open_connection()
    try:
        return connection.sendmail(sender, recipients, raw)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            raise PermanentSendError(f"all recipients refused: {error.recipients}") from error
        raise
    except smtplib.SMTPResponseException as error:
        if error.smtp_code >= 500:
            raise PermanentSendError(f"{error.smtp_code} {error.smtp_error!r}") from error
        raise
    finally:
        if own:
            try:
                connection.quit()
            except smtplib.SMTPException:
                connection.close()


def send_message(message: EmailMessage) -> dict[str, tuple[int, bytes]]:
    """Send a message to its To and Cc addresses; the envelope sender is its From address."""
    senders = getaddresses([str(message["From"])])
    return send_raw(senders[0][1], envelope_recipients(message), message.as_bytes(policy=SMTP))
