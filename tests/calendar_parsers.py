"""Read calendar output the way others will: icalendar, vobject, and Mozilla's ical.js.

ical.js (the parser in Thunderbird) runs under node and is given only the file: it knows no
zones of its own but UTC, so the times it reports come from the file's own VTIMEZONE. Tests
that need it skip when `node_modules/ical.js` is missing, except on CI (CI=true), where a
missing parser is a failure rather than a silent skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import icalendar
import pytest
import vobject

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ICALJS = PROJECT_ROOT / "node_modules" / "ical.js"

_READER = r"""
import fs from "node:fs";
import ICAL from "ical.js";

const out = [];
for (const path of process.argv.slice(1)) {
  const root = new ICAL.Component(ICAL.parse(fs.readFileSync(path, "utf8")));
  for (const vtimezone of root.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(new ICAL.Timezone(vtimezone));
  }
  const file = {
    method: root.getFirstPropertyValue("method"),
    timezones: root.getAllSubcomponents("vtimezone").map(
      (z) => z.getFirstPropertyValue("tzid")),
    events: [],
  };
  for (const vevent of root.getAllSubcomponents("vevent")) {
    const times = {};
    for (const name of ["dtstart", "dtend"]) {
      const property = vevent.getFirstProperty(name);
      const time = property.getFirstValue();
      const tzid = property.getParameter("tzid") || null;
      if (tzid && time.zone.tzid !== tzid) {
        throw new Error(`${name} ${tzid} read in zone ${time.zone.tzid}`);
      }
      times[name] = {
        tzid: tzid,
        local: time.toString(),
        utc: time.convertToZone(ICAL.Timezone.utcTimezone).toString(),
        epoch: time.toUnixTime(),
      };
    }
    const person = (p) => ({
      cn: p.getParameter("cn") || "",
      email: String(p.getFirstValue()).replace(/^mailto:/i, ""),
      role: p.getParameter("role") || null,
      partstat: p.getParameter("partstat") || null,
      rsvp: p.getParameter("rsvp") || null,
    });
    file.events.push({
      uid: vevent.getFirstPropertyValue("uid"),
      sequence: vevent.getFirstPropertyValue("sequence"),
      status: vevent.getFirstPropertyValue("status"),
      summary: vevent.getFirstPropertyValue("summary"),
      description: vevent.getFirstPropertyValue("description"),
      location: vevent.getFirstPropertyValue("location"),
      organizer: person(vevent.getFirstProperty("organizer")),
      attendees: vevent.getAllProperties("attendee").map(person),
      start: times.dtstart,
      end: times.dtend,
    });
  }
  out.push(file);
}
process.stdout.write(JSON.stringify(out));
"""


def icaljs_missing_reason() -> str | None:
    """Why ical.js cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not ICALJS.is_dir():
        return "node_modules/ical.js is missing (run `npm install`)"
    return None


def require_icaljs() -> None:
    """Skip the calling test when ical.js cannot run, but fail on CI, where it must."""
    reason = icaljs_missing_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"ical.js is required on CI: {reason}")
    pytest.skip(reason)


def read_with_icaljs(*calendars: bytes) -> list[dict]:
    """Each calendar as ical.js reads it: METHOD, the VTIMEZONE ids, and for each event
    its fields and its start and end as local wall-clock time and as UTC (one node run)."""
    require_icaljs()
    with tempfile.TemporaryDirectory() as directory:
        paths = []
        for number, data in enumerate(calendars):
            path = Path(directory) / f"calendar{number}.ics"
            path.write_bytes(data)
            paths.append(str(path))
        result = subprocess.run(
            ["node", "--input-type=module", "-e", _READER, *paths],
            cwd=PROJECT_ROOT,
            capture_output=True,
            timeout=120,
            check=False,
        )
    if result.returncode != 0:
        raise AssertionError("ical.js could not read the calendar:\n" + result.stderr.decode())
    return json.loads(result.stdout)


def read_with_icalendar(data: bytes) -> icalendar.Calendar:
    """The calendar as the `icalendar` package parses it."""
    return icalendar.Calendar.from_ical(data)


def read_with_vobject(data: bytes):
    """The calendar as `vobject` parses it (an independent Python parser)."""
    return vobject.readOne(data.decode("utf-8"))


def rfc6868_decode(value: str) -> str:
    """Undo RFC 6868 parameter escapes (^n, ^', ^^), which vobject leaves as they are."""
    out = []
    characters = iter(value)
    for character in characters:
        if character != "^":
            out.append(character)
            continue
        following = next(characters, "")
        out.append({"n": "\n", "'": '"', "^": "^"}.get(following, "^" + following))
    return "".join(out)
