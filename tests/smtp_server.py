"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives.

Use it from any conftest: `from tests.smtp_server import smtp_server` makes the fixture
available; it points the app's SMTP_HOST and SMTP_PORT at the server for the test.
"""

from __future__ import annotations

import contextlib
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


class SilentSMTPServer:
    """A hand-written SMTP server on loopback for faults aiosmtpd cannot play: with
    `greet=False` it accepts connections and never says a word (a hung server); otherwise it
    speaks until the end of DATA, then answers after `data_delay` seconds, or never
    (`answer_data=False`). Counts the messages whose DATA it received."""

    host = "127.0.0.1"

    def __init__(
        self, greet: bool = True, answer_data: bool = True, data_delay: float = 0.0
    ) -> None:
        self.greet, self.answer_data, self.data_delay = greet, answer_data, data_delay
        self.data_received = 0
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, 0))
        self._listener.listen(64)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._connections: list[socket.socket] = []

    def __enter__(self) -> SilentSMTPServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for connection in self._connections:
            with contextlib.suppress(OSError):
                connection.close()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self._connections.append(connection)
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        if not self.greet:
            self._stop.wait()
            return
        reader = connection.makefile("rb")
        try:
            connection.sendall(b"220 silent.test ESMTP\r\n")
            in_data = False
            for line in reader:
                if in_data:
                    if line == b".\r\n":
                        in_data = False
                        self.data_received += 1
                        if not self.answer_data:
                            self._stop.wait()
                            return
                        if self._stop.wait(self.data_delay):
                            return
                        connection.sendall(b"250 2.0.0 accepted\r\n")
                    continue
                command = line.strip().upper()
                if command.startswith((b"EHLO", b"HELO")):
                    connection.sendall(b"250 silent.test\r\n")
                elif command == b"DATA":
                    in_data = True
                    connection.sendall(b"354 go ahead\r\n")
                elif command == b"QUIT":
                    connection.sendall(b"221 bye\r\n")
                    return
                else:
                    connection.sendall(b"250 ok\r\n")
        except OSError:
            return
