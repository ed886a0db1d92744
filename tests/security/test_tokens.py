"""Every kind of token (API bearer token, consent link, booking link, calendar feed) carries at
least 128 bits of randomness, is stored only as a hash, is looked up by that hash, and when it
no longer works (revoked, replaced, expired) or never existed, every route it opens answers a
clear 404 or 410, never a 500."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from fieldwork.accounts import services as accounts
from fieldwork.accounts.models import User
from fieldwork.core.time import now_utc, set_clock
from fieldwork.extensions import db
from fieldwork.recruitment.links import create_consent_link, revoke_consent_link
from fieldwork.recruitment.models import ConsentFormVersion
from fieldwork.sampling.models import Participant
from fieldwork.scheduling.feed_tokens import regenerate_feed_token, revoke_feed
from fieldwork.scheduling.links import create_booking_link, revoke_booking_link
from fieldwork.scheduling.models import AppointmentMode
from tests.factories import make_participant, make_study, make_user
from tests.recruitment.helpers import make_published_version
from tests.security.conftest import ask, database_state

#: Routes each kind of link opens (method, URL pattern), all of which must refuse a dead token.
TOKEN_ROUTES = {
    "consent": [
        ("GET", "/consent/{}"),
        ("POST", "/consent/{}"),
        ("GET", "/consent/{}/withdraw"),
        ("POST", "/consent/{}/withdraw"),
    ],
    "booking": [("GET", "/book/{}"), ("POST", "/book/{}"), ("POST", "/book/{}/cancel")],
    "feed": [("GET", "/calendar/{}.ics")],
}

#: What the clear page says, by kind, for a link that is gone (a few words of it).
GONE_WORDS = {
    "consent": ("expired", "withdrawn", "revoked", "no longer"),
    "booking": ("expired", "withdrawn"),
    "feed": ("no calendar feed",),
}


@dataclass
class Tokens:
    """One fresh token of each kind, with ways to make it stop working."""

    api: str
    consent: str
    booking: str
    feed: str
    revoke: dict[str, Callable[[], None]]


@dataclass
class People:
    coordinator: User
    interviewer: User
    participant: Participant
    version: ConsentFormVersion


@pytest.fixture
def people(app) -> People:
    """A coordinator, an interviewer and their participant, and a published consent form."""
    study = make_study()
    interviewer = make_user("interviewer")
    return People(
        make_user("coordinator"),
        interviewer,
        make_participant(study, interviewer_id=interviewer.id),
        make_published_version(study),
    )


def _make_tokens(people: People) -> Tokens:
    coordinator, interviewer = people.coordinator, people.interviewer
    person, version = people.participant, people.version
    api_row, api = accounts.create_api_token(interviewer, "to revoke")
    consent_link, consent = create_consent_link(person, version, coordinator)
    booking_link, booking = create_booking_link(
        person, interviewer, coordinator, mode=AppointmentMode.TELEPHONE
    )
    db.session.commit()
    feed = regenerate_feed_token(interviewer)
    api_id, consent_id, booking_id = api_row.id, consent_link.id, booking_link.id

    def revoke_consent() -> None:
        from fieldwork.recruitment.models import ConsentLink

        revoke_consent_link(db.session.get(ConsentLink, consent_id), coordinator)

    def revoke_booking() -> None:
        revoke_booking_link(booking_id, person)

    return Tokens(
        api=api,
        consent=consent,
        booking=booking,
        feed=feed,
        revoke={
            "api": lambda: accounts.revoke_api_token(interviewer, api_id),
            "consent": revoke_consent,
            "booking": revoke_booking,
            "feed": lambda: revoke_feed(interviewer),
        },
    )


@pytest.fixture
def tokens(people: People) -> Tokens:
    return _make_tokens(people)


def _random_part(kind: str, token: str) -> bytes:
    """The random bytes inside a token (URL-safe base64, after any fixed prefix)."""
    if kind == "api":
        assert token.startswith(accounts.TOKEN_PREFIX)
        token = token.removeprefix(accounts.TOKEN_PREFIX)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


@pytest.mark.parametrize("kind", ["api", "consent", "booking", "feed"])
def test_every_token_carries_at_least_128_bits_of_randomness(people, kind):
    """Each token decodes to at least 16 random bytes, and two tokens never share them."""
    first, second = getattr(_make_tokens(people), kind), getattr(_make_tokens(people), kind)
    for token in (first, second):
        assert len(_random_part(kind, token)) * 8 >= 128
    assert _random_part(kind, first) != _random_part(kind, second)


@contextmanager
def sql_parameters() -> Iterator[list[str]]:
    """Collect the parameters of every SQL statement run inside the block, as text."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(repr(parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def _dump_text() -> str:
    return repr(database_state())


@pytest.mark.parametrize("kind", ["api", "consent", "booking", "feed"])
def test_only_a_hash_of_each_token_is_stored_and_looked_up(app, tokens, kind):
    """The token's text is nowhere in the database, its SHA-256 is; a request with the token
    looks it up by the hash (the token itself never reaches the database, so no comparison of
    secrets runs character by character there)."""
    token = getattr(tokens, kind)
    stored = _dump_text()
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    client = app.test_client()
    method, pattern = TOKEN_ROUTES.get(kind, [("GET", "/api/v1/studies")])[0]
    headers = {"Authorization": f"Bearer {token}"} if kind == "api" else {}
    with sql_parameters() as parameters:
        answer = ask(client, pattern.format(token), method, headers=headers)
    assert answer.status_code == 200
    assert not any(token in text for text in parameters)
    assert any(hashlib.sha256(token.encode()).hexdigest() in text for text in parameters)


def _assert_refused(app, kind: str, token: str, statuses: set[int], words=()) -> None:
    client = app.test_client()
    before = database_state()
    for method, pattern in TOKEN_ROUTES[kind]:
        answer = ask(client, pattern.format(token), method, data={"slot": "2030-01-01T10:00Z"})
        assert answer.status_code in statuses, f"{method} {pattern}: {answer.status_code}"
        assert "Internal" not in answer.text
        if words:
            assert any(word in answer.text.lower() for word in words), answer.text[:500]
    assert database_state() == before, "a dead token changed something"


@pytest.mark.parametrize("kind", ["consent", "booking", "feed"])
def test_a_revoked_link_gets_a_clear_page_on_every_route(app, tokens, kind):
    """Revoked (or, for a feed, switched off): 410 Gone with a page that says so for links,
    404 for a feed (the address no longer exists), on GET and POST alike."""
    assert (
        ask(app.test_client(), TOKEN_ROUTES[kind][0][1].format(getattr(tokens, kind))).status_code
        == 200
    )
    tokens.revoke[kind]()
    statuses = {404} if kind == "feed" else {410}
    _assert_refused(app, kind, getattr(tokens, kind), statuses, GONE_WORDS[kind])


def test_a_replaced_calendar_feed_address_stops_working(app, tokens, people):
    regenerate_feed_token(people.interviewer)
    _assert_refused(app, "feed", tokens.feed, {404}, GONE_WORDS["feed"])


@pytest.mark.parametrize("kind", ["consent", "booking"])
def test_an_expired_link_gets_a_clear_page_on_every_route(app, tokens, kind):
    """Consent and booking links expire (their issue says so); after that, 410 everywhere."""
    set_clock(lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=400))
    assert now_utc() > dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
    _assert_refused(app, kind, getattr(tokens, kind), {410}, ("expired",))


def test_a_revoked_api_token_is_refused_with_401(app, tokens):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens.api}"}
    assert ask(client, "/api/v1/studies", headers=headers).status_code == 200
    tokens.revoke["api"]()
    answer = ask(client, "/api/v1/studies", headers=headers)
    assert answer.status_code == 401
    assert answer.json["error"]["code"] == 401


GARBAGE = [
    "nonsense",
    "x" * 5000,
    "%00abc",
    "..%2F..%2Fetc%2Fpasswd",
    "%E2%80%AEevil",
    "' OR 1=1 --",
    "%F0%9F%98%80",
]


@pytest.mark.parametrize("kind", ["consent", "booking", "feed"])
def test_an_unknown_overlong_or_garbage_token_answers_404(app, kind):
    """No such link: a plain 404 (never 500), for GET and POST, whatever the token holds."""
    for garbage in GARBAGE:
        _assert_refused(app, kind, garbage, {404})


@pytest.mark.parametrize(
    "token", ["fw_nonsense", "fw_" + "x" * 5000, "nonsense", "fw_%E2%80%AE", "fw_' OR 1=1"]
)
def test_an_unknown_or_garbage_bearer_token_answers_401(app, token):
    answer = ask(app.test_client(), "/api/v1/studies", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
