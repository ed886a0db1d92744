"""The frame's names behind the participant list (sampling.services.frame_names): read once per
change of the study, never stale, and never missing a row the page shows."""

from __future__ import annotations

from fieldwork.extensions import db
from fieldwork.sampling import services
from fieldwork.sampling.models import OrganisationKind, Participant, Role
from tests.factories import make_frame, make_organisation, make_participant, make_user


def test_names_are_read_once_until_the_study_changes(app, count_queries):
    frame = make_frame()
    study = frame["study"]
    first = services.frame_names(study)
    assert [name for _, name in first.organisations] == ["Acme Employment", "Jobcentre Plus North"]
    assert [(name, phase) for _, name, phase in first.districts] == [
        ("North", "Phase 1"),
        ("South", "Phase 2"),
    ]
    with count_queries() as counter:
        assert services.frame_names(study) == first
    assert counter.count == 1  # the study's revision token, nothing else

    make_organisation(study, "Brand new provider", OrganisationKind.LEAD_PROVIDER, [frame["north"]])
    names = [name for _, name in services.frame_names(study).organisations]
    assert "Brand new provider" in names


def test_a_row_the_names_do_not_hold_yet_is_named_from_its_own_relations(app):
    """A participant added with a new organisation between reading the names and reading the
    page is still shown with its organisation, role, district and phase."""
    frame = make_frame()
    study = frame["study"]
    names = services.frame_names(study)
    newcomer = make_organisation(study, "Late arrival", OrganisationKind.JCP, [frame["south"]])
    person = make_participant(study, organisation=newcomer, district=frame["south"])
    person = db.session.get(Participant, person.id)
    assert names.organisation(person) == "Late arrival"
    assert names.district(person) == "South"
    assert names.phase(person) == "Phase 2"
    assert names.role(person) == db.session.get(Role, person.role_id).name


def test_the_list_shows_each_row_with_its_frame(app, client, auth):
    frame = make_frame()
    make_participant(
        frame["study"],
        name="Ada Example",
        organisation=frame["provider"],
        district=frame["south"],
        role=frame["manager"],
    )
    auth.login(make_user("coordinator"))
    page = client.get("/participants").get_data(as_text=True)
    row = page[page.index("Ada Example") :].split("</tr>")[0]
    for shown in ("Lead provider manager", "Acme Employment", "South", "Phase 2"):
        assert shown in row
