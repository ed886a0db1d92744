"""Uploaded files kept between the preview and the confirmation of an import."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterable

from flask import Flask, current_app

from fieldwork.core.time import now_utc


class UploadStore:
    """Uploaded files between the preview and the confirmation, named by an unguessable token.

    The files hold personal data, so they live only as long as needed: deleted once imported,
    and swept away after `max_age_seconds` when nobody confirms them.
    """

    TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)

    def __init__(self, folder: str, max_age_seconds: int = 3600) -> None:
        self.folder = folder
        self.max_age_seconds = max_age_seconds

    def save(self, data: bytes) -> str:
        """Keep the file; returns the token that names it."""
        os.makedirs(self.folder, exist_ok=True)
        self.sweep()
        token = secrets.token_urlsafe(32)
        with open(self._path(token), "xb") as handle:
            handle.write(data)
        return token

    def load(self, token: str) -> bytes | None:
        """The file a token names; None for a malformed, unknown or expired token."""
        if not isinstance(token, str) or not self.TOKEN_PATTERN.match(token):
            return None
        path = self._path(token)
        try:
            if self._is_expired(path):
                os.remove(path)
                return None
            with open(path, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def discard(self, token: str) -> None:
        if isinstance(token, str) and self.TOKEN_PATTERN.match(token):
            with contextlib.suppress(FileNotFoundError):
                os.remove(self._path(token))

    def sweep(self) -> None:
        """Delete the uploads nobody confirmed in time."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return
        for name in names:
            path = os.path.join(self.folder, name)
            with contextlib.suppress(FileNotFoundError):
                if name.endswith(".csv") and self._is_expired(path):
                    os.remove(path)

    def discard_holding(self, values: Iterable[str]) -> int:
        """Delete every kept upload that holds one of `values` (any case), as an erasure must.
        Returns how many files were deleted."""
        needles = [value.lower().encode("utf-8") for value in values if value]
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return 0
        deleted = 0
        for name in names:
            path = os.path.join(self.folder, name)
            if not name.endswith(".csv") or not os.path.isfile(path):
                continue
            with open(path, "rb") as handle:
                data = handle.read().lower()
            if any(needle in data for needle in needles):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
                deleted += 1
        return deleted

    def _path(self, token: str) -> str:
        return os.path.join(self.folder, f"{token}.csv")

    def _is_expired(self, path: str) -> bool:
        return now_utc().timestamp() - os.path.getmtime(path) > self.max_age_seconds


def upload_store(app: Flask) -> UploadStore:
    """The app's store of uploads waiting for confirmation (IMPORT_UPLOAD_FOLDER, by default
    instance/imports)."""
    folder = app.config["IMPORT_UPLOAD_FOLDER"] or os.path.join(app.instance_path, "imports")
    return UploadStore(folder)


def on_participant_erased(sender, person, **_) -> None:
    """`participant_erased` receiver: uploads still waiting for confirmation that name the
    person are deleted (an import already confirmed left no file behind)."""
    upload_store(current_app).discard_holding([person.name, person.email, person.phone])
