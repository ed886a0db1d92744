"""The home page keeps the HTML of its revision-tracked panels for a minute per viewer and
study revision: a second view skips their queries, any write to the study shows at the next
view, the next minute recomputes, bookkeeping panels are read every time, and an erased name
is not left in the cache."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Flask

from fieldwork.core import revision_cache
from fieldwork.core.revisions import revision_of
from fieldwork.extensions import db
from fieldwork.home import services as home_services
from fieldwork.outbox.models import OutboxState
from fieldwork.recruitment.contacts import log_contact_attempt
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.erasure import erase_personal_data
from fieldwork.recruitment.models import ContactChannel
from tests.home.test_home import outbox_message
from tests.scheduling.conftest import NOW, at, book

#: Tables only the cached panels read.
PANEL_TABLES = ("appointment", "contact_attempt", "calendar_reply")


def page(client) -> str:
    response = client.get("/")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_a_second_view_serves_the_panels_without_their_queries(world, client, auth, count_queries):
    book(world, at(2026, 3, 23, 10))
    auth.login(world["kathryn"])  # every panel of an interviewer is cached
    with count_queries() as first:
        first_html = page(client)
    with count_queries() as second:
        second_html = page(client)
    panels = 'class="home-panels"'
    assert second_html.split(panels)[1] == first_html.split(panels)[1]
    read = [s for s in second.statements if any(f"FROM {t}" in s for t in PANEL_TABLES)]
    assert not read, read
    assert second.count < first.count - 5, (first.count, second.count)


def test_a_write_to_the_study_shows_at_the_next_view(world, client, auth):
    auth.login(world["coordinator"])
    assert "Dev Patel" not in page(client)
    log_contact_attempt(
        world["second"],
        world["coordinator"],
        attempted_at=NOW - dt.timedelta(hours=2),
        channel=ContactChannel.TELEPHONE,
        disposition=Disposition.CALL_BACK,
        next_action_on=NOW.date(),
    )
    follow_ups = page(client).split('id="panel-follow-ups"')[1].split("</section>")[0]
    assert "Dev Patel" in follow_ups, "the clock has not moved: only the revision did"
    item = book(world, at(2026, 3, 20, 15))
    assert f'href="/appointments/{item.id}"' in page(client)


def test_the_next_minute_recomputes(world, client, auth, clock):
    item = book(world, at(2026, 3, 23, 10))
    owed = f'href="/appointments/{item.id}/outcome"'
    auth.login(world["coordinator"])
    clock.move(at(2026, 3, 23, 10, 59) + dt.timedelta(seconds=1))
    assert owed not in page(client)
    clock.move(at(2026, 3, 23, 10, 59) + dt.timedelta(seconds=59))
    assert owed not in page(client), "the same minute is served from the cache"
    clock.move(at(2026, 3, 23, 11))
    assert owed in page(client), "the interview ended at 11:00"


def test_an_uncached_panel_shows_a_bookkeeping_write_at_once(world, client, auth):
    auth.login(world["coordinator"])
    assert "Every message due has gone out." in page(client)
    revision = revision_of(world["study"].id)
    db.session.add(outbox_message(world, OutboxState.FAILED, NOW))
    db.session.commit()
    assert revision_of(world["study"].id) == revision, "the outbox changes no revision"
    assert "1 message could not be sent" in page(client)


def test_an_erased_name_is_not_left_in_the_cache(app: Flask, world, client, auth):
    book(world, at(2026, 3, 20, 14))
    auth.login(world["coordinator"])
    assert "Siân" in page(client)
    erase_personal_data(world["first"], world["coordinator"])
    assert "Siân" not in page(client)
    entries = app.extensions[revision_cache.EXTENSION].entries
    assert entries, "the page's panels were cached"
    assert not [key for key, entry in entries.items() if "Siân" in repr(entry)]


def test_a_visit_within_the_gap_writes_nothing(world, count_queries):
    """Opening the page again within the hour neither writes nor commits."""
    user, study = world["coordinator"], world["study"]
    since = home_services.record_visit(user, study)
    commits: list[object] = []
    session = db.session()
    note = commits.append
    sa.event.listen(session, "after_commit", note)
    try:
        with count_queries() as counter:
            later = NOW + dt.timedelta(minutes=59)
            assert home_services.record_visit(user, study, later) == since
    finally:
        sa.event.remove(session, "after_commit", note)
    writes = [s for s in counter.statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert not writes and not commits, (writes, commits)
    assert home_services.record_visit(user, study, NOW + dt.timedelta(minutes=61)) == NOW
