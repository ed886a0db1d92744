"""Lists that need no exact total count at most COUNT_LIMIT rows past the page's start: below
the bound the total is exact, above it the pager says "more than" and still links onwards, with
the list's filters kept. The bound is lowered here so a few rows cross it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from fieldwork.core import pagination
from fieldwork.core.pagination import paginate
from fieldwork.sampling.models import Participant
from tests.factories import make_frame, make_participant, make_user

#: The lowered bound and page size of these tests.
LIMIT, PER_PAGE = 4, 2


@pytest.fixture
def small_pages(app, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_LIMIT", LIMIT)
    app.config["PAGE_SIZE"], size = PER_PAGE, app.config["PAGE_SIZE"]
    yield
    app.config["PAGE_SIZE"] = size


@pytest.fixture
def frame(app):
    frame = make_frame()
    return {**frame, "coordinator": make_user("coordinator")}


def _add(frame, count: int, name: str = "Person") -> None:
    for number in range(count):
        make_participant(
            frame["study"],
            district=frame["north"],
            organisation=frame["jcp"],
            role=frame["tppm"],
            name=f"{name} {number}",
        )


def _statement(frame):
    return (
        select(Participant)
        .where(Participant.study_id == frame["study"].id)
        .order_by(Participant.reference)
    )


@pytest.mark.parametrize(
    ("rows", "page", "total", "is_exact", "has_next"),
    [
        (2, 1, 2, True, False),  # one page
        (3, 1, 3, True, True),  # under the bound: exact
        (4, 1, 4, True, True),  # at the bound: exact
        (5, 1, 4, False, True),  # over it: "more than 4"
        (9, 2, 6, False, True),  # counted from page 2's start: more than 2 + 4
        (9, 4, 9, True, True),  # near the end the total is exact again
        (9, 5, 9, True, False),  # the last page
    ],
)
def test_a_bounded_count_is_exact_under_the_bound_and_a_lower_bound_over_it(
    frame, small_pages, rows, page, total, is_exact, has_next
):
    _add(frame, rows)
    result = paginate(_statement(frame), page, PER_PAGE, bounded=True)
    assert result.total == total
    assert result.is_total_exact == is_exact
    assert result.has_next == has_next
    assert len(result.items) == min(PER_PAGE, rows - (page - 1) * PER_PAGE)


def test_an_old_link_past_the_end_shows_the_last_page(frame, small_pages):
    _add(frame, 3)
    result = paginate(_statement(frame), 7, PER_PAGE, bounded=True)
    assert (result.page, result.total, result.is_total_exact) == (2, 3, True)
    assert len(result.items) == 1


def _pager(html: str) -> dict:
    summary = re.search(r'<p class="pager__summary">([^<]+)</p>', html).group(1)
    current = re.search(r'<span aria-current="page">([^<]+)</span>', html)
    links = dict(re.findall(r'<a href="([^"]+)" rel="(prev|next)">', html))
    return {
        "summary": " ".join(summary.split()),
        "current": current.group(1) if current else None,
        "links": {rel: href.replace("&amp;", "&") for href, rel in links.items()},
    }


def test_the_participant_list_says_more_than_and_pages_on_with_its_filters(
    frame, small_pages, client, auth
):
    _add(frame, 7, "Smith")
    _add(frame, 3, "Jones")
    auth.login(frame["coordinator"])
    first = client.get("/participants?q=smith&sort=name")
    pager = _pager(first.text)
    assert pager["summary"] == "Showing 1–2 of more than 4"
    assert pager["current"] == "Page 1 of more than 2"
    assert "Download these participants (more than 4) as CSV" in first.text
    next_url = pager["links"]["next"]
    assert "q=smith" in next_url and "sort=name" in next_url and "page=2" in next_url
    assert "prev" not in pager["links"]

    last = _pager(client.get("/participants?q=smith&sort=name&page=4").text)
    assert last["summary"] == "Showing 7–7 of 7"
    assert last["current"] == "Page 4 of 4"
    assert "next" not in last["links"] and "page=3" in last["links"]["prev"]

    exact = client.get("/participants?q=jones")
    assert _pager(exact.text)["summary"] == "Showing 1–2 of 3"
    assert "more than" not in exact.text


@pytest.mark.parametrize("path", ["/appointments", "/outbox"])
def test_the_other_bounded_lists_show_an_exact_total_under_the_bound(
    frame, small_pages, client, auth, path
):
    """Empty and small lists keep their exact wording (the bound changes nothing there)."""
    auth.login(frame["coordinator"])
    response = client.get(path)
    assert response.status_code == 200
    assert "more than" not in response.text


@pytest.mark.parametrize(
    "path", ["/participants", "/participants?q=person", "/appointments", "/outbox"]
)
def test_a_bounded_list_costs_the_same_queries_under_and_over_the_bound(
    frame, small_pages, client, auth, count_queries, path
):
    auth.login(frame["coordinator"])
    counts = []
    for count in (1, 2 * LIMIT):
        _add(frame, count)
        client.get(path)
        with count_queries() as counter:
            assert client.get(path).status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_the_count_selects_only_the_rows_keys_so_an_index_can_answer_it(
    frame, small_pages, count_queries
):
    """SQLite does not prune a subquery's unused columns: a COUNT over every column read each
    row (an outbox message's whole email), where one over the key reads an index."""
    _add(frame, 3)
    with count_queries() as counter:
        paginate(_statement(frame), 1, PER_PAGE, bounded=True)
    counting = next(sql for sql in counter.statements if "count(*)" in sql)
    inner = counting[counting.index("(SELECT") : counting.index("FROM participant")]
    assert " ".join(inner.split()) == "(SELECT participant.id AS id"


def test_a_join_that_repeats_rows_is_counted_as_the_list_shows_them(frame, small_pages):
    """The count over the keys counts the same rows as the list reads, repeats included."""
    from fieldwork.sampling.models import District

    _add(frame, 2)
    statement = (
        select(Participant)
        .join(District, District.study_id == Participant.study_id)  # two districts each
        .where(Participant.study_id == frame["study"].id)
        .order_by(Participant.reference, District.name)
    )
    result = paginate(statement, 1, 10)
    assert (result.total, result.is_total_exact) == (4, True)
