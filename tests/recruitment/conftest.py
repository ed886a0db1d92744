"""Fixtures for recruitment tests: a frame with a coordinator, two interviewers and people."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions
from tests.factories import make_frame, make_participant, make_user


class FreshContextClient(FlaskClient):
    """Each request in its own app context, as in production (Flask-Login caches the user in
    `g`, which the shared `app` fixture's context would otherwise carry across requests)."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def fresh_client(app: Flask) -> FreshContextClient:
    return FreshContextClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def fresh_auth(fresh_client: FreshContextClient) -> AuthActions:
    return AuthActions(fresh_client)


@pytest.fixture
def world(app: Flask) -> dict:
    """A frame; coordinator cora; interviewers ivy (has ann) and ian (has bob)."""
    data = make_frame()
    cora = make_user("coordinator", name="Cora Coordinator")
    ivy = make_user("interviewer", name="Ivy Interviewer")
    ian = make_user("interviewer", name="Ian Interviewer")
    ann = make_participant(
        data["study"],
        district=data["north"],
        organisation=data["jcp"],
        role=data["tppm"],
        name="Ann Adams",
        reference="P1-001",
        email="ann.adams@example.org",
        phone="020 7946 0101",
        job_title="Partnership manager",
        notes="Ann prefers mornings",
        interviewer_id=ivy.id,
    )
    bob = make_participant(
        data["study"],
        district=data["south"],
        organisation=data["provider"],
        role=data["manager"],
        name="Bob Brown",
        reference="P2-001",
        email="bob.brown@example.org",
        interviewer_id=ian.id,
    )
    return {**data, "cora": cora, "ivy": ivy, "ian": ian, "ann": ann, "bob": bob}
