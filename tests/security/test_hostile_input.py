"""Hostile input: every form of every page, and every JSON write of the API, fed with long
strings, control characters, HTML and script, SQL fragments, CRLF in header-bound fields,
impossible dates and unknown time zones, bidirectional and zero-width characters and emoji.

The forms are found by walking the app's pages (as the demo's coordinator) and parsing their
HTML, so a new form is fed without anyone listing it. Each answer must be a clear refusal or a
success, never a 500; a refusal saves nothing (the whole database is compared before and after);
a success stores the text as sent and every page shows it escaped. Mail queued for people with
hostile names carries no injected header, and a real SMTP server receives it for the expected
recipients only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed, NotFound

from fieldwork.extensions import db
from tests.demo_urls import argument_values, build_url, unknown_arguments
from tests.security.conftest import World, ask, changes_between, database_state, log_in

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
CRLF = "Name\r\nBcc: evil@example.com"

#: The hostile values, by name. Each goes into every field of a form at once.
PAYLOADS = {
    "long": "A" * 100_000,
    "control": "a\x01\x08\x1b[31m\x7f\tb",
    "nul": "a\x00b",
    "script": SCRIPT,
    "attribute": ATTRIBUTE,
    "sql": "' OR 1=1 --",
    "sql_drop": "Robert'); DROP TABLE participant;--",
    "crlf": CRLF,
    "impossible_date": "2026-02-30",
    "far_date": "99999-01-01",
    "zone": "Mars/Olympus",
    "bidi": "\u202eevil\u200b\u200d\ufeff",
    "emoji": "Zoë 😀👩‍👩‍👧",
}

#: Payloads that a text field may store as they are: if they were saved, they are found intact.
STORABLE = ("script", "attribute", "sql", "sql_drop", "crlf", "bidi", "emoji")

#: Markup that must never reach a page unescaped.
RAW_MARKUP = ("<script>alert(1)", "<img src=x onerror")

#: What werkzeug parses of a form before it answers 413 (its default max_form_memory_size).
MAX_FORM_MEMORY = 500_000

#: Fields a browser never sends as typed text.
NOT_TEXT = {"csrf_token"}

#: Words in an endpoint's name that mean it removes something: such forms go last.
DESTRUCTIVE = ("delete", "revoke", "remove", "erase", "withdraw", "cancel", "logout")


@dataclass
class FormField:
    name: str
    kind: str  # input type, "select" or "textarea"
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    page: str
    method: str
    action: str
    fields: dict[str, FormField] = field(default_factory=dict)
    endpoint: str = ""
    #: Sent without logging in (the login form).
    is_anonymous: bool = False

    @property
    def text_fields(self) -> list[str]:
        return [
            name
            for name, item in self.fields.items()
            if item.kind in ("text", "textarea", "search", "password", "tel")
            and name not in NOT_TEXT
        ]

    def valid_values(self) -> dict[str, str]:
        """The form as a person might fill it: the page's values, a choice in each list, a
        date and a time where asked."""
        values = {}
        for name, item in self.fields.items():
            if item.kind in ("select", "radio"):
                values[name] = item.value or next((o for o in item.options if o), "")
            elif item.kind == "date":
                values[name] = item.value or "2031-03-12"
            elif item.kind == "time":
                values[name] = item.value or "10:00"
            elif item.kind == "number":
                values[name] = item.value or "1"
            elif item.kind == "email":
                values[name] = item.value or "hostile@example.org"
            elif item.kind == "url":
                values[name] = item.value or "https://example.org/"
            elif item.kind == "checkbox":
                if item.value:
                    values[name] = item.value
            elif item.kind != "file":
                values[name] = item.value
        return values


class FormParser(HTMLParser):
    """The forms of a page with their fields (names, kinds, page values, options)."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self._select: FormField | None = None
        self._textarea: FormField | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append(
                Form(self.page, a.get("method", "get").upper(), a.get("action") or self.page)
            )
        elif not self.forms or not a.get("name") and tag != "option":
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "reset", "image"):
                return
            existing = self.forms[-1].fields.get(a["name"])
            if kind in ("radio", "checkbox") and existing is not None:
                existing.options.append(a.get("value", "on"))
                if "checked" in a:
                    existing.value = a.get("value", "on")
                return
            value = a.get("value", "")
            if kind in ("radio", "checkbox") and "checked" not in a:
                value = ""
            self.forms[-1].fields[a["name"]] = FormField(
                a["name"], kind, value, [a.get("value", "on")]
            )
        elif tag == "select":
            self._select = FormField(a["name"], "select")
            self.forms[-1].fields[a["name"]] = self._select
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.value = a.get("value", "")
        elif tag == "textarea":
            self._textarea = FormField(a["name"], "textarea")
            self.forms[-1].fields[a["name"]] = self._textarea

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data


def page_urls(app: Flask, world: World) -> list[str]:
    urls = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        assert not unknown_arguments(rule), rule.rule
        values = argument_values(rule, world.demo, "coordinator")
        if None not in values.values():
            urls.append(build_url(rule, values))
    return urls


def discover_forms(app: Flask, world: World, client) -> list[Form]:
    """Every distinct form (by method and action) on the coordinator's pages, with fields."""
    adapter = app.url_map.bind("localhost")
    found: dict[tuple[str, str], Form] = {}
    anonymous = app.test_client()
    pages = [(client, url) for url in page_urls(app, world)] + [(anonymous, "/login")]
    for visitor, url in pages:
        answer = ask(visitor, url)
        if answer.status_code != 200 or answer.mimetype != "text/html":
            continue
        if url.startswith("/book/") and "?" not in url:
            # The booking form appears once a day and a time are chosen: follow the first
            # day link, then the first time link, as a participant taps them.
            for pattern in (r'href="([^"]*\?[^"]*day=[^"]*)"', r'href="([^"]*slot=[^"]*)"'):
                found_link = re.search(pattern, answer.text)
                if found_link:
                    url = found_link.group(1).replace("&amp;", "&")
                    answer = ask(visitor, url)
        parser = FormParser(url)
        parser.feed(answer.text)
        for form in parser.forms:
            action = urlsplit(form.action).path or url
            try:
                form.endpoint, _ = adapter.match(action, method=form.method)
            except (NotFound, MethodNotAllowed):
                continue
            form.action = action
            # Public forms (token links) are sent without the coordinator's session, as their
            # users would: setting a password through a link logs its own user in.
            view = app.view_functions.get(form.endpoint)
            form.is_anonymous = visitor is anonymous or getattr(view, "is_public", False)
            usable = [name for name in form.fields if name not in NOT_TEXT]
            if usable:
                found.setdefault((form.method, action), form)
    return sorted(
        found.values(),
        key=lambda f: (any(word in f.endpoint for word in DESTRUCTIVE), f.endpoint, f.action),
    )


def _texts(value: Any) -> Iterator[str]:
    """The strings in a column's value, inside JSON too."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict | list | tuple):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _texts(item)


def new_strings(before: dict, after: dict) -> set[str]:
    """The text values of the rows that are new or changed between two database states."""
    strings = set()
    for name, rows in after.items():
        old = {repr(row) for row in before[name]}
        for row in rows:
            if repr(row) not in old:
                strings.update(_texts(row))
    return strings


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    successes: int = 0
    refusals: int = 0
    #: The database as the last submission left it (None: read it again).
    state: dict | None = None


def _submit(client, form: Form, data: dict[str, str], label: str, findings: Findings) -> None:
    """Send one hostile submission and judge the answer."""
    before = findings.state or database_state()
    findings.state = None
    if form.is_anonymous:
        client = client.application.test_client()
    if form.method == "GET":
        answer = ask(client, form.action, "GET", query_string=data)
    else:
        answer = ask(client, form.action, "POST", data=data)
    where = f"{form.method} {form.action} ({form.endpoint}) with {label}"
    if answer.status_code >= 500:
        findings.problems.append(f"{where}: {answer.status_code}")
        return
    if answer.mimetype == "text/html" and any(markup in answer.text for markup in RAW_MARKUP):
        findings.problems.append(f"{where}: the answer shows the markup unescaped")
    after = database_state()
    findings.state = after
    changed = changes_between(before, after)
    if answer.status_code >= 400:
        findings.refusals += 1
        if changed:
            findings.problems.append(f"{where}: refused ({answer.status_code}) yet saved {changed}")
        return
    if not changed:
        return
    findings.successes += 1
    kind = label.split(" ")[0]
    stored = new_strings(before, after)
    if kind in STORABLE and form.text_fields and not any(PAYLOADS[kind] in v for v in stored):
        findings.problems.append(f"{where}: saved, but the text is not stored as sent")
    if answer.location:
        findings.state = None
        shown = ask(client, answer.location)
        if shown.mimetype == "text/html" and any(m in shown.text for m in RAW_MARKUP):
            findings.problems.append(f"{where}: {answer.location} shows the markup unescaped")


@pytest.fixture
def coordinator(app, world):
    return log_in(app, "coordinator")


def test_no_form_answers_500_or_half_saves_whatever_it_is_fed(app, world, coordinator):
    """Each form gets each payload in every field at once, then in its text fields only (the
    rest filled sensibly, so that some submissions succeed; the long string in each text field
    alone where together they would be too big to send): never a 500, nothing saved on a
    refusal, text stored as sent and escaped."""
    forms = discover_forms(app, world, coordinator)
    endpoints = {form.endpoint for form in forms}
    assert {"sampling.new_participant", "frame.new_organisation", "accounts.login"} <= endpoints
    assert {"recruitment.online_consent", "feeds.book_slot", "sampling.participants"} <= endpoints
    findings = Findings()
    short = [label for label in PAYLOADS if label != "long"]
    # The long string last: once stored, it makes every later comparison slower.
    for labels in (short, ["long"]):
        for form in forms:
            for label in labels:
                _feed(coordinator, form, label, findings)
    assert not findings.problems, "\n".join(findings.problems)
    assert findings.successes > 20, "too few hostile submissions were accepted to test storage"
    assert findings.refusals > 100


#: Payloads aimed at dates, times and choices: a text field takes them as any other text.
NOT_FOR_TEXT = ("impossible_date", "far_date", "zone")


def _feed(client, form: Form, label: str, findings: Findings) -> None:
    payload = PAYLOADS[label]
    everywhere = {name: payload for name in form.fields if name not in NOT_TEXT}
    only_text = set(everywhere) <= set(form.text_fields)
    if not (label in NOT_FOR_TEXT and only_text):
        _submit(client, form, everywhere, f"{label} in every field", findings)
    if form.text_fields and (label in STORABLE or label == "long") and not only_text:
        data = {**form.valid_values(), **{name: payload for name in form.text_fields}}
        _submit(client, form, data, f"{label} in the text fields", findings)
    if label == "long" and len(form.text_fields) * len(payload) > MAX_FORM_MEMORY:
        # Together they exceed what a request may carry (413): try each one alone.
        for name in form.text_fields:
            data = {**form.valid_values(), name: payload}
            _submit(client, form, data, f"long in {name}", findings)


def test_every_page_shows_stored_hostile_text_escaped(app, world, coordinator):
    """After hostile names are stored in a participant and an organisation (as an import
    might), no page a coordinator or an interviewer opens contains the markup unescaped (JSON
    answers carry it as data, served as application/json with nosniff)."""
    from fieldwork.sampling.models import Organisation, Participant
    from tests.demo_urls import participant_for

    person = participant_for(world.demo, "interviewer")
    person.name, person.notes, person.job_title = SCRIPT, ATTRIBUTE, SCRIPT
    organisation = db.session.get(Organisation, person.organisation_id)
    organisation.name = ATTRIBUTE + " Ltd"
    db.session.commit()
    assert db.session.scalar(select(Participant.name).where(Participant.id == person.id)) == SCRIPT
    problems = []
    for viewer, client in (
        ("coordinator", coordinator),
        ("interviewer", log_in(app, "interviewer")),
    ):
        for url in page_urls(app, world):
            answer = ask(client, url)
            if answer.mimetype == "text/html" and any(m in answer.text for m in RAW_MARKUP):
                problems.append(f"{viewer} GET {url} shows the markup unescaped")
            if answer.status_code >= 500:
                problems.append(f"{viewer} GET {url}: {answer.status_code}")
    assert not problems, "\n".join(problems)


# --- The JSON API ----------------------------------------------------------------------------


def _api_writes(app: Flask, world: World) -> list[tuple[str, list[str]]]:
    """Each JSON write path (filled from the demo) with its request body's field names, read
    from the OpenAPI document."""
    document = ask(app.test_client(), "/api/v1/openapi.json").json
    schemas = document.get("components", {}).get("schemas", {})
    writes = []
    adapter = app.url_map.bind("localhost")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method.upper() not in ("POST", "PUT", "PATCH", "DELETE"):
                continue
            schema = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
            )
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
            fields = sorted(schema.get("properties", {}))
            sample_path = re.sub(r"\{[^}]+\}", "1", document["servers"][0]["url"] + path)
            endpoint, _ = adapter.match(sample_path, method=method.upper())
            rule = next(app.url_map.iter_rules(endpoint=endpoint))
            url = build_url(rule, argument_values(rule, world.demo, "coordinator"))
            writes.append((url, fields))
    return writes


def test_no_api_write_answers_500_or_half_saves(app, world):
    """Each JSON write gets each payload in every field, as a string and wrapped in a list
    and an object, and bodies that are not JSON at all: a 4xx with JSON, never a 500; a
    refusal saves nothing."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {world.demo.api_tokens['coordinator']}"
    writes = _api_writes(app, world)
    assert len(writes) >= 3, writes
    problems = []
    for url, fields in writes:
        bodies: list[tuple[str, Any]] = []
        for label, payload in PAYLOADS.items():
            bodies.append((label, {name: payload for name in fields}))
        bodies += [
            ("lists", {name: [PAYLOADS["script"]] for name in fields}),
            ("objects", {name: {"$gt": ""} for name in fields}),
            ("huge numbers", {name: 10**30 for name in fields}),
            ("negative numbers", {name: -1 for name in fields}),
        ]
        for label, body in bodies:
            before = database_state()
            answer = ask(client, url, "POST", json=body)
            after = database_state()
            if answer.status_code >= 500:
                problems.append(f"POST {url} with {label}: {answer.status_code}")
            elif answer.status_code >= 400 and changes_between(before, after):
                problems.append(f"POST {url} with {label}: refused yet saved")
            elif answer.status_code < 400 and label in STORABLE:
                problems.append(f"POST {url} accepted {label} in every field")
        for raw in (b"{not json", b"\xff\xfe", b"[]", b'"text"', b"null"):
            answer = ask(client, url, "POST", data=raw, content_type="application/json")
            if answer.status_code >= 500 or answer.mimetype != "application/json":
                problems.append(f"POST {url} with body {raw!r}: {answer.status_code}")
    assert not problems, "\n".join(problems)


# --- Mail ------------------------------------------------------------------------------------

#: Headers a queued message may carry; anything else would have been injected.
MAIL_HEADERS = {
    "from",
    "to",
    "cc",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "auto-submitted",
    "x-auto-response-suppress",
    "list-unsubscribe",
    "precedence",
}


def test_mail_about_people_with_crlf_in_their_names_carries_no_injected_header(
    app, world, smtp_server
):
    """A participant, an interviewer, a study and its organiser named with CRLF and a Bcc
    line: the invitations and the booking-link mail queued for them parse with only the
    expected headers and recipients, and the SMTP server gets them for those recipients only."""
    from fieldwork.outbox.models import OutboxMessage
    from fieldwork.outbox.sending import send_due
    from fieldwork.sampling.models import Study
    from fieldwork.scheduling.booking import book_appointment
    from fieldwork.scheduling.checks import BookingRequest
    from fieldwork.scheduling.links import send_booking_link
    from fieldwork.scheduling.models import AppointmentMode
    from tests.demo_urls import participant_for

    demo = world.demo
    interviewer = demo.users["interviewer"]
    person = participant_for(demo, "interviewer")
    person.name = CRLF
    person.email = "hostile.person@example.org"
    interviewer.name = "Kath\r\nBcc: evil@example.com"
    study = db.session.get(Study, demo.study.id)
    study.name = "Study\r\nBcc: evil@example.com"
    study.organiser_name = "Team\r\nBcc: evil@example.com"
    db.session.commit()
    queued_before = {row.id for row in db.session.scalars(select(OutboxMessage))}
    starts_at = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    book_appointment(
        study,
        person,
        interviewer,
        BookingRequest(
            starts_at=starts_at,
            minutes=60,
            mode=AppointmentMode.IN_PERSON,
            location="Room 1\r\nBcc: evil@example.com",
        ),
        demo.users["coordinator"],
        confirmed=True,
    )
    send_booking_link(
        person,
        interviewer,
        demo.users["coordinator"],
        lambda token: f"https://fieldwork.example.org/book/{token}",
        mode=AppointmentMode.TELEPHONE,
    )
    db.session.expire_all()
    queued = [
        row for row in db.session.scalars(select(OutboxMessage)) if row.id not in queued_before
    ]
    assert len(queued) >= 2, "the booking and the link should each queue mail"
    expected = {"hostile.person@example.org", interviewer.email}
    for row in queued:
        message = message_from_bytes(row.raw, policy=default)
        names = {name.lower() for name in message}
        assert "bcc" not in names and names <= MAIL_HEADERS, names
        recipients = {
            a.addr_spec for h in ("to", "cc") for a in getattr(message[h], "addresses", ())
        }
        assert recipients <= expected, recipients
        assert "\n" not in str(message["subject"]) and "\r" not in str(message["subject"])
        assert "evil@example.com" not in ",".join(recipients) + row.recipients
    send_due()
    ours = {row.message_id for row in queued}
    received = [item for item in smtp_server.messages if item.message["Message-ID"] in ours]
    assert len(received) == len(queued)
    for item in received:
        assert set(item.rcpt_tos) <= expected, item.rcpt_tos
        assert "bcc" not in {name.lower() for name in item.message}


@pytest.mark.parametrize(
    "name", ["A" * 100_000, "A" * 300, "Mars/Olympus", "../../etc/passwd", "", "Europe/London\n"]
)
def test_a_hostile_time_zone_name_is_just_invalid(name):
    """Found by the form feed above: a zone name too long for the file system raised OSError
    (a 500 on the account page) instead of reading as an unknown zone."""
    from fieldwork.core.time import is_valid_timezone

    assert is_valid_timezone("Europe/London")
    assert not is_valid_timezone(name)
