"""Participant pages: list, filters, view, create, edit, delete, and who may do what."""

from fieldwork.extensions import db
from fieldwork.sampling.models import Participant, RecruitmentStatus
from tests.factories import id_of, make_frame, make_participant, make_user


def _form(frame, **overrides):
    data = {
        "name": "Ciarán O'Neill",
        "job_title": "Third Party Provision Manager",
        "organisation_id": frame["jcp"].id,
        "role_id": frame["tppm"].id,
        "district_id": frame["north"].id,
        "interviewer_id": "",
        "email": "Ciaran.ONeill@Example.org",
        "phone": "+44 (0)20 7946 0000",
        "notes": "Met at the district launch.",
    }
    data.update(overrides)
    return data


def test_coordinator_adds_a_participant_who_gets_a_phase_reference(app, client, auth):
    frame = make_frame()
    auth.login(make_user("coordinator"))
    response = client.post("/participants/new", data=_form(frame))
    assert response.status_code == 302
    person = db.session.scalars(db.select(Participant)).one()
    assert person.reference == "P1-001"
    assert person.email == "ciaran.oneill@example.org"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ciarán O&#39;Neill" in page
    assert "Jobcentre Plus North" in page


def test_missing_name_and_bad_email_are_reported_beside_the_fields(app, client, auth):
    frame = make_frame()
    auth.login(make_user("coordinator"))
    response = client.post("/participants/new", data=_form(frame, name="", email="not-an-email"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert "Enter the person&#39;s name." in page
    assert 'href="#email"' in page
    assert db.session.scalar(db.select(db.func.count(Participant.id))) == 0


def test_role_must_suit_the_kind_of_organisation(app, client, auth):
    frame = make_frame()
    auth.login(make_user("coordinator"))
    response = client.post(
        "/participants/new", data=_form(frame, organisation_id=frame["provider"].id)
    )
    assert response.status_code == 422
    assert "is for Jobcentre Plus staff" in response.get_data(as_text=True)


def test_two_people_cannot_share_an_email_in_one_study(app, client, auth):
    frame = make_frame()
    make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        email="taken@example.org",
    )
    auth.login(make_user("coordinator"))
    response = client.post("/participants/new", data=_form(frame, email="TAKEN@example.org"))
    assert response.status_code == 422
    assert "already has the email address" in response.get_data(as_text=True)


def test_a_choice_that_is_not_offered_is_refused_not_a_crash(app, client, auth):
    frame = make_frame()
    auth.login(make_user("coordinator"))
    for value in ("999999", "abc", "-1"):
        response = client.post("/participants/new", data=_form(frame, district_id=value))
        assert response.status_code == 422


def test_editing_keeps_the_reference(app, client, auth):
    frame = make_frame()
    person = make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        reference="P1-042",
    )
    auth.login(make_user("coordinator"))
    response = client.post(
        f"/participants/{person.id}/edit", data=_form(frame, name="New Name", email="")
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert person.name == "New Name"
    assert person.reference == "P1-042"


def test_delete_asks_for_confirmation_then_deletes(app, client, auth):
    frame = make_frame()
    person = make_participant(
        frame["study"], district=frame["north"], organisation=frame["jcp"], role=frame["tppm"]
    )
    auth.login(make_user("coordinator"))
    confirm = client.get(f"/participants/{person.id}/delete")
    assert "This cannot be undone." in confirm.get_data(as_text=True)
    assert db.session.get(Participant, person.id) is not None
    assert client.post(f"/participants/{person.id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(Participant, id_of(person)) is None


def test_list_filters_by_status_role_phase_kind_district_and_search(app, client, auth):
    frame = make_frame()
    study = frame["study"]
    alice = make_participant(
        study,
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        name="Alice Smith",
    )
    bob = make_participant(
        study,
        district=frame["south"],
        organisation=frame["provider"],
        role=frame["manager"],
        name="Bob Jones",
        status=RecruitmentStatus.AGREED,
    )
    auth.login(make_user("coordinator"))

    def shown(**query):
        page = client.get("/participants", query_string=query).get_data(as_text=True)
        return {name for name in ("Alice Smith", "Bob Jones") if name in page}

    assert shown() == {"Alice Smith", "Bob Jones"}
    assert shown(status="agreed") == {"Bob Jones"}
    assert shown(role=frame["tppm"].id) == {"Alice Smith"}
    assert shown(phase=frame["south"].phase_id) == {"Bob Jones"}
    assert shown(kind="lead_provider") == {"Bob Jones"}
    assert shown(district=frame["north"].id) == {"Alice Smith"}
    assert shown(q="smi") == {"Alice Smith"}
    assert shown(q=alice.reference) == {"Alice Smith"}
    assert shown(q="%") == set()
    assert bob.id


def test_nonsense_filters_do_not_crash_the_list(app, client, auth):
    make_frame()
    auth.login(make_user("coordinator"))
    for query in (
        {"status": "bogus"},
        {"phase": "x"},
        {"page": "-3"},
        {"page": "99999999999"},
        {"q": "x" * 5000},
        {"kind": "<script>"},
    ):
        assert client.get("/participants", query_string=query).status_code == 200


def test_list_paginates(app, client, auth):
    frame = make_frame()
    for _ in range(60):
        make_participant(
            frame["study"],
            district=frame["north"],
            organisation=frame["jcp"],
            role=frame["tppm"],
            commit=False,
        )
    db.session.commit()
    auth.login(make_user("coordinator"))
    first = client.get("/participants").get_data(as_text=True)
    assert "Showing 1–50 of 60" in first
    second = client.get("/participants?page=2").get_data(as_text=True)
    assert "Showing 51–60 of 60" in second


def test_list_makes_the_same_number_of_queries_at_50_and_5000_participants(
    app, client, auth, count_queries
):
    frame = make_frame()
    coordinator = make_user("coordinator")
    auth.login(coordinator)

    def add(count):
        db.session.execute(
            db.insert(Participant),
            [
                {
                    "study_id": frame["study"].id,
                    "reference": f"X-{index:05d}-{count}",
                    "organisation_id": frame["jcp"].id,
                    "role_id": frame["tppm"].id,
                    "district_id": frame["north"].id,
                    "name": f"Person {index}",
                    "email": f"p{index}-{count}@example.org",
                    "interviewer_id": coordinator.id,
                    "status": "identified",
                }
                for index in range(count)
            ],
        )
        db.session.commit()

    # Each count follows a first view since the rows changed: the frame's names (read once per
    # change of the study) are then kept, as for every later view.
    add(50)
    client.get("/participants")
    with count_queries() as small:
        assert client.get("/participants").status_code == 200
    add(4950)
    client.get("/participants")
    with count_queries() as large:
        assert client.get("/participants").status_code == 200
    assert large.count == small.count


def test_interviewer_sees_only_participants_assigned_to_them(app, client, auth):
    frame = make_frame()
    mine_user = make_user("interviewer")
    other_user = make_user("interviewer")
    mine = make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        name="Mine Person",
        interviewer_id=mine_user.id,
    )
    theirs = make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        name="Their Person",
        interviewer_id=other_user.id,
    )
    auth.login(mine_user)
    page = client.get("/participants").get_data(as_text=True)
    assert "Mine Person" in page and "Their Person" not in page
    assert client.get(f"/participants/{mine.id}").status_code == 200
    assert client.get(f"/participants/{theirs.id}").status_code == 404
    assert client.get("/participants/new").status_code == 403
    assert client.post(f"/participants/{mine.id}/delete").status_code == 403


def test_user_text_is_escaped(app, client, auth):
    frame = make_frame()
    person = make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        name="<script>alert(1)</script>",
        notes="<img src=x onerror=alert(2)>",
    )
    auth.login(make_user("coordinator"))
    for url in (f"/participants/{person.id}", "/participants"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<img src=x" not in page
