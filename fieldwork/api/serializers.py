"""Models to JSON-ready dicts. Each function reads only what the API's queries eager-load.

The shapes here are what `fieldwork.api.openapi` describes; the API tests validate real
responses against that document, so a field added here without its schema fails a test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fieldwork.sampling.models import District, Organisation, Participant, Phase, Role, Study


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _datetime(value: dt.datetime | None) -> str | None:
    """ISO 8601 with its offset (stored values are aware, in UTC)."""
    return value.isoformat() if value else None


def phase_summary(phase: Phase) -> dict[str, Any]:
    return {"number": phase.number, "name": phase.name, "go_live_on": _date(phase.go_live_on)}


def study(item: Study) -> dict[str, Any]:
    """Needs `Study.phases` loaded."""
    return {
        "id": item.id,
        "slug": item.slug,
        "name": item.name,
        "description": item.description or "",
        "timezone": item.timezone,
        "fieldwork_starts_on": _date(item.fieldwork_starts_on),
        "fieldwork_ends_on": _date(item.fieldwork_ends_on),
        "organiser_name": item.organiser_name or "",
        "organiser_email": item.organiser_email or "",
        "interview_minutes": item.interview_minutes,
        "created_at": _datetime(item.created_at),
        "phases": [phase_summary(phase) for phase in item.phases],
    }


def phase(item: Phase) -> dict[str, Any]:
    return {"id": item.id, "study_id": item.study_id, **phase_summary(item)}


def district(item: District) -> dict[str, Any]:
    """`District.phase` is always loaded with the district."""
    return {
        "id": item.id,
        "study_id": item.study_id,
        "name": item.name,
        "phase": phase_summary(item.phase),
        "is_placeholder": bool(item.is_placeholder),
        "source": item.source or "",
    }


def organisation(item: Organisation) -> dict[str, Any]:
    """Needs `lead_provider` and `districts` loaded."""
    lead = item.lead_provider
    return {
        "id": item.id,
        "study_id": item.study_id,
        "name": item.name,
        "kind": item.kind.value,
        "kind_label": item.kind.label,
        "lead_provider": {"id": lead.id, "name": lead.name} if lead else None,
        "district_ids": sorted(d.id for d in item.districts),
        "notes": item.notes or "",
    }


def role(item: Role) -> dict[str, Any]:
    return {
        "id": item.id,
        "study_id": item.study_id,
        "name": item.name,
        "organisation_kind": item.organisation_kind.value,
        "description": item.description or "",
    }


def participant(item: Participant) -> dict[str, Any]:
    """Needs study, role, organisation, district (with phase) and interviewer loaded."""
    interviewer = item.interviewer
    return {
        "id": item.id,
        "reference": item.reference,
        "name": item.name,
        "job_title": item.job_title or "",
        "email": item.email or "",
        "phone": item.phone or "",
        "notes": item.notes or "",
        "status": item.status.value,
        "study": item.study.slug,
        "role": {"id": item.role.id, "name": item.role.name},
        "organisation": {
            "id": item.organisation.id,
            "name": item.organisation.name,
            "kind": item.organisation.kind.value,
        },
        "district": {"id": item.district.id, "name": item.district.name},
        "phase": {"number": item.district.phase.number, "name": item.district.phase.name},
        "interviewer": {"id": interviewer.id, "name": interviewer.name} if interviewer else None,
        "created_at": _datetime(item.created_at),
        "updated_at": _datetime(item.updated_at),
    }
