"""Email bodies: one responsive HTML layout with its CSS inlined, and plain text beside it.

Mail clients drop `<style>` blocks or parts of them (Gmail's app, Outlook), so the layout's
CSS is written once in `templates/emails/_layout.html` and moved into `style` attributes by
`css-inline` when a message is rendered; only the small-screen media query stays a style
block (`data-css-inline="keep"`), where clients that understand it use it. Headers are not
built here (see `fieldwork.invites.mail`).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import css_inline
from flask import render_template

_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def inline_css(html: str) -> str:
    """The HTML with its layout CSS moved into style attributes."""
    return _INLINER.inline(html)


def render_email(name: str, **context) -> tuple[str, str]:
    """The text and HTML bodies of `templates/emails/<name>.txt|.html`, CSS inlined."""
    text = render_template(f"emails/{name}.txt", **context)
    html = render_template(f"emails/{name}.html", **context)
    return text.strip() + "\n", inline_css(html)


def _clock(local: dt.datetime) -> str:
    return f"{local:%H:%M} {local.tzname()}"


def describe_for_reader(moment: dt.datetime, reader_zone: str, study_zone: str) -> str:
    """A start time in the reader's zone, with the study's zone beside it when they differ:
    'Monday 23 March 2026, 05:00 EDT (America/New_York) – 09:00 GMT in Europe/London'."""
    zone_name = reader_zone or study_zone
    reader = moment.astimezone(ZoneInfo(zone_name))
    text = f"{reader:%A} {reader.day} {reader:%B %Y}, {_clock(reader)} ({zone_name})"
    if not reader_zone or reader_zone == study_zone:
        return text
    study = moment.astimezone(ZoneInfo(study_zone))
    beside = _clock(study)
    if study.date() != reader.date():
        beside = f"{study:%A} {study.day} {study:%B}, {beside}"
    return f"{text} – {beside} in {study_zone}"


def describe_end(moment: dt.datetime, zone_name: str) -> str:
    """'06:00 EDT' in the reader's zone."""
    return _clock(moment.astimezone(ZoneInfo(zone_name)))
