"""The coverage pages, the CSV export and the quota editor, through the test client."""

from __future__ import annotations

import csv
import io
import re

from fieldwork.coverage import quotas, records
from fieldwork.coverage.models import Quota
from fieldwork.extensions import db
from tests.pagecheck import require_vnu, vnu_errors


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_the_dashboard_shows_every_cell_with_numbers_and_words(hand_study, client, auth):
    auth.login(hand_study["coordinator"])
    page = _text(client.get("/coverage"))
    heatmap = page[page.index('id="heatmap"') : page.index("</table>", page.index('id="heatmap"'))]
    cells = re.findall(r'<td class="heat (heat-[\w-]+)">(.*?)</td>', heatmap)
    assert len(cells) == 6  # 2 roles × (2 phases + all phases)
    for _, content in cells:
        assert re.search(r"\d+ / (\d+|–)", content), content
    assert [band for band, _ in cells] == [
        "heat-10",
        "heat-none",
        "heat-10",
        "heat-5",
        "heat-5",
        "heat-5",
    ]
    assert "Target met" in heatmap and "Halfway" in heatmap and "No target" in heatmap
    assert "3 / 2" in heatmap and "2 / 4" in heatmap and "0 / –" in heatmap
    assert "Phase 1</strong>: 4 of 6 target interviews (67%)" in page
    assert "Response rate (AAPOR RR1)" in page and "I ÷ (I + R + NC + O + U)" in page
    assert 'id="weeks"' in page and "<svg" in page and "Target 8" in page


def test_an_interviewer_may_read_coverage_but_not_edit_targets(hand_study, client, auth):
    auth.login(hand_study["interviewer"])
    page = _text(client.get("/coverage"))
    assert "Quota coverage" in page and "Edit targets" not in page
    assert client.get("/coverage/quotas").status_code == 403
    assert client.post("/coverage/quotas", data={"action": "grid"}).status_code == 403
    gaps = _text(client.get("/coverage/gaps"))
    assert "A04" in gaps and "A05" not in gaps  # only the people assigned to them
    assert "Book an interview" not in gaps and "Log a contact" in gaps


def test_coverage_needs_a_login(hand_study, client):
    for url in ["/coverage", "/coverage.csv", "/coverage/gaps", "/coverage/quotas"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_gaps_link_each_candidate_to_logging_a_contact_and_booking(hand_study, client, auth):
    auth.login(hand_study["coordinator"])
    page = client.get("/coverage/gaps").get_data(as_text=True)
    a5 = hand_study["people"]["A05"].id
    a4 = hand_study["people"]["A04"].id
    assert f'href="/participants/{a5}/contacts/new"' in page
    assert f'href="/appointments/new?participant={a5}"' in page
    assert f'href="/appointments/new?participant={a4}"' not in page  # already booked
    assert page.index("TPPM, Phase 1") < page.index("TPPM, Phase 2")


def test_the_drill_down_shows_districts_and_organisations(hand_study, client, auth):
    auth.login(hand_study["coordinator"])
    url = f"/coverage/cell?role={hand_study['tppm'].id}&phase={hand_study['p1'].id}"
    page = _text(client.get(url))
    assert "By district" in page and "JCP One" in page and "TPPM in North" in page
    assert client.get("/coverage/cell").headers["Location"].endswith("/coverage#heatmap")
    for bad in [
        "/coverage/cell?role=1",
        "/coverage/cell?role=x&phase=1",
        f"/coverage/cell?role={hand_study['tppm'].id}&phase=99999",
        "/coverage/cell?role=99999999999999999999&phase=1",
    ]:
        assert client.get(bad).status_code == 404, bad


def test_the_csv_has_one_row_per_cell_with_every_figure(hand_study, client, auth):
    auth.login(hand_study["interviewer"])
    response = client.get("/coverage.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == list(records.RECORD_FIELDS)
    assert [
        (r["cell"], r["role"], r["phase"], r["district"], r["organisation_kind"]) for r in rows
    ] == [
        ("role_phase", "Manager", "Phase 1", "", ""),
        ("role_phase", "Manager", "Phase 2", "", ""),
        ("role_phase", "TPPM", "Phase 1", "", ""),
        ("role_phase", "TPPM", "Phase 2", "", ""),
        ("kind_phase", "", "Phase 1", "", "lead_provider"),
        ("role_district", "TPPM", "Phase 1", "North", ""),
        ("phase_total", "", "Phase 1", "", ""),
        ("phase_total", "", "Phase 2", "", ""),
        ("overall", "", "", "", ""),
    ]
    tppm1 = rows[2]
    assert {
        k: tppm1[k]
        for k in (
            "target",
            "participants",
            "achieved",
            "booked",
            "pipeline",
            "approached",
            "not_approached",
            "closed",
            "needed",
            "held_appointments",
            "no_show_appointments",
            "no_show_rate",
            "response_rate",
        )
    } == {
        "target": "4",
        "participants": "10",
        "achieved": "2",
        "booked": "1",
        "pipeline": "1",
        "approached": "2",
        "not_approached": "1",
        "closed": "3",
        "needed": "2",
        "held_appointments": "3",
        "no_show_appointments": "1",
        "no_show_rate": "0.25",
        "response_rate": "0.2222",
    }
    assert rows[1]["target"] == "" and rows[1]["needed"] == ""
    assert rows[-1]["participants"] == "18" and rows[-1]["target"] == "8"


def test_a_coordinator_sets_the_grid_and_bad_targets_are_named_beside_their_fields(
    hand_study, client, auth
):
    auth.login(hand_study["coordinator"])
    tppm, manager = hand_study["tppm"], hand_study["manager"]
    p1, p2 = hand_study["p1"], hand_study["p2"]
    name = lambda role, phase: f"grid-target_{role.id}_{phase.id}"  # noqa: E731
    response = client.post(
        "/coverage/quotas",
        data={
            "action": "grid",
            name(tppm, p1): "-1",
            name(tppm, p2): "two",
            name(manager, p1): "5",
            name(manager, p2): "",
        },
    )
    assert response.status_code == 422
    page = _text(response)
    field_id = f"grid-target_{tppm.id}_{p1.id}"
    assert f'<a href="#{field_id}">Enter a whole number from 0 to 9999' in page
    assert re.search(rf'<p class="field-error" id="{field_id}-error">.*?Enter a whole number', page)
    assert 'aria-invalid="true"' in page
    assert quotas.grid_targets(hand_study["study"])[(manager.id, p1.id)] == 2  # unchanged

    response = client.post(
        "/coverage/quotas",
        data={
            "action": "grid",
            name(tppm, p1): " 6 ",
            name(tppm, p2): "0",
            name(manager, p1): "",
            name(manager, p2): "3",
        },
    )
    assert response.status_code == 302
    assert quotas.grid_targets(hand_study["study"]) == {
        (tppm.id, p1.id): 6,
        (tppm.id, p2.id): 0,
        (manager.id, p2.id): 3,
    }


def test_finer_targets_are_validated_saved_and_removed(hand_study, client, auth):
    auth.login(hand_study["coordinator"])
    response = client.post(
        "/coverage/quotas",
        data={"action": "role_district", "rd-role_id": "", "rd-district_id": "", "rd-target": "x"},
    )
    assert response.status_code == 422
    page = _text(response)
    assert "Choose a role." in page and "Choose a district." in page
    assert 'id="rd-target-error"' in page
    response = client.post(
        "/coverage/quotas",
        data={
            "action": "kind_phase",
            "kp-organisation_kind": "jcp",
            "kp-phase_id": str(hand_study["p2"].id),
            "kp-target": "",
        },
    )
    assert response.status_code == 422
    assert "Enter a target" in _text(response)
    response = client.post(
        "/coverage/quotas",
        data={
            "action": "kind_phase",
            "kp-organisation_kind": "jcp",
            "kp-phase_id": str(hand_study["p2"].id),
            "kp-target": "7",
        },
    )
    assert response.status_code == 302
    quota = db.session.scalar(db.select(Quota).where(Quota.cell_key.like("kind:jcp/%")))
    assert quota.target == 7
    # Setting the same cell again replaces its target instead of adding a second quota.
    client.post(
        "/coverage/quotas",
        data={
            "action": "kind_phase",
            "kp-organisation_kind": "jcp",
            "kp-phase_id": str(hand_study["p2"].id),
            "kp-target": "8",
        },
    )
    db.session.expire_all()
    assert db.session.get(Quota, quota.id).target == 8
    quota_id = quota.id
    assert client.post(f"/coverage/quotas/{quota_id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(db.select(Quota).where(Quota.id == quota_id)) is None
    assert client.post(f"/coverage/quotas/{quota_id}/delete").status_code == 404


def test_a_quota_of_another_study_cannot_be_set_or_removed(hand_study, app):
    from tests.factories import make_district, make_study

    other = make_study(slug="elsewhere")
    far = make_district(other, "Far", 1)
    try:
        quotas.add_finer_quota(
            hand_study["study"], 1, role_id=hand_study["tppm"].id, district_id=far.id
        )
    except quotas.QuotaError as error:
        assert "this study" in str(error)
    else:
        raise AssertionError("a district of another study was accepted")
    quota = db.session.scalar(db.select(Quota).where(Quota.study_id == hand_study["study"].id))
    assert quotas.delete_quota(other, quota.id) is False


def test_coverage_pages_are_valid_html(hand_study, client, auth, tmp_path):
    require_vnu()
    auth.login(hand_study["coordinator"])
    pages = {
        url: client.get(url).get_data(as_text=True)
        for url in [
            "/coverage",
            "/coverage/gaps",
            "/coverage/quotas",
            f"/coverage/cell?role={hand_study['tppm'].id}&phase={hand_study['p1'].id}",
        ]
    }
    pages["quota errors"] = client.post(
        "/coverage/quotas",
        data={
            "action": "grid",
            f"grid-target_{hand_study['tppm'].id}_{hand_study['p1'].id}": "-3",
        },
    ).get_data(as_text=True)
    assert vnu_errors(pages, tmp_path / "html") == []
