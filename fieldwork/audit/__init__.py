"""The audit trail: who changed what and when, for every domain."""

from __future__ import annotations

import datetime as dt

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the audit page and the filters that write events and times for people."""
    from fieldwork.audit import (
        accounts_trail,
        models,  # noqa: F401  (the table joins the metadata)
        sentences,
        views,
    )
    from fieldwork.core.web import viewer_timezone

    app.register_blueprint(views.blueprint)
    accounts_trail.watch()

    @app.template_filter("daytime")
    def daytime(value: dt.datetime | None, show_date: bool = True) -> str:
        """'Tue 3 Dec 10:00 GMT' (or '10:00 GMT' without the date) in the viewer's zone."""
        if value is None:
            return ""
        return sentences.short_time(value, viewer_timezone(), with_date=show_date)

    @app.template_filter("audit_sentence")
    def audit_sentence(event) -> str:
        return sentences.sentence(event, viewer_timezone())

    @app.template_filter("audit_details")
    def audit_details(event) -> list:
        return sentences.details(event, viewer_timezone())
