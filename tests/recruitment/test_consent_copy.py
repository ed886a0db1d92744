"""The participant's copy of what they agreed to: emailed through the outbox with the form's
version and date, naming the study, never the internal reference."""

from __future__ import annotations

import email
from email.policy import default

import sqlalchemy as sa

from fieldwork.extensions import db
from fieldwork.outbox.models import OutboxMessage
from fieldwork.recruitment.links import create_consent_link
from tests.recruitment.helpers import ITEMS, make_published_version


def test_consenting_online_emails_a_copy_of_the_answers_with_version_and_date(world, client):
    version = make_published_version(world["study"], world["cora"])
    _, token = create_consent_link(world["ann"], version, world["cora"])
    answers = {f"item_{item.key}": "yes" for item in ITEMS}
    answers["item_archiving"] = "no"
    response = client.post(f"/consent/{token}", data={**answers, "typed_name": "Ann Adams"})
    assert response.status_code == 302

    (row,) = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "other"))
    message = email.message_from_bytes(row.raw, policy=default)
    assert message["To"].addresses[0].addr_spec == "ann.adams@example.org"
    assert message["From"].addresses[0].display_name == world["study"].name
    assert message["Date"] is not None and message["Message-ID"] is not None
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert f"Interview consent, version {version.number}" in text
    assert "Given online on" in text and "signed as Ann Adams" in text
    assert "I agree to the anonymised transcript being archived.\n   Your answer: No" in text
    assert "I agree to take part in an interview.\n   Your answer: Yes" in text
    assert world["ann"].reference not in text
    html = message.get_body(("html",)).get_content()
    assert 'style="' in html and "<style>" not in html  # the layout's CSS is inlined

    page = client.get(f"/consent/{token}").get_data(as_text=True)
    assert f"version {version.number}" in page and world["ann"].reference not in page
