"""What scheduling really mails and serves, read back by three parsers.

icalendar, vobject and Mozilla's ical.js (Thunderbird's parser, run by node, using only the
file's own VTIMEZONE) must agree on every invite, update, cancellation and the feed: the same
UID, a rising SEQUENCE, the method, and 10:00 Europe/London on the Monday after each clock
change read as 10:00 local.
"""

from __future__ import annotations

from fieldwork.scheduling.booking import cancel_appointment, reschedule_appointment
from fieldwork.scheduling.feed_tokens import regenerate_feed_token
from tests.calendar_parsers import read_with_icalendar, read_with_icaljs, read_with_vobject
from tests.scheduling.conftest import at, book, outbox_messages


def _calendar_bytes(message) -> bytes:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_payload(decode=True)
    raise AssertionError("no text/calendar part")


def test_invite_update_cancellation_and_feed_agree_across_three_parsers(world, client):
    # Monday 30 March 2026 (the day after the spring change), 10:00 BST = 09:00 UTC.
    spring = book(world, at(2026, 3, 30, 9))
    reschedule_appointment(spring, at(2026, 3, 30, 13), 60, world["coordinator"])
    # Monday 26 October 2026 (the day after the autumn change), 10:00 GMT = 10:00 UTC.
    autumn = book(world, at(2026, 10, 26, 10), participant=world["second"])
    cancel_appointment(autumn, "", world["coordinator"])

    mailed = (
        [
            (_calendar_bytes(m), "REQUEST", spring.ical_uid, "10:00", 0)
            for m in outbox_messages("invite", spring.id)
        ]
        + [
            (_calendar_bytes(m), "REQUEST", spring.ical_uid, "14:00", 1)
            for m in outbox_messages("update", spring.id)
        ]
        + [
            (_calendar_bytes(m), "REQUEST", autumn.ical_uid, "10:00", 0)
            for m in outbox_messages("invite", autumn.id)
        ]
        + [
            (_calendar_bytes(m), "CANCEL", autumn.ical_uid, "10:00", 1)
            for m in outbox_messages("cancellation", autumn.id)
        ]
    )
    assert len(mailed) == 8  # interviewer and participant, for each of the four messages
    readings = read_with_icaljs(*(data for data, *_ in mailed))
    for (data, method, uid, local_time, sequence), thunderbird in zip(
        mailed, readings, strict=True
    ):
        ours = read_with_icalendar(data)
        event = ours.walk("VEVENT")[0]
        other = read_with_vobject(data)
        assert str(ours["METHOD"]) == other.method.value == thunderbird["method"] == method
        assert str(event["UID"]) == other.vevent.uid.value == thunderbird["events"][0]["uid"]
        assert str(event["UID"]) == uid
        assert int(event["SEQUENCE"]) == int(other.vevent.sequence.value) == sequence
        assert thunderbird["events"][0]["sequence"] == sequence
        start = thunderbird["events"][0]["start"]
        assert start["tzid"] == "Europe/London"
        assert start["local"][11:16] == local_time
        assert event["DTSTART"].dt.strftime("%H:%M") == local_time
        assert other.vevent.dtstart.value.strftime("%H:%M") == local_time
        if method == "CANCEL":
            assert thunderbird["events"][0]["status"] == "CANCELLED"

    token = regenerate_feed_token(world["kathryn"])
    feed = client.get(f"/calendar/{token}.ics").data
    (reading,) = read_with_icaljs(feed)
    by_uid = {event["uid"]: event for event in reading["events"]}
    assert by_uid[spring.ical_uid]["sequence"] == 1
    assert by_uid[spring.ical_uid]["start"]["local"][11:16] == "14:00"
    assert by_uid[spring.ical_uid]["start"]["utc"][11:16] == "13:00"
    assert by_uid[autumn.ical_uid]["status"] == "CANCELLED"
    assert by_uid[autumn.ical_uid]["start"]["utc"][11:16] == "10:00"
    assert len(read_with_vobject(feed).vevent_list) == 2
