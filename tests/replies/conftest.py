"""A real IMAP server (Dovecot on loopback, own throwaway folder and port) and the scheduling
test world, for the calendar-replies tests.

Dovecot runs as root and drops to the `mail` user for the mailboxes, so it needs root and the
`dovecot` binary; without them these tests skip with the reason (CI=true makes that a failure:
.ci/run installs dovecot-imapd). Any user name logs in with PASSWORD (a static passdb), so
each test reads a mailbox of its own.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from imapclient import IMAPClient

from tests.scheduling.conftest import (  # noqa: F401 - fixtures shared with scheduling
    NOW,
    at,
    book,
    calendar_part,
    clock,
    outbox_messages,
    the_event,
    world,
)

PASSWORD = "a-password"  # noqa: S105 - a throwaway test server on loopback
DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={dir}/mail/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
}}
first_valid_uid = 8
"""


@dataclass
class ImapServer:
    host: str
    port: int
    directory: str

    def client(self, user: str) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(user, PASSWORD)
        return client


def _unavailable() -> str | None:
    if DOVECOT is None:
        return "dovecot is not installed (Debian: apt-get install dovecot-imapd)"
    if os.geteuid() != 0:
        return "dovecot must start as root to switch to the mail user"
    return None


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    """Dovecot on 127.0.0.1 and a free port, in a folder of its own; stopped by its PID."""
    reason = _unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the IMAP tests: {reason}")
        pytest.skip(reason)
    directory = tempfile.mkdtemp(prefix="fieldwork-dovecot-")
    os.chmod(directory, 0o755)  # noqa: S103 - Dovecot's own users must reach the folder
    for name in ("run", "state", "mail"):
        os.makedirs(os.path.join(directory, name))
    shutil.chown(os.path.join(directory, "mail"), "mail", "mail")
    port = _free_port()
    config = os.path.join(directory, "dovecot.conf")
    with open(config, "w") as handle:
        handle.write(CONFIG.format(dir=directory, port=port, password=PASSWORD))
    subprocess.run([DOVECOT, "-c", config], check=True, timeout=30)
    pid_file = os.path.join(directory, "run", "master.pid")
    server = ImapServer("127.0.0.1", port, directory)
    deadline = time.monotonic() + 15
    while True:
        try:
            server.client("probe@example.org").logout()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    try:
        yield server
    finally:
        with open(pid_file) as handle:
            os.kill(int(handle.read().strip()), signal.SIGTERM)
        time.sleep(0.3)
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Mailbox:
    """The organiser's mailbox of one test, and the app configured to read it."""

    server: ImapServer
    user: str

    def client(self) -> IMAPClient:
        return self.server.client(self.user)

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        with self.client() as client:
            for message in messages:
                client.append(folder, message)

    def message_ids(self, folder: str) -> list[str]:
        """The Message-ID headers of the messages in a folder (none if it does not exist)."""
        with self.client() as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            if not uids:
                return []
            fetched = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
            return sorted(
                data[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().split(":", 1)[-1].strip()
                for data in fetched.values()
            )

    def count(self, folder: str) -> int:
        with self.client() as client:
            if not client.folder_exists(folder):
                return 0
            return client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"]


@pytest.fixture
def mailbox(app, imap_server) -> Iterator[Mailbox]:
    """A fresh mailbox on the test IMAP server, with the app's IMAP_* settings pointing at it."""
    user = f"organiser-{secrets.token_hex(4)}@example.org"
    saved = {key: value for key, value in app.config.items() if key.startswith("IMAP_")}
    app.config.update(
        IMAP_HOST=imap_server.host,
        IMAP_PORT=imap_server.port,
        IMAP_USERNAME=user,
        IMAP_PASSWORD=PASSWORD,
        IMAP_USE_TLS=False,
        IMAP_USE_STARTTLS=False,
        IMAP_TIMEOUT_SECONDS=10.0,
    )
    yield Mailbox(imap_server, user)
    app.config.update(saved)
