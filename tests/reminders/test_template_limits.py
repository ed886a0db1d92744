"""Reminder templates cannot take seconds or gigabytes: output size, operators, filters,
methods, loops and time are bounded, in the preview (a web request) and in rendering."""

from __future__ import annotations

import time

import pytest

from fieldwork.messaging import templating
from tests.reminders.test_pages import _settings_form

HOSTILE = [
    "{{ 'x' * 200000000 }}",  # 21 characters; once 12.9 s and 1.6 GiB per preview
    "{{ 200000000 * 'x' }}",
    "{{ ('x' * 99999) + ('x' * 99999) }}",
    "{% for a in ['x' * 1000] %}{% for b in [a ~ a] %}{% for c in [b ~ b] %}"
    "{% for d in [c ~ c] %}{% for e in [d ~ d] %}{% for f in [e ~ e] %}{% for g in [f ~ f] %}"
    "{% for h in [g ~ g] %}{{ h }}{% endfor %}{% endfor %}{% endfor %}{% endfor %}"
    "{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
    "{% for i in range(1000) %}{{ 'y' * 1000 }}{% endfor %}",
    "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}"
    "{% endfor %}{% endfor %}{% endfor %}",
    "{{ range(100000000)|length }}",
    "{{ 9 ** 99999999 }}",
    "{{ recipient_name|center(200000000) }}",
    "{{ recipient_name.center(200000000) }}",
    "{{ '%0200000000d' % 1 }}",
    "{{ '{:>200000000}'.format(1) }}",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_templates_are_refused_quickly(source):
    started = time.monotonic()
    with pytest.raises(templating.TemplateProblem):
        templating.render("Subject", source, {"recipient_name": "Bob"})
    assert time.monotonic() - started < templating.RENDER_SECONDS + 1


def test_ordinary_templates_still_render():
    rendered = templating.render(
        "Reminder for {{ recipient_name|upper }}",
        "{% for i in range(3) %}{{ loop.index }}{% endfor %} {{ recipient_name ~ '!' }}",
        {"recipient_name": "Bob"},
    )
    assert rendered.subject == "Reminder for BOB"
    assert rendered.text == "123 Bob!"


def test_the_21_character_template_is_refused_in_the_preview_at_once(world, client, auth):
    """The settings page's preview (a web request) answers in well under a second with the
    reason beside the field, not after 13 seconds and 1.6 GiB."""
    auth.login(world["coordinator"])
    started = time.monotonic()
    response = client.post(
        "/reminders/settings",
        data=_settings_form(action="preview", participant_body="{{ 'x' * 200000000 }}"),
    )
    assert time.monotonic() - started < 2
    assert response.status_code in (200, 422)
    assert "longer than 100,000 characters" in response.get_data(as_text=True)
