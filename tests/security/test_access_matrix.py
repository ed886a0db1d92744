"""Access control as a matrix: every route of the URL map × anonymous, interviewer, coordinator,
and a user of another study.

The routes come from walking `app.url_map`, so a new route is checked (or fails the matrix until
it is classified) without anyone remembering to add it. Studies are the unit of access: a
coordinator of another study only (the last column) sees nothing of the demo study by page,
API, feed, export, outbox or audit trail; and an interviewer cannot reach participants or
appointments that are not theirs, in any study.

CSRF is off here (the `app` fixture), so what answers is the permission check itself; the last
tests turn it on and check that every form POST needs its token.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask
from werkzeug.routing import Rule

from tests.demo_urls import argument_values, build_url, unknown_arguments
from tests.security.conftest import (
    World,
    ask,
    changes_between,
    database_state,
    log_in,
    participant_names,
)

#: Endpoints anyone may use without logging in, and why. A view marked `@public` that is not
#: here fails the matrix, so a new public route cannot slip in unnoticed.
PUBLIC_ENDPOINTS = {
    "accounts.login": "the way in",
    "accounts.forgot_password": "asks for a set-password link by email; says the same for any "
    "address",
    "accounts.set_password": "a set-password link, reached with its private token",
    "core.healthz": "load balancers and monitors ask it; it reveals no data",
    "core.favicon": "browsers ask for it by themselves",
    "static": "stylesheets, scripts and images shipped with the app",
    "api.openapi_document": "the API's description, no data",
    "api_pages.docs": "the API's documentation page (a redirect or page of its own), no data",
    "feeds.self_booking": "a participant's booking page, reached with its private token",
    "feeds.book_slot": "a participant books through the token",
    "feeds.cancel_booking": "a participant cancels through the token",
    "feeds.booking_zone": "a participant chooses their time zone through the token",
    "feeds.booking_ics": "a participant downloads their interview through the token",
    "feeds.interviewer_feed": "an interviewer's calendar app reads the feed with its token",
    "recruitment.online_consent": "a participant's consent form, reached with its token",
    "recruitment.online_withdraw": "a participant withdraws through the token",
}

#: Endpoints every logged-in user may use that carry no row of someone else's in their URL,
#: and why an interviewer may. What they show an interviewer is limited to the interviewer's own
#: rows: the matrix checks that no other participant's name or email appears in them.
SHARED_ENDPOINTS = {
    "home.index": "the home page: only the interviewer's own interviews and people",
    "sampling.overview": "the study overview, in counts",
    "sampling.participants": "lists only the interviewer's own participants",
    "sampling.select_study": "chooses which study the pages show",
    "accounts.account": "the user's own account",
    "accounts.change_password": "the user's own password",
    "accounts.logout": "ends the user's own session",
    "accounts.sign_out_everywhere": "ends the user's own sessions",
    "scheduling.appointments": "lists only the interviewer's own appointments",
    "scheduling.calendar": "shows only the interviewer's own interviews",
    "scheduling.week": "the interviewer's own week",
    "scheduling.windows": "the interviewer's own available times",
    "scheduling.busy_calendars": "the interviewer's own busy calendars",
    "scheduling.feed_settings": "the interviewer's own calendar feed",
    "scheduling.regenerate_feed": "the interviewer's own calendar feed",
    "scheduling.revoke_feed": "the interviewer's own calendar feed",
    "recruitment.follow_ups": "lists only the interviewer's own follow-ups",
    "coverage.dashboard": "coverage of the sample frame, in counts",
    "coverage.csv": "coverage of the sample frame, in counts",
    "coverage.cell": "coverage of one cell of the frame, in counts",
    "coverage.gaps": "coverage gaps of the frame, in counts",
    "imports.example": "an example file with made-up rows",
    "frame.organisations": "the sample frame is shared by the study team",
    "frame.organisation": "the sample frame is shared by the study team",
    "frame.districts": "the sample frame is shared by the study team",
    "frame.district": "the sample frame is shared by the study team",
    "frame.roles": "the sample frame is shared by the study team",
    "frame.role": "the sample frame is shared by the study team",
    "frame.phase": "the sample frame is shared by the study team",
    "frame.studies": "the list of studies (names only)",
    "frame.study": "a study's description",
    "sampling_api.list_studies": "the API's list of studies",
    "sampling_api.get_study": "the API's study",
    "sampling_api.list_phases": "the sample frame is shared by the study team",
    "sampling_api.list_districts": "the sample frame is shared by the study team",
    "sampling_api.get_district": "the sample frame is shared by the study team",
    "sampling_api.list_organisations": "the sample frame is shared by the study team",
    "sampling_api.get_organisation": "the sample frame is shared by the study team",
    "sampling_api.list_roles": "the sample frame is shared by the study team",
    "sampling_api.get_role": "the sample frame is shared by the study team",
    "sampling_api.list_participants": "lists only the interviewer's own participants",
    "scheduling_api.list_appointments": "lists only the interviewer's own appointments",
    "scheduling_api.list_appointments_by_query": "lists only the interviewer's own appointments",
    "scheduling_api.get_availability": "availability of interviewers, no personal data",
    "coverage_api.get_coverage": "coverage of the sample frame, in counts",
    "coverage_api.get_coverage_by_query": "coverage of the sample frame, in counts",
    "pipeline.board": "lists only the interviewer's own held interviews",
}

#: URL arguments that name a row belonging to one interviewer (or to a participant who does).
OWNED_ARGUMENTS = {"participant_id", "appointment_id", "window_id", "calendar_id", "token_id"}

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


#: Routes that end sessions (the caller's own, or anyone's for an administrator): walked last.
SESSION_ENDERS = ("accounts.sign_out_user", "accounts.sign_out_everywhere", "accounts.logout")

#: Words in an endpoint's name that mean it removes something: such routes go last.
DESTRUCTIVE = ("delete", "revoke", "remove", "erase", "withdraw", "cancel")


def routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    """Every (rule, method) of the URL map but HEAD and OPTIONS; routes that remove things
    come after the others, and logging out last of all."""
    rules = sorted(
        app.url_map.iter_rules(),
        key=lambda r: (
            r.endpoint in SESSION_ENDERS,
            SESSION_ENDERS.index(r.endpoint) if r.endpoint in SESSION_ENDERS else 0,
            any(word in r.endpoint for word in DESTRUCTIVE),
            r.rule,
        ),
    )
    for rule in rules:
        for method in METHODS:
            if method in (rule.methods or ()):
                yield rule, method


def is_owned(rule: Rule) -> bool:
    return bool(OWNED_ARGUMENTS & set(rule.arguments)) or rule.endpoint.endswith("_link")


def url_for_rule(rule: Rule, world: World, person: str, **replace) -> str:
    unknown = unknown_arguments(rule)
    assert not unknown, (
        f"{rule.rule} ({rule.endpoint}): no value for {unknown}; add a source in tests/demo_urls.py"
    )
    values = {**argument_values(rule, world.demo, person), **replace}
    values = {name: value for name, value in values.items() if name in rule.arguments}
    assert None not in values.values(), f"{rule.rule}: no demo row for {person}: {values}"
    return build_url(rule, values)


def test_the_public_views_are_exactly_the_allowlist(app):
    """Every view marked public has a reason in PUBLIC_ENDPOINTS, and every endpoint there is
    public; the allowlist is the whole of what works without logging in."""
    marked = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, "is_public", False)
    }
    assert marked - set(PUBLIC_ENDPOINTS) == set(), "public views missing from the allowlist"
    assert set(PUBLIC_ENDPOINTS) - marked == {"static"}, "allowlisted views that are not public"


def test_anonymous_visitors_get_the_login_page_or_401_on_everything_else(app, world):
    """Without a login, every route but the public ones redirects to /login (pages) or answers
    401 with a bearer challenge (the API), whatever the method."""
    client = app.test_client()
    problems = []
    before = database_state()
    for rule, method in routes(app):
        url = url_for_rule(rule, world, "coordinator")
        response = ask(client, url, method, data={})
        if rule.endpoint in PUBLIC_ENDPOINTS:
            if response.status_code >= 500:
                problems.append(f"{method} {url}: {response.status_code}")
        elif url.startswith("/api/"):
            if response.status_code != 401 or "Bearer" not in response.headers.get(
                "WWW-Authenticate", ""
            ):
                problems.append(f"{method} {url}: {response.status_code}, not 401")
        elif response.status_code != 302 or not response.location.startswith("/login?next="):
            problems.append(f"{method} {url}: {response.status_code} {response.location}")
    assert not problems, "\n".join(problems)
    assert not changes_between(before, database_state()), "anonymous requests changed data"


def _refusals(app, world, client, label: str, api_only: bool = False) -> tuple[list, dict]:
    """Requests, as the demo's first interviewer, for the rows of the second interviewer and of
    another study: each must answer 403 or 404 (401 for a session's API write) and change
    nothing. Returns the problems and each owned endpoint's answers."""
    problems, answers = [], {}
    variants = [
        ("another interviewer's", {}),
        (
            "another study's",
            {
                "participant_id": world.other_study_participant.id,
                "appointment_id": world.other_study_appointment_id,
            },
        ),
    ]
    for rule, method in routes(app):
        if rule.endpoint in PUBLIC_ENDPOINTS or not is_owned(rule):
            continue
        if api_only != rule.rule.startswith("/api/"):
            continue
        for variant, replace in variants:
            if replace and not set(replace) & set(rule.arguments):
                continue
            url = url_for_rule(rule, world, "other", **replace)
            before = database_state() if method != "GET" else None
            response = ask(client, url, method, data={})
            allowed = {403, 404}
            if label == "session" and url.startswith("/api/") and method != "GET":
                allowed.add(401)  # the API refuses writes without a bearer token
            answers.setdefault(rule.endpoint, set()).add(response.status_code)
            if response.status_code not in allowed:
                problems.append(f"{label} {method} {url} ({variant} row): {response.status_code}")
            if before is not None:
                changed = changes_between(before, database_state())
                if changed:
                    problems.append(f"{label} {method} {url} changed data: {changed}")
    return problems, answers


def test_an_interviewer_cannot_reach_other_interviewers_rows_by_page_or_guessed_id(app, world):
    """For every route that names a participant, appointment, available time, busy calendar,
    link or token, the rows of another interviewer (in this study or another) answer 403 or
    404 to GET and POST alike, and an empty POST changes nothing."""
    client = log_in(app, "interviewer")
    problems, _ = _refusals(app, world, client, "session")
    assert not problems, "\n".join(problems)


def test_an_interviewer_cannot_reach_other_interviewers_rows_through_the_api(app, world):
    """The same through the JSON API with the interviewer's own bearer token."""
    client = app.test_client()
    token = world.demo.api_tokens["interviewer"]
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    problems, answers = _refusals(app, world, client, "bearer", api_only=True)
    assert not problems, "\n".join(problems)
    assert (
        "sampling_api.get_participant" in answers and "scheduling_api.cancel_appointment" in answers
    )


def test_every_route_is_classified_and_coordinator_only_routes_refuse_interviewers(app, world):
    """Each route is public, names a row an interviewer may own (checked above), is refused to
    interviewers with 403 for every method (coordinator_required), or is in SHARED_ENDPOINTS;
    shared pages show an interviewer no other interviewer's participant. A route the matrix
    cannot place fails with its name."""
    client = log_in(app, "interviewer")
    bearer = {"Authorization": f"Bearer {world.demo.api_tokens['interviewer']}"}
    foreign = participant_names(except_interviewer_id=world.demo.users["interviewer"].id)
    assert "Bea Elsewhere" in foreign
    problems: list[str] = []
    answers: dict[str, dict[str, int]] = {}
    for rule, method in routes(app):
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint in SESSION_ENDERS[1:]:
            continue
        url = url_for_rule(rule, world, "interviewer")
        before = database_state() if method != "GET" else None
        # The API takes writes with a bearer token only; a session would get 401 whoever it is.
        headers = bearer if url.startswith("/api/") and method != "GET" else {}
        response = ask(client, url, method, data={}, headers=headers)
        answers.setdefault(rule.endpoint, {})[method] = response.status_code
        if response.status_code >= 500:
            problems.append(f"interviewer {method} {url}: {response.status_code}")
        if response.status_code == 403 and before is not None:
            changed = changes_between(before, database_state())
            if changed:
                problems.append(f"interviewer {method} {url} was refused but changed {changed}")
        if response.status_code == 200 and response.mimetype in ("text/html", "application/json"):
            body = response.text
            leaked = [name for name in foreign if name in body]
            if leaked:
                problems.append(f"interviewer {method} {url} shows others' participants {leaked}")
    for endpoint, by_method in answers.items():
        refused = {method for method, status in by_method.items() if status == 403}
        is_coordinator_only = bool(refused)
        if is_coordinator_only and refused != set(by_method):
            problems.append(f"{endpoint}: 403 for {sorted(refused)} only, of {by_method}")
        owned = any(is_owned(r) for r in app.url_map.iter_rules(endpoint=endpoint))
        if is_coordinator_only and endpoint in SHARED_ENDPOINTS:
            problems.append(f"{endpoint} is listed as shared but refuses interviewers")
        if not (is_coordinator_only or owned or endpoint in SHARED_ENDPOINTS):
            problems.append(
                f"{endpoint} ({by_method}) is not classified: an interviewer can use it, it "
                "names no row of theirs, and SHARED_ENDPOINTS does not list it; list it there "
                "with a reason, or make it coordinator_required"
            )
    assert not problems, "\n".join(problems)
    assert answers["sampling.new_participant"] == {"GET": 403, "POST": 403}


def test_a_coordinator_reaches_every_route(app, world):
    """A coordinator is never refused (401/403) and never meets a 500, whatever the method;
    only the API refuses a session's writes (they need a bearer token)."""
    client = log_in(app, "coordinator")
    problems = []
    for method_pass in ("GET", "other"):
        for rule, method in routes(app):
            if (method == "GET") != (method_pass == "GET"):
                continue
            url = url_for_rule(rule, world, "coordinator")
            status = ask(client, url, method, data={}).status_code
            api_write = url.startswith("/api/") and method != "GET"
            if status >= 500 or (status in (401, 403) and not api_write):
                problems.append(f"coordinator {method} {url}: {status}")
            if api_write and status != 401:
                problems.append(f"coordinator {method} {url} with a session only: {status}")
    assert not problems, "\n".join(problems)


def test_with_csrf_on_every_form_post_needs_its_token(app, world):
    """With CSRF protection on (as in production), every POST of a form, including the public
    token pages and the login, answers 400 without the token and changes nothing; the JSON API's
    writes, which are exempt, refuse a session cookie without a bearer token."""
    client = log_in(app, "coordinator")
    anonymous = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        problems = []
        before = database_state()
        for rule, method in routes(app):
            if method == "GET":
                continue
            url = url_for_rule(rule, world, "coordinator")
            sender = anonymous if rule.endpoint in PUBLIC_ENDPOINTS else client
            status = ask(sender, url, method, data={"name": "x"}).status_code
            expected = 401 if url.startswith("/api/") else 400
            if status != expected:
                problems.append(f"{method} {url}: {status}, expected {expected}")
        assert not problems, "\n".join(problems)
        assert not changes_between(before, database_state())
        assert ask(client, "/account").status_code == 200, "still logged in after logout's 400"
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_with_csrf_on_the_api_writes_with_a_bearer_token(app, world):
    """The API's writes need no CSRF token because they need a bearer token, which a browser
    never sends by itself; with one, a write works while CSRF protection is on."""
    client = app.test_client()
    token = world.demo.api_tokens["coordinator"]
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(
            f"/api/v1/appointments/{world.other_study_appointment_id}/cancel",
            json={"reason": "Testing"},
            headers={"Authorization": f"Bearer {token}"},
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 200, response.text
    assert response.json["status"].startswith("cancelled")


#: URL arguments that name a row are ids and study slugs (others, such as a message template's
#: kind, name something of the current study). Of those, these name a person's own rows (their
#: account, tokens, available times, busy calendars), not a study's: the demo's interviewers
#: also work on the second study, so its coordinator may manage them.
PERSONAL_ARGUMENTS = {"user_id", "window_id", "calendar_id", "token_id"}


def _demo_study_words(world: World) -> list[str]:
    """What no one outside the demo study may see: its name, its participants' names and
    emails."""
    from sqlalchemy import select

    from fieldwork.extensions import db
    from fieldwork.sampling.models import Participant

    rows = db.session.execute(
        select(Participant.name, Participant.email).where(
            Participant.study_id == world.demo.study.id
        )
    ).all()
    words = {value for row in rows for value in row if value and len(value) > 5}
    return sorted(words | {world.demo.study.name})


def test_a_user_of_another_study_sees_nothing_of_this_one(app, world):
    """A coordinator of the second study only (not an administrator) walks every route of the
    app with the demo study's ids and slug, by session and by their own bearer token: every
    route that names a demo row (participant, appointment, study, frame row, message, reminder,
    quota, consent form, link) answers 403 or 404 (a form POST may instead redirect with a
    message) and changes nothing, and no page, list, API answer, CSV, export, outbox or audit
    page shows the demo study's name or any of its participants' names or emails."""
    from fieldwork.accounts.services import create_api_token
    from fieldwork.extensions import db
    from fieldwork.sampling.models import Study
    from tests.factories import PASSWORD, make_user

    second = db.session.get(Study, world.other_study_participant.study_id)
    outsider = make_user(
        "coordinator", email="outsider@example.org", studies=[second], is_administrator=False
    )
    _, token = create_api_token(outsider, "matrix")
    forbidden = _demo_study_words(world)
    assert "Bea Elsewhere" not in forbidden and len(forbidden) > 20
    session_client = app.test_client()
    response = session_client.post("/login", data={"email": outsider.email, "password": PASSWORD})
    assert response.status_code == 302
    bearer = {"Authorization": f"Bearer {token}"}
    problems: list[str] = []
    seen_own_study = False
    for rule, method in routes(app):
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint in SESSION_ENDERS:
            continue
        url = url_for_rule(rule, world, "coordinator")
        names_a_row = any(
            (name.endswith("_id") or name in ("slug", "study_slug"))
            and name not in PERSONAL_ARGUMENTS
            for name in rule.arguments
        )
        for how, headers in (("session", {}), ("bearer", bearer)):
            if how == "bearer" and not url.startswith("/api/"):
                continue
            before = database_state() if method != "GET" and names_a_row else None
            answer = ask(session_client, url, method, data={}, headers=headers)
            status = answer.status_code
            label = f"outsider ({how}) {method} {url}"
            if status >= 500:
                problems.append(f"{label}: {status}")
            api_write_by_session = how == "session" and url.startswith("/api/") and method != "GET"
            # A form POST may refuse in its page's own way (a message and a redirect), as long
            # as it changes nothing.
            refused = (403, 404) if method == "GET" else (302, 403, 404)
            if names_a_row and status not in refused and not api_write_by_session:
                problems.append(f"{label} names a demo row but answered {status}")
            if before is not None and changes_between(before, database_state()):
                problems.append(f"{label} changed data")
            if status == 200:
                leaked = [word for word in forbidden if word in answer.text]
                if leaked:
                    problems.append(f"{label} shows the demo study: {leaked[:3]}")
                seen_own_study = seen_own_study or "Bea Elsewhere" in answer.text
    assert not problems, "\n".join(problems)
    assert seen_own_study, "the outsider should see their own study's participant"
