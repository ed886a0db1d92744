"""The import pages: upload and check, preview, confirm; problems listed; nothing half-done."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from fieldwork.core.time import set_clock
from fieldwork.extensions import db
from fieldwork.sampling.models import OrganisationKind, Participant, Role
from tests.factories import make_frame, make_role, make_study, make_user
from tests.sampling.test_importing import frame_file, person

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def uploads(app, tmp_path, monkeypatch) -> Path:
    """Where uploads wait for confirmation during a test."""
    folder = tmp_path / "imports"
    monkeypatch.setitem(app.config, "IMPORT_UPLOAD_FOLDER", str(folder))
    return folder


@pytest.fixture
def frame(app, uploads):
    frame = make_frame()
    make_role(frame["study"], "Sub-contractor manager", OrganisationKind.SUBCONTRACTOR)
    return frame


@pytest.fixture
def coordinator(auth, frame):
    user = make_user("coordinator")
    auth.login(user)
    return user


def participants() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Participant))


def post_file(client, text: str | bytes, filename: str = "frame.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(
        "/import", data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data"
    )


def token_of(page: str) -> str:
    match = re.search(r'name="token" type="hidden" value="([^"]+)"', page)
    assert match, "the preview carries the upload's token"
    return match.group(1)


GOOD = frame_file(
    person(),
    person(
        name="Niamh Quinn",
        email="niamh@example.org",
        role="Lead provider manager",
        organisation="Acme Employment",
        district="South",
        phase="2",
    ),
    person(
        name="Wei Thomas",
        email="wei@example.org",
        role="Sub-contractor manager",
        organisation="Step Forward Trust",
        organisation_kind="subcontractor",
        lead_provider="Acme Employment",
        district="East",
        phase="2",
        notes='Prefers mornings, "not Fridays".\nCall the office first.',
    ),
)


def test_the_upload_page_explains_the_format_and_offers_the_example(client, coordinator):
    page = client.get("/import").get_data(as_text=True)
    assert 'type="file"' in page and 'accept=".csv"' in page
    assert '<label class="label" for="file">CSV file</label>' in page
    assert "Columns of a sample frame file" in page
    for column in ("reference", "organisation_kind", "lead_provider", "interviewer"):
        assert f"<code>{column}</code>" in page
    assert 'href="/import/example.csv"' in page


def test_the_example_file_downloads_as_csv(client, coordinator):
    response = client.get("/import/example.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data == (ROOT / "examples" / "sample-frame.csv").read_bytes()


def test_interviewers_cannot_import(client, auth, frame):
    auth.login(make_user("interviewer"))
    assert client.get("/import").status_code == 403
    assert post_file(client, GOOD).status_code == 403
    assert client.post("/import/confirm", data={"token": "x"}).status_code == 403


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (None, None, "Choose a CSV file to import."),
        (b"name\n", "frame.xlsx", "The file must be a CSV file whose name ends in .csv."),
        (b"x" * (15 * 1024 * 1024 + 1), "big.csv", "The file is larger than 15 MB"),
    ],
)
def test_form_errors_are_shown_beside_the_file_field(client, coordinator, data, filename, message):
    # Encoded here in memory: the test client would spool a large body to an unclosed temp file.
    fields = {} if data is None else {"file": FileStorage(io.BytesIO(data), filename)}
    boundary, body = encode_multipart(fields)
    response = client.post(
        "/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'<p class="field-error" id="file-error">.*' + re.escape(message), page)
    assert 'href="#file"' in page, "the error summary links to the field"


def test_a_file_with_problems_lists_them_all_and_imports_nothing(client, coordinator, uploads):
    text = frame_file(
        person(),
        person(name="B", email="b@", phase="9"),
        person(name="<b>C</b>", email="c@example.org", role="Nope"),
    )
    response = post_file(client, text, "bad frame.csv")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert "bad frame.csv has 3 problems, so nothing was imported." in page
    assert "<caption>Problems in bad frame.csv</caption>" in page
    rows = re.findall(
        r'<td data-label="Line">(\d+)</td>\s*<td data-label="Column">(\w+)</td>', page
    )
    assert rows == [("3", "email"), ("3", "phase"), ("4", "role")]
    assert "Import 3 participants" not in page
    assert participants() == 0
    assert not uploads.exists() or not any(uploads.iterdir()), "a bad file is not kept"


def test_upload_preview_and_confirm_import_everyone(client, coordinator, uploads):
    response = post_file(client, GOOD, "good.csv")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Nothing has been imported yet" in page
    assert re.search(r"<dt>New participants</dt><dd>3</dd>", page)
    assert re.search(r"<dt>Updated participants</dt><dd>0</dd>", page)
    assert re.search(r"<dt>New organisations</dt><dd>1: Step Forward Trust", page)
    assert re.search(r"<dt>New districts</dt><dd>1: East \(Phase 2\)", page)
    assert "All 3 rows of good.csv, as they will be imported" in page
    assert "P2-002" in page, "the preview shows the references people will get"
    assert ">Import 3 participants</button>" in page
    assert participants() == 0, "the preview imports nothing"
    token = token_of(page)
    assert (uploads / f"{token}.csv").exists()

    response = client.post(
        "/import/confirm",
        data={
            "token": token,
            "study_id": re.search(r'name="study_id" type="hidden" value="(\d+)"', page).group(1),
            "filename": "good.csv",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/participants"
    listing = client.get("/participants").get_data(as_text=True)
    assert "Imported 3 participants (3 new, 0 updated)." in listing
    assert participants() == 3
    assert not (uploads / f"{token}.csv").exists(), "the upload is deleted once imported"


def test_confirming_the_same_upload_twice_does_not_import_twice(client, coordinator, frame):
    page = post_file(client, GOOD).get_data(as_text=True)
    form = {"token": token_of(page), "study_id": str(frame["study"].id)}
    client.post("/import/confirm", data=form)
    response = client.post("/import/confirm", data=form)
    assert response.headers["Location"] == "/import"
    assert "expired or has already been imported" in client.get("/import").get_data(as_text=True)
    assert participants() == 3


def test_the_same_file_again_shows_updates_and_creates_nobody(client, coordinator, frame):
    for expected in ("3 new, 0 updated", "0 new, 3 updated"):
        page = post_file(client, GOOD).get_data(as_text=True)
        client.post(
            "/import/confirm", data={"token": token_of(page), "study_id": str(frame["study"].id)}
        )
        assert expected in client.get("/participants").get_data(as_text=True)
    assert participants() == 3


@pytest.mark.parametrize("token", ["", "../../etc/passwd", "A" * 43, "A" * 200, "%00"])
def test_a_bad_or_unknown_token_sends_back_to_the_upload_page(client, coordinator, frame, token):
    response = client.post(
        "/import/confirm", data={"token": token, "study_id": str(frame["study"].id)}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/import"
    assert "Upload the file again" in client.get("/import").get_data(as_text=True)


def test_an_expired_upload_cannot_be_confirmed(client, coordinator, frame, uploads):
    page = post_file(client, GOOD).get_data(as_text=True)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    set_clock(lambda: later)
    response = client.post(
        "/import/confirm", data={"token": token_of(page), "study_id": str(frame["study"].id)}
    )
    assert response.headers["Location"] == "/import"
    assert participants() == 0
    assert not any(uploads.iterdir())


def test_the_file_is_checked_again_on_confirm(client, coordinator, frame, uploads):
    """A role renamed between the preview and the button: problems shown, nothing imported."""
    page = post_file(client, GOOD, "good.csv").get_data(as_text=True)
    role = db.session.scalars(select(Role).where(Role.name == "Lead provider manager")).one()
    role.name = "Provider manager"
    db.session.commit()
    response = client.post(
        "/import/confirm",
        data={"token": token_of(page), "study_id": str(frame["study"].id), "filename": "good.csv"},
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<caption>Problems in good.csv</caption>" in body
    assert "The study has no role called “Lead provider manager”" in body
    assert participants() == 0
    assert not any(uploads.iterdir())


def test_switching_study_between_preview_and_confirm_imports_nothing(client, coordinator, frame):
    page = post_file(client, GOOD).get_data(as_text=True)
    other = make_study(name="Other study")
    client.post("/study/select", data={"study_id": other.id})
    response = client.post(
        "/import/confirm", data={"token": token_of(page), "study_id": str(frame["study"].id)}
    )
    assert response.headers["Location"] == "/import"
    assert "nothing was imported" in client.get("/import").get_data(as_text=True)
    assert participants() == 0


def test_a_file_with_a_byte_order_mark_uploads(client, coordinator):
    response = post_file(client, b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert response.status_code == 200
    assert ">Import 3 participants</button>" in response.get_data(as_text=True)


def test_the_preview_shows_the_first_50_rows_and_escapes_what_the_file_says(client, coordinator):
    rows = [
        person(name=f"<script>alert({n})</script>", email=f"p{n}@example.org") for n in range(60)
    ]
    page = post_file(client, frame_file(*rows)).get_data(as_text=True)
    assert "The first 50 of 60 rows" in page
    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(49)&lt;/script&gt;" in page
    assert "alert(50)" not in page
    assert ">Import 60 participants</button>" in page
