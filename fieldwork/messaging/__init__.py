"""Per-study message templates: the subject and text of every message the tool sends people.

Each kind of message (invitation, update, cancellation, booking link, consent request, user
invitation) has a default text; a coordinator may replace it for their study, with a preview,
and it is always rendered in Jinja's sandbox (fieldwork.messaging.templating, which reminders
have used from the start; reminders keep their own settings page, listed here too).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from fieldwork.accounts.signals import password_link_issued
    from fieldwork.messaging import account_mail, views

    password_link_issued.connect(account_mail.send_password_link)
    app.register_blueprint(views.blueprint)
