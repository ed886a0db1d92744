"""The demo tells one story: its fieldwork window holds today and every appointment and contact
(all dated around today, so the demo stays alive), and the study's real 2009 dates stay in its
description."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from fieldwork.core.time import now_utc
from fieldwork.demo import load_demo_study
from fieldwork.extensions import db
from fieldwork.recruitment.models import ContactAttempt
from fieldwork.scheduling.models import Appointment


def test_the_demo_window_covers_today_its_appointments_and_contacts(app):
    study = load_demo_study()
    start, end = study.fieldwork_starts_on, study.fieldwork_ends_on
    today = now_utc().date()
    assert start <= today <= end
    first, last = db.session.execute(
        select(func.min(Appointment.starts_at), func.max(Appointment.starts_at))
    ).one()
    assert first.date() < today < last.date(), "the demo has interviews past and to come"
    assert start <= first.date() and last.date() <= end
    earliest, latest = db.session.execute(
        select(func.min(ContactAttempt.attempted_at), func.max(ContactAttempt.next_action_on))
    ).one()
    assert start <= earliest.date() and latest <= end
    assert end - start < dt.timedelta(days=366), "a window of months, not years"
    assert "12 January 2009 to 30 September 2009" in study.description
