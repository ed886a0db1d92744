"""What the API toolkit keeps: the responses of writes sent with an Idempotency-Key."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldwork.core.time import UTCDateTime, now_utc
from fieldwork.extensions import Model


class IdempotencyKey(Model):
    """One API write sent with an `Idempotency-Key` header, and the answer it got.

    The unique (user, key) pair decides between concurrent requests: the one whose row is
    inserted acts, the others wait for its answer. Kept for a day, then swept."""

    __tablename__ = "idempotency_key"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_idempotency_key_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The token's owner: keys are per user, so one user's key never meets another's.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    #: The header's value, as the client sent it.
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    #: The path with its query string.
    path: Mapped[str] = mapped_column(String(2000))
    #: Hex SHA-256 of method, path and body: a retry must send the same request.
    request_hash: Mapped[str] = mapped_column(String(64))
    #: The answer's status; None while the first request is still being handled.
    status_code: Mapped[int | None]
    #: The answer's body (JSON text), replayed to a retry.
    response_body: Mapped[str | None] = mapped_column(Text)
    #: The answer's headers that a retry must see again (Content-Type, Location).
    response_headers: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: After this the key is forgotten (swept) and may be used again.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
