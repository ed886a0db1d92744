"""The kinds of message a study can word for itself: defaults, variables and sample values.

Invitations, updates and cancellations carry the interview's details and the calendar object
below the study's text, so their template is the subject and the opening text; the other kinds
are the whole message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_COMMON = {
    "recipient_name": "The name of the person the message goes to.",
    "study_name": "The study's name.",
    "organiser_name": "Who the study's mail comes from.",
    "organiser_email": "Where questions and changes go.",
}

_INTERVIEW = {
    **_COMMON,
    "is_interviewer": "True in the interviewer's copy, false in the participant's.",
    "summary": "The calendar entry's title, e.g. “PL Pathways: research interview (Telephone)”.",
    "when": "Start of the interview in the study's zone, e.g. “Monday 30 March 2026, 10:00 BST”.",
    "until": "End time, e.g. “11:00 BST”.",
    "mode": "How it is held: in person, telephone or video call.",
    "where": "The place, telephone note or video link.",
    "interviewer_name": "The interviewer's name.",
    "participant_reference": "The participant's reference, e.g. P1-017.",
}

_SAMPLE_COMMON = {
    "recipient_name": "Siân O'Brien",
    "study_name": "Provider-Led Pathways to Work",
    "organiser_name": "Fieldwork team",
    "organiser_email": "fieldwork@example.org",
}

_SAMPLE_INTERVIEW = {
    **_SAMPLE_COMMON,
    "is_interviewer": False,
    "summary": "Provider-Led Pathways to Work: research interview (Telephone)",
    "when": "Monday 30 March 2026, 10:00 BST",
    "until": "11:00 BST",
    "mode": "telephone",
    "where": "By telephone",
    "interviewer_name": "Kathryn Interviewer",
    "participant_reference": "P1-017",
}


@dataclass(frozen=True)
class MessageKind:
    key: str
    label: str
    #: Who receives it and when, for the list page.
    description: str
    default_subject: str
    default_body: str
    variables: dict[str, str] = field(default_factory=dict)
    #: Values the preview renders with.
    sample: dict[str, object] = field(default_factory=dict)
    #: True when the interview's details and the calendar object follow the body.
    has_details: bool = False


KINDS: dict[str, MessageKind] = {
    kind.key: kind
    for kind in (
        MessageKind(
            key="invite",
            label="Invitation",
            description="To the interviewer and the participant when an interview is booked; "
            "the interview's details and the calendar invitation follow your text.",
            default_subject="Invitation: {{ summary }} – {{ when }}",
            default_body="You are invited to an interview for {{ study_name }}.",
            variables=_INTERVIEW,
            sample=_SAMPLE_INTERVIEW,
            has_details=True,
        ),
        MessageKind(
            key="update",
            label="Update",
            description="To both when an interview moves; the new details and the updated "
            "calendar entry follow your text.",
            default_subject="Updated: {{ summary }} – {{ when }}",
            default_body="The interview for {{ study_name }} has a new time.",
            variables={**_INTERVIEW, "previous_when": "When it was before the move."},
            sample={**_SAMPLE_INTERVIEW, "previous_when": "Friday 27 March 2026, 14:00 GMT"},
            has_details=True,
        ),
        MessageKind(
            key="cancellation",
            label="Cancellation",
            description="To both when an interview is cancelled; the calendar cancellation "
            "follows your text.",
            default_subject="Cancelled: {{ summary }} – {{ when }}",
            default_body="The interview for {{ study_name }} on {{ when }} is cancelled.",
            variables={**_INTERVIEW, "reason": "The reason given, if any."},
            sample={**_SAMPLE_INTERVIEW, "reason": "Annual leave that week."},
            has_details=True,
        ),
        MessageKind(
            key="booking_link",
            label="Booking link",
            description="To a participant with their private link to choose an interview time.",
            default_subject="{{ study_name }}: choose a time for your interview",
            default_body="""Dear {{ recipient_name }},

Thank you for agreeing to take part in the research study “{{ study_name }}”.
The interview takes about {{ minutes }} minutes{% if mode %} ({{ mode }}){% endif %}
{%- if interviewer_name %}, with {{ interviewer_name }}{% endif %}.

Choose a time for your interview here:

{{ url }}

The link is private to you and works until {{ expires }}.
You can use it again later to move or cancel your interview.
{% if organiser_email %}
If you have any questions, reply to this email or write to
{{ organiser_name or study_name }} at {{ organiser_email }}.
{% endif %}
{{ organiser_name }}
""",
            variables={
                **_COMMON,
                "url": "The private booking link.",
                "expires": "When the link stops working.",
                "minutes": "The interview's usual length in minutes.",
                "mode": "How it is held: in person, telephone or video call.",
                "interviewer_name": "The interviewer whose free times the link offers.",
            },
            sample={
                **_SAMPLE_COMMON,
                "url": "https://fieldwork.example.org/book/abc123",
                "expires": "Monday 13 April 2026, 12:00 BST",
                "minutes": 60,
                "mode": "telephone",
                "interviewer_name": "Kathryn Interviewer",
            },
        ),
        MessageKind(
            key="consent_request",
            label="Consent request",
            description="To a participant with their private link to the consent form.",
            default_subject="{{ study_name }}: your consent to take part",
            default_body="""Dear {{ recipient_name }},

Thank you for your interest in the research study “{{ study_name }}”.

Before the interview we ask for your consent. Please read the consent form
“{{ form_title }}” and answer it here:

{{ url }}

The link is private to you and works until {{ expires }}.
You can use it later to withdraw your consent.
{% if organiser_email %}
If you have any questions, reply to this email or write to
{{ organiser_name }} at {{ organiser_email }}.
{% endif %}
With thanks,
{{ organiser_name }}
""",
            variables={
                **_COMMON,
                "url": "The private consent link.",
                "expires": "When the link stops working.",
                "form_title": "The consent form's title.",
            },
            sample={
                **_SAMPLE_COMMON,
                "url": "https://fieldwork.example.org/consent/abc123",
                "expires": "Monday 13 April 2026, 12:00 BST",
                "form_title": "Consent to take part (version 2)",
            },
        ),
        MessageKind(
            key="user_invitation",
            label="User invitation",
            description="To a new member of the study team, with a link to set their password.",
            default_subject="You are invited to {{ study_name }} on Fieldwork",
            default_body="""Dear {{ recipient_name }},

{{ inviter_name }} has invited you to work on {{ study_name }} in Fieldwork as {{ role }}.

Choose your password here to start:

{{ url }}

The link works until {{ expires }}.

{{ organiser_name }}
""",
            variables={
                **_COMMON,
                "url": "The private link to set a password.",
                "expires": "When the link stops working.",
                "role": "The role given, e.g. interviewer.",
                "inviter_name": "Who sent the invitation.",
            },
            sample={
                **_SAMPLE_COMMON,
                "recipient_name": "Omar Interviewer",
                "url": "https://fieldwork.example.org/set-password/abc123",
                "expires": "Wednesday 1 April 2026, 12:00 BST",
                "role": "interviewer",
                "inviter_name": "Cora Coordinator",
            },
        ),
    )
}
