"""A person may coordinate one study and interview in another: over the API, where no study is
chosen in a header, they act as a coordinator only in the study they coordinate."""

from __future__ import annotations

import pytest

from tests.factories import make_membership, make_participant, make_study, make_user


@pytest.fixture
def mixed(app):
    """A coordinator of study A who is an interviewer in study B, with a participant in each."""
    study_a = make_study("Study A", slug="study-a")
    study_b = make_study("Study B", slug="study-b")
    user = make_user("coordinator", studies=[study_a, study_b], is_administrator=False)
    make_membership(user, study_b, "interviewer")
    return {
        "user": user,
        "a": make_participant(study_a),
        "b": make_participant(study_b),
    }


def test_reads_of_coordinators_records_follow_the_role_in_the_named_study(
    api_client, bearer, mixed
):
    headers = bearer(mixed["user"])
    assert api_client.get("/api/v1/studies/study-a/consents", headers=headers).status_code == 200
    assert api_client.get("/api/v1/studies/study-b/consents", headers=headers).status_code == 403


def test_writes_on_single_items_need_the_coordinator_role_everywhere_the_user_belongs(
    api_client, bearer, mixed
):
    """A single item's URL names no study, so a coordinator's write there is refused unless
    the user coordinates every study they belong to (the interviewer role elsewhere would
    otherwise borrow the coordinator's)."""
    headers = bearer(mixed["user"])
    answer = api_client.post(
        f"/api/v1/participants/{mixed['b'].id}/booking-links", headers=headers, json={}
    )
    assert answer.status_code == 403
