"""`Idempotency-Key` on every API write: a retried request never acts twice.

A client that may retry a write (POST, PATCH, PUT, DELETE under /api/) sends a key of its
choosing in the `Idempotency-Key` header. The first request with a key claims it (a row whose
unique (user, key) pair decides between concurrent requests) and acts; its successful answer is
stored. A retry with the same key and the same request (method, path and body) gets the stored
answer back, marked `Idempotent-Replayed: true`, without acting again. The same key with another
request is refused (422); a retry that arrives while the first is still being handled waits up
to `WAIT_SECONDS` for its answer, then gets 409. Only successful (2xx) answers are kept: a
refused or failed request changed nothing, so its key is released and a retry acts afresh.
Keys are forgotten after `KEEP_FOR` (`sweep_expired_keys`, a periodic job).

The hooks run on every API write after authentication, so each endpoint gets this without
doing anything. The functions below them hold the rules and never touch `request`.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any, cast

from flask import Flask, Response, current_app, g, request
from flask_login import current_user
from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from fieldwork.accounts.access import READ_METHODS, api_error
from fieldwork.api.models import IdempotencyKey
from fieldwork.core.time import now_utc
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db

HEADER = "Idempotency-Key"
#: Set on an answer that was stored earlier and is sent again.
REPLAYED_HEADER = "Idempotent-Replayed"
#: How long a key is remembered (a client retries within minutes; a day leaves room).
KEEP_FOR = dt.timedelta(hours=24)
#: How long a retry waits for the first request's answer before it gets 409.
WAIT_SECONDS = 2.0
_POLL_SECONDS = 0.05
MAX_KEY_LENGTH = 255
#: The setting naming the seconds between two sweeps of expired keys.
SWEEP_SETTING = "SCHEDULER_IDEMPOTENCY_SWEEP_SECONDS"
#: Response headers a replay repeats (the body's type, where a created thing lives).
_KEPT_HEADERS = ("Content-Type", "Location")
_PENDING = "_idempotency_key_id"


class ClaimOutcome(enum.Enum):
    CLAIMED = "claimed"  # this request acts
    REPLAY = "replay"  # answered before: send the stored answer
    MISMATCH = "mismatch"  # the key was used for another request
    IN_PROGRESS = "in progress"  # the first request is still being handled


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    record: IdempotencyKey


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests the same request: method, path with query, and body."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def key_problem(key: str) -> str | None:
    """Why a header value cannot be a key, or None."""
    if not key.strip():
        return f"{HEADER} must not be empty."
    if len(key) > MAX_KEY_LENGTH:
        return f"{HEADER} must be at most {MAX_KEY_LENGTH} characters."
    if not (key.isascii() and key.isprintable()):
        return f"{HEADER} must be printable ASCII characters."
    return None


def _find(user_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    )


def claim_key(
    user_id: int, key: str, method: str, path: str, fingerprint: str, *, wait: float | None = None
) -> Claim:
    """Claim `key` for this request, or say why not. Commits the claim at once, so that a
    concurrent request with the same key meets the unique constraint and waits (`wait`
    seconds, by default `WAIT_SECONDS`) for the first one's answer."""
    deadline = time.monotonic() + (WAIT_SECONDS if wait is None else wait)
    while True:
        now = now_utc()
        record = _find(user_id, key)
        if record is not None and record.expires_at <= now:
            with transaction():
                db.session.delete(record)
            record = None
        if record is None:
            record = IdempotencyKey(
                user_id=user_id,
                key=key,
                method=method.upper(),
                path=path[:2000],
                request_hash=fingerprint,
                created_at=now,
                expires_at=now + KEEP_FOR,
            )
            try:
                with transaction():
                    db.session.add(record)
            except IntegrityError:
                continue  # another request claimed it first: look again
            return Claim(ClaimOutcome.CLAIMED, record)
        if record.request_hash != fingerprint:
            return Claim(ClaimOutcome.MISMATCH, record)
        if record.status_code is not None:
            return Claim(ClaimOutcome.REPLAY, record)
        if time.monotonic() >= deadline:
            return Claim(ClaimOutcome.IN_PROGRESS, record)
        db.session.rollback()  # end this read, so the next one sees the other's commit
        time.sleep(_POLL_SECONDS)


def store_answer(record_id: int, status_code: int, body: str, headers: dict[str, str]) -> None:
    """Keep the answer a claimed request got, for its retries."""
    with transaction():
        db.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == record_id)
            .values(status_code=status_code, response_body=body, response_headers=headers)
        )


def release_key(record_id: int) -> None:
    """Forget a claim whose request changed nothing (refused or failed): a retry acts."""
    with transaction():
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == record_id))


def sweep_expired_keys() -> int:
    """The periodic job: forget keys older than `KEEP_FOR`. Returns how many."""
    with transaction():
        result = db.session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now_utc())
        )
    return cast(CursorResult[Any], result).rowcount


#: What a stored answer that held an erased person's details is replaced with.
ERASED_STATUS = 410
ERASED_MESSAGE = (
    "The answer to this request held personal details that have since been erased; "
    "it is not sent again."
)


def erase_stored_answers(values: tuple[str, ...], encode) -> int:
    """Replace every stored answer that holds one of `values` (as `encode` writes it into a
    JSON body) with a 410 error, keeping the key so that a retry still does not act. No
    commit: runs inside the erasure's transaction."""
    needles = [encode(value)[1:-1] for value in values if value]
    if not needles:
        return 0
    body = json.dumps({"error": {"code": ERASED_STATUS, "message": ERASED_MESSAGE}})
    result = db.session.execute(
        update(IdempotencyKey)
        .where(or_(*(IdempotencyKey.response_body.contains(n, autoescape=True) for n in needles)))
        .values(
            status_code=ERASED_STATUS,
            response_body=body,
            response_headers={"Content-Type": "application/json"},
        )
    )
    return cast(CursorResult[Any], result).rowcount


def on_participant_erased(sender, person, **_) -> None:
    """`participant_erased` receiver: stored answers lose the person's details."""
    erase_stored_answers(person.values, current_app.json.dumps)


# --- The hooks --------------------------------------------------------------------------------


def _is_api_write() -> bool:
    return (
        request.path.startswith("/api/")
        and request.method not in READ_METHODS
        and request.endpoint is not None
    )


def _replay(record: IdempotencyKey) -> Response:
    response = current_app.response_class(
        record.response_body or "", status=record.status_code, headers=record.response_headers
    )
    response.headers[REPLAYED_HEADER] = "true"
    return response


def claim_before_write() -> Response | None:
    """Before an API write: claim its key, or answer from what was stored."""
    key = request.headers.get(HEADER)
    if key is None or not _is_api_write() or not current_user.is_authenticated:
        return None
    problem = key_problem(key)
    if problem:
        return api_error(400, problem)
    path = request.full_path.rstrip("?")
    fingerprint = request_fingerprint(request.method, path, request.get_data())
    claim = claim_key(current_user.id, key, request.method, path, fingerprint)
    if claim.outcome is ClaimOutcome.CLAIMED:
        g.setdefault(_PENDING, claim.record.id)
        return None
    if claim.outcome is ClaimOutcome.REPLAY:
        return _replay(claim.record)
    if claim.outcome is ClaimOutcome.MISMATCH:
        return api_error(
            422,
            f"This {HEADER} was used for a different request ({claim.record.method} "
            f"{claim.record.path} with another body); send a new key with a new request.",
        )
    return api_error(
        409,
        f"A request with this {HEADER} is still being handled; retry in a moment to get its "
        "answer.",
    )


def store_after_write(response: Response) -> Response:
    """After a claimed write: keep a successful answer; release the key otherwise."""
    record_id = g.pop(_PENDING, None)
    if record_id is None:
        return response
    db.session.rollback()  # whatever the view left uncommitted would be discarded anyway
    if 200 <= response.status_code < 300 and not response.is_streamed:
        headers = {
            name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers
        }
        store_answer(record_id, response.status_code, response.get_data(as_text=True), headers)
    else:
        release_key(record_id)
    return response


def release_after_error(error: BaseException | None) -> None:
    """A write that raised (no answer was stored): release its key."""
    record_id = g.pop(_PENDING, None)
    if record_id is not None:
        db.session.rollback()
        release_key(record_id)


def init_app(app: Flask) -> None:
    """Hook onto every request; registered after accounts', so the caller is known."""
    from fieldwork.core.jobs import register_job
    from fieldwork.recruitment.signals import participant_erased

    register_job(app, "idempotency-sweep", sweep_expired_keys, every=SWEEP_SETTING)
    app.before_request(claim_before_write)
    app.after_request(store_after_write)
    app.teardown_request(release_after_error)
    participant_erased.connect(on_participant_erased)
