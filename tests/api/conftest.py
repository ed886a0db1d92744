"""Fixtures for the API tests: a client whose requests are separate as in production, a
sample frame with two interviewers' participants, and bearer-token helpers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from fieldwork.accounts.models import Membership, User, UserRole
from fieldwork.accounts.services import create_api_token
from fieldwork.extensions import db
from fieldwork.sampling.models import OrganisationKind, RecruitmentStatus
from fieldwork.sampling.queries import all_study_ids
from tests.conftest import AuthActions
from tests.factories import PASSWORD, make_frame, make_organisation, make_participant


class FreshContextClient(FlaskClient):
    """Runs each request in an app context of its own.

    The shared `app` fixture keeps one app context open for the whole test, so `g` (where
    Flask-Login caches the user it loaded) would carry over from one request to the next and
    an anonymous request could pass as the previous caller. Production never shares `g`.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def api_client(app: Flask) -> FreshContextClient:
    return FreshContextClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def api_auth(api_client: FreshContextClient) -> AuthActions:
    """Log the API client in through the login page (a browser session)."""
    return AuthActions(api_client)


@pytest.fixture
def bearer() -> Callable[[User], dict[str, str]]:
    """`bearer(user)` issues a fresh token for `user` and gives the header that sends it."""

    def headers_for(user: User) -> dict[str, str]:
        _, token = create_api_token(user, "tests")
        return {"Authorization": f"Bearer {token}"}

    return headers_for


def make_quick_user(role: UserRole, name: str) -> User:
    """A user whose password hash is cheap to check: scrypt costs a tenth of a second per
    user, and every test here needs three. `make_user` is the real path (create_user)."""
    user = User(
        email=f"{name.split()[0].lower()}@example.org",
        name=name,
        role=role,
        password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
        is_administrator=role == UserRole.COORDINATOR,
    )
    db.session.add(user)
    # Studies are the unit of access: the user works on every study there is, in their role.
    for study_id in all_study_ids():
        db.session.add(Membership(user=user, study_id=study_id, role=role))
    db.session.commit()
    return user


@pytest.fixture
def frame(app: Flask) -> dict:
    """A frame with people in both phases, a sub-contractor, and two interviewers' caseloads.

    - ann (P1, JCP, interviewer alice, approached), bob (P1, provider, alice, identified),
      cat (P2, provider, interviewer ben, agreed), dan (P2, sub-contractor, unassigned).
    """
    data = make_frame()
    study = data["study"]
    alice = make_quick_user(UserRole.INTERVIEWER, "Alice Interviewer")
    ben = make_quick_user(UserRole.INTERVIEWER, "Ben Interviewer")
    coordinator = make_quick_user(UserRole.COORDINATOR, "Cora Coordinator")
    sub = make_organisation(
        study,
        "Small Steps Ltd",
        OrganisationKind.SUBCONTRACTOR,
        [data["south"]],
        lead_provider_id=data["provider"].id,
    )
    people = {
        "ann": make_participant(
            study,
            district=data["north"],
            organisation=data["jcp"],
            role=data["tppm"],
            name="Ann Adams",
            reference="P1-001",
            job_title="Partnership manager",
            interviewer_id=alice.id,
            status=RecruitmentStatus.APPROACHED,
        ),
        "bob": make_participant(
            study,
            district=data["north"],
            organisation=data["provider"],
            role=data["manager"],
            name="Bob Brown",
            reference="P1-002",
            interviewer_id=alice.id,
        ),
        "cat": make_participant(
            study,
            district=data["south"],
            organisation=data["provider"],
            role=data["manager"],
            name="Cat Clarke",
            reference="P2-001",
            interviewer_id=ben.id,
            status=RecruitmentStatus.AGREED,
            phone="020 7946 0001",
            notes="Prefers mornings",
        ),
        "dan": make_participant(
            study, district=data["south"], organisation=sub, name="Dan Davies", reference="P2-002"
        ),
    }
    return {**data, **people, "sub": sub, "alice": alice, "ben": ben, "coordinator": coordinator}
