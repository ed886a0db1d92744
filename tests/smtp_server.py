"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives.

Use it from any conftest: `from tests.smtp_server import smtp_server` makes the fixture
available; it points the app's SMTP_HOST and SMTP_PORT at the server for the test.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest
from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server received it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=default)


class _Collector:
    def __init__(self) -> None:
        self.messages: list[ReceivedMessage] = []
        self.lock = threading.Lock()
        #: SMTP answer to give to DATA instead of accepting (e.g. "451 try later").
        self.refuse_with: str | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse_with:
            return self.refuse_with
        with self.lock:
            self.messages.append(
                ReceivedMessage(
                    mail_from=envelope.mail_from,
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    data=bytes(envelope.original_content or envelope.content),
                )
            )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPTestServer:
    """An aiosmtpd server on 127.0.0.1 and a free port; stop() and start() simulate an
    outage on the same port, refuse() makes it answer DATA with an error."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port = free_port()
        self._collector = _Collector()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._collector.lock:
            return list(self._collector.messages)

    def start(self) -> None:
        self._controller = Controller(self._collector, hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, answer: str | None = "451 4.3.0 Try again later") -> None:
        self._collector.refuse_with = answer

    def clear(self) -> None:
        with self._collector.lock:
            self._collector.messages.clear()


@pytest.fixture
def smtp_server(app) -> Iterator[SMTPTestServer]:
    """A running loopback SMTP server, with the app's SMTP settings pointing at it."""
    server = SMTPTestServer()
    server.start()
    saved = {key: app.config.get(key) for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_USE_TLS")}
    app.config.update(SMTP_HOST=server.host, SMTP_PORT=server.port, SMTP_USE_TLS=False)
    try:
        yield server
    finally:
        server.stop()
        app.config.update(saved)
