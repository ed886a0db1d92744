"""The main navigation: sections in the header, the current section's pages below it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_login import current_user


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    #: Other endpoints (or endpoint prefixes ending in ".") that belong to this item.
    also: tuple[str, ...] = ()
    coordinators_only: bool = False


@dataclass(frozen=True)
class NavSection:
    label: str
    items: tuple[NavItem, ...]


NAVIGATION: tuple[NavSection, ...] = (
    NavSection(
        "Overview",
        (NavItem("home.index", "Home"), NavItem("sampling.overview", "Study overview")),
    ),
    NavSection(
        "Sample",
        (
            NavItem(
                "sampling.participants",
                "Participants",
                (
                    "sampling.participant",
                    "sampling.new_participant",
                    "sampling.edit_participant",
                    "sampling.delete_participant",
                ),
            ),
            NavItem(
                "frame.organisations",
                "Organisations",
                (
                    "frame.organisation",
                    "frame.new_organisation",
                    "frame.edit_organisation",
                    "frame.delete_organisation",
                    "recruitment.organisation_access",
                ),
            ),
            NavItem(
                "frame.districts",
                "Districts and phases",
                (
                    "frame.district",
                    "frame.new_district",
                    "frame.edit_district",
                    "frame.delete_district",
                    "frame.phase",
                    "frame.new_phase",
                    "frame.edit_phase",
                    "frame.delete_phase",
                ),
            ),
            NavItem(
                "frame.roles",
                "Roles",
                (
                    "frame.role",
                    "frame.new_role",
                    "frame.edit_role",
                    "frame.delete_role",
                    "scheduling.topic_guide",
                ),
            ),
            NavItem("imports.upload", "Import", ("imports.",), coordinators_only=True),
        ),
    ),
    NavSection(
        "Recruitment",
        (
            NavItem("recruitment.follow_ups", "Follow-ups"),
            NavItem(
                "recruitment.consent_forms",
                "Consent forms",
                (
                    "recruitment.consent_form",
                    "recruitment.new_consent_form",
                    "recruitment.edit_version",
                ),
                coordinators_only=True,
            ),
        ),
    ),
    NavSection(
        "Interviews",
        (
            NavItem(
                "scheduling.appointments",
                "Appointments",
                (
                    "scheduling.appointment",
                    "scheduling.new_appointment",
                    "scheduling.reschedule",
                    "scheduling.cancel",
                    "scheduling.outcome",
                    "scheduling.booking_links",
                ),
            ),
            NavItem("scheduling.calendar", "Calendar"),
            NavItem("pipeline.board", "After the interview", ("pipeline.",)),
            NavItem(
                "scheduling.week",
                "Availability",
                ("scheduling.windows", "scheduling.busy_calendars", "scheduling.feed_settings"),
            ),
            NavItem(
                "booking_rules.rules_page",
                "Booking rules",
                ("booking_rules.",),
                coordinators_only=True,
            ),
            NavItem("replies.replies", "Calendar replies", ("replies.",), coordinators_only=True),
        ),
    ),
    NavSection(
        "Coverage",
        (
            NavItem("coverage.dashboard", "Quota coverage", ("coverage.",)),
            NavItem("reports.weekly", "Weekly report", ("reports.",), coordinators_only=True),
        ),
    ),
    NavSection(
        "Admin",
        (
            NavItem(
                "frame.studies",
                "Studies",
                ("frame.study", "frame.new_study", "frame.edit_study", "frame.delete_study"),
                coordinators_only=True,
            ),
            NavItem(
                "accounts.users",
                "Users",
                ("accounts.new_user", "accounts.edit_user"),
                coordinators_only=True,
            ),
            NavItem("outbox.messages", "Outbox", ("outbox.",), coordinators_only=True),
            NavItem(
                "messaging.templates", "Message texts", ("messaging.",), coordinators_only=True
            ),
            NavItem("exports.page", "Open-data export", ("exports.",), coordinators_only=True),
            NavItem("audit.events", "Audit trail", ("audit.",), coordinators_only=True),
        ),
    ),
)


def _matches(item: NavItem, endpoint: str) -> bool:
    return endpoint == item.endpoint or any(
        endpoint.startswith(other) if other.endswith(".") else endpoint == other
        for other in item.also
    )


def navigation() -> dict:
    """The sections and items this user may use (only those the app has), current ones marked."""
    endpoint = request.endpoint or ""
    sections = []
    current_section = None
    for section in NAVIGATION:
        items = [
            item
            for item in section.items
            if item.endpoint in current_app.view_functions
            and (current_user.is_coordinator or not item.coordinators_only)
        ]
        if not items:
            continue
        entries = [
            {
                "href": url_for(item.endpoint),
                "label": item.label,
                "current": _matches(item, endpoint),
            }
            for item in items
        ]
        is_current = any(entry["current"] for entry in entries)
        record = {
            "label": section.label,
            "href": entries[0]["href"],
            "items": entries,
            "current": is_current,
        }
        sections.append(record)
        if is_current:
            current_section = record
    return {"sections": sections, "current_section": current_section}
