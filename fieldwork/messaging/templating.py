"""The message texts coordinators edit (reminders, invitations, requests): Jinja templates
rendered in a sandbox.

A coordinator's template is untrusted code as far as the server is concerned, so it is only
ever rendered by `jinja2.sandbox.SandboxedEnvironment` (no attribute access to internals,
no calling unsafe methods), with `StrictUndefined` so a misspelt variable is reported when
the template is saved rather than silently sent as an empty string.

The body is written as plain text. The text/plain part renders it without escaping; the
text/html part renders the same source with autoescape on and with the template's literal
text escaped too (a filter on Jinja's token stream), then turns blank-line separated blocks
into paragraphs. Nothing a participant's or interviewer's name holds can become markup.

Rendering is bounded, since a 21-character template (`{{ 'x' * 200000000 }}`) could otherwise
take seconds and gigabytes: `*`, `+`, `~` and `**` are checked before they run (no text or
list longer than the output limit, no huge powers), `%` formatting of text, methods of values
(`.format`, `.replace`, `.center` ...) and all filters but a few harmless ones are refused,
`range` stops at a thousand, the output is collected piece by piece and refused past
MAX_OUTPUT_LENGTH, and a render that runs longer than RENDER_SECONDS is stopped (a trace
function on the rendering thread looks at the clock).
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from markupsafe import Markup, escape

#: Longest subject a template may render to (RFC 5322 line length, less the header name).
MAX_SUBJECT_LENGTH = 900
#: Longest template source accepted.
MAX_TEMPLATE_LENGTH = 10_000
#: Longest text a template may render to (a reminder is a few hundred characters).
MAX_OUTPUT_LENGTH = 100_000
#: Longest a render may take, in seconds.
RENDER_SECONDS = 1.0
#: Largest `range` a template may loop over.
MAX_RANGE = 1000

#: The variables a template can use, with what they hold (shown on the settings page).
VARIABLES: dict[str, str] = {
    "recipient_name": "The name of the person the reminder goes to.",
    "study_name": "The study's name.",
    "when": "Start of the interview in the study's zone, e.g. "
    "“Monday 30 March 2026, 10:00 BST (Europe/London)”.",
    "when_recipient": "The start in the recipient's own zone with the study's beside it, "
    "when they differ; otherwise the same as when.",
    "until": "End time in the recipient's zone, e.g. “11:00 BST”.",
    "time_left": "How long before the interview the reminder is planned, e.g. “2 days”.",
    "mode": "How it is held: in person, telephone or video call.",
    "where": "The place, telephone note or video link.",
    "interviewer_name": "The interviewer's name.",
    "participant_name": "The participant's name.",
    "participant_reference": "The participant's reference, e.g. P1-017.",
    "organiser_name": "Who the study's mail comes from.",
    "organiser_email": "Where questions and changes go.",
}

DEFAULT_INTERVIEWER_SUBJECT = "Reminder: interview {{ participant_reference }} – {{ when }}"
DEFAULT_INTERVIEWER_BODY = """Dear {{ recipient_name }},

This is a reminder of your interview for the study {{ study_name }}.

Participant: {{ participant_reference }} {{ participant_name }}
When: {{ when }}, until {{ until }}
{%- if when_recipient != when %}
Your time: {{ when_recipient }}
{%- endif %}
How: {{ mode }}
{%- if where %}
Where: {{ where }}
{%- endif %}

{{ organiser_name }}
{{ organiser_email }}
"""

DEFAULT_PARTICIPANT_SUBJECT = "Reminder: your interview for {{ study_name }} – {{ when_recipient }}"
DEFAULT_PARTICIPANT_BODY = """Dear {{ recipient_name }},

Thank you for agreeing to take part in {{ study_name }}. This is a reminder of your interview
with {{ interviewer_name }}.

When: {{ when_recipient }}, until {{ until }}
How: {{ mode }}
{%- if where %}
Where: {{ where }}
{%- endif %}

If you need to change or cancel it, please write to {{ organiser_name }} at
{{ organiser_email }}.

{{ organiser_name }}
"""

DEFAULTS = {
    "interviewer_subject": DEFAULT_INTERVIEWER_SUBJECT,
    "interviewer_body": DEFAULT_INTERVIEWER_BODY,
    "participant_subject": DEFAULT_PARTICIPANT_SUBJECT,
    "participant_body": DEFAULT_PARTICIPANT_BODY,
}


class _EscapeLiteralText(Extension):
    """Escapes the literal text of a template, so in the HTML rendering the coordinator's
    own words are text too (autoescape covers only the variables)."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        for token in stream:
            if token.type == "data":
                yield Token(token.lineno, "data", str(escape(token.value)))
            else:
                yield token


class RenderLimitExceeded(SecurityError):
    """A template tried to produce too much or to run too long."""


def _size(value: object) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def _bounded_range(*args: int) -> range:
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise RenderLimitExceeded(f"a loop may go round at most {MAX_RANGE} times")
    return values


def _check_length(length: int) -> None:
    if length > MAX_OUTPUT_LENGTH:
        raise RenderLimitExceeded(
            f"that would make a text longer than {MAX_OUTPUT_LENGTH:,} characters"
        )


def _bounded_join(join: Callable) -> Callable:
    """Jinja's `~` (str_join / markup_join), refusing a result past the output limit."""

    def bounded(seq):
        pieces = list(seq)
        _check_length(sum(len(str(piece)) for piece in pieces))
        return join(pieces)

    return bounded


#: Filters a reminder may use: none of them can make a text much longer than its input.
ALLOWED_FILTERS = frozenset(
    {
        "capitalize",
        "count",
        "d",
        "default",
        "e",
        "escape",
        "first",
        "int",
        "last",
        "length",
        "lower",
        "round",
        "string",
        "striptags",
        "title",
        "trim",
        "truncate",
        "upper",
    }
)


class _BoundedSandbox(SandboxedEnvironment):
    """The sandbox with `*`, `+`, `%` and `**` checked before they run, and no methods."""

    intercepted_binops = frozenset(["*", "**", "+", "%"])

    def is_safe_attribute(self, obj, attr: str, value) -> bool:
        # Only the loop's own attributes (loop.index, loop.first ...); a value's methods such
        # as .format or .replace could build texts of any size.
        from jinja2.runtime import LoopContext

        return isinstance(obj, LoopContext) and super().is_safe_attribute(obj, attr, value)

    def call_binop(self, context, operator: str, left, right):
        if operator == "+":
            left_size, right_size = _size(left), _size(right)
            if left_size is not None and right_size is not None:
                _check_length(left_size + right_size)
        if operator == "%" and isinstance(left, str | bytes):
            raise RenderLimitExceeded("% formatting of text is not allowed")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                size = _size(sequence)
                if size is not None and isinstance(times, int) and size * times > MAX_OUTPUT_LENGTH:
                    raise RenderLimitExceeded(
                        f"that would make a text longer than {MAX_OUTPUT_LENGTH:,} characters"
                    )
        if operator == "**" and isinstance(right, int | float) and abs(right) > 100:
            raise RenderLimitExceeded("powers above 100 are not allowed")
        return super().call_binop(context, operator, left, right)


def _environment(*, html: bool) -> SandboxedEnvironment:
    environment = _BoundedSandbox(
        autoescape=html,
        undefined=StrictUndefined,
        extensions=[_EscapeLiteralText] if html else [],
        keep_trailing_newline=True,
    )
    environment.globals["range"] = _bounded_range
    environment.filters = {
        name: function for name, function in environment.filters.items() if name in ALLOWED_FILTERS
    }
    return environment


def _within_time(work: Callable[[], str], seconds: float) -> str:
    """Run `work` on this thread, stopping it with RenderLimitExceeded after `seconds` (a
    trace function looks at the clock every few hundred lines the template runs)."""
    deadline = time.monotonic() + seconds
    steps = 0
    previous = sys.gettrace()

    def tracer(frame, event, arg):
        nonlocal steps
        steps += 1
        if steps % 256 == 0 and time.monotonic() > deadline:
            raise RenderLimitExceeded(f"rendering took longer than {seconds:g} seconds")
        return tracer

    sys.settrace(tracer)
    try:
        return work()
    finally:
        sys.settrace(previous)


def render_bounded(template: Template, context: dict) -> str:
    """Render with the output-size and time limits (see the module's docstring)."""

    def collect() -> str:
        pieces: list[str] = []
        length = 0
        for piece in template.generate(context):
            length += len(piece)
            if length > MAX_OUTPUT_LENGTH:
                raise RenderLimitExceeded(
                    f"the text would be longer than {MAX_OUTPUT_LENGTH:,} characters"
                )
            pieces.append(piece)
        return "".join(pieces)

    return _within_time(collect, RENDER_SECONDS)


_TEXT = _environment(html=False)
_HTML = _environment(html=True)


@functools.lru_cache(maxsize=256)
def _compiled(source: str, html: bool) -> Template:
    """Compiling is the costly part of rendering; a study's few templates are compiled once."""
    template = (_HTML if html else _TEXT).from_string(source)
    # The compiled code calls these module-level helpers for `~`; bound them here.
    namespace = template.root_render_func.__globals__
    for name in ("str_join", "markup_join"):
        if name in namespace:
            namespace[name] = _bounded_join(namespace[name])
    return template


class TemplateProblem(ValueError):
    """A template that cannot be used; the message says where and why, for the form."""


@dataclass(frozen=True)
class RenderedReminder:
    subject: str
    text: str
    html_fragment: Markup


def _describe(error: Exception) -> str:
    if isinstance(error, TemplateSyntaxError):
        return f"Line {error.lineno}: {error.message}"
    if isinstance(error, SecurityError):
        return f"Not allowed in a reminder text: {error}"
    message = str(error).replace("'dict object' has no attribute", "there is no variable")
    return f"{message[:200]}. Use only the variables listed."


def _paragraphs(html: str) -> Markup:
    """Blank-line separated blocks as <p>, single line breaks as <br> (input is escaped)."""
    # `html` comes from the autoescaping environment with the literal text escaped too, so
    # every line is already safe markup (hence bandit's B704 does not apply).
    safe = Markup(html)  # noqa: S704 # nosec B704
    blocks = [block.strip("\n") for block in safe.replace("\r\n", "\n").split("\n\n")]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(block.split("\n")))
        for block in blocks
        if block.strip()
    )


def render(subject_source: str, body_source: str, context: dict) -> RenderedReminder:
    """Render a subject and body; raises TemplateProblem naming what is wrong."""
    try:
        subject = render_bounded(_compiled(subject_source, False), context)
        text = render_bounded(_compiled(body_source, False), context)
        html = render_bounded(_compiled(body_source, True), context)
    except RenderLimitExceeded as error:
        raise TemplateProblem(f"This text cannot be used: {error}.") from error
    except (TemplateError, SecurityError, TypeError, ValueError, ArithmeticError) as error:
        raise TemplateProblem(_describe(error)) from error
    subject = " ".join(subject.split())
    if not subject:
        raise TemplateProblem("The subject renders to nothing; give it some text.")
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise TemplateProblem(f"The subject renders longer than {MAX_SUBJECT_LENGTH} characters.")
    return RenderedReminder(subject=subject, text=text, html_fragment=_paragraphs(html))


def check_syntax(source: str) -> str | None:
    """None if the template parses, else a message naming the line."""
    if len(source) > MAX_TEMPLATE_LENGTH:
        return f"A template may be at most {MAX_TEMPLATE_LENGTH} characters long."
    try:
        _TEXT.parse(source)
        _HTML.parse(source)
    except TemplateSyntaxError as error:
        return _describe(error)
    return None
