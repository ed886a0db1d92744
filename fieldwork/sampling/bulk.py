"""Work on many participants at once, and what the participant list offers beside its rows.

The list belongs to sampling, but most of what a coordinator does with the people in it
(booking links, consent requests, outcomes, their contact attempts) belongs to the domains
above. So sampling keeps two small registries that those domains fill at init_app time: the
bulk actions (a button, its form fields and its handler) and the extra downloads of the
filtered list. Each person goes through the same service a single action uses, so the rules
(status changes, consent, email required, audit) hold; who was skipped, and why, is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from flask import Flask, current_app, g
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

from fieldwork.accounts.models import User
from fieldwork.sampling.models import Participant, Study

#: The most participants one bulk action takes (a page of the list holds fewer).
MAX_SELECTED = 500

_ACTIONS_KEY = "fieldwork.sampling.bulk_actions"
_DOWNLOADS_KEY = "fieldwork.sampling.list_downloads"
_FORM_CLASSES_KEY = "fieldwork.sampling.bulk_form_classes"


@dataclass
class BulkResult:
    """What a bulk action did: the references it handled and those it skipped, with why."""

    done: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self, verb: str) -> str:
        count = len(self.done)
        text = f"{verb} for {count} participant{'s' if count != 1 else ''}"
        if self.done:
            text += f" ({', '.join(self.done[:20])}{', …' if count > 20 else ''})"
        text += "."
        if self.skipped:
            reasons = "; ".join(f"{ref}: {why}" for ref, why in self.skipped[:10])
            more = f" and {len(self.skipped) - 10} more" if len(self.skipped) > 10 else ""
            text += f" Not done for {len(self.skipped)}: {reasons}{more}."
        return text


#: What a bulk action's handler gives back: a problem to show (nothing done), or the result
#: and the verb its summary starts with.
BulkOutcome = tuple[str | None, BulkResult | None, str]


@dataclass(frozen=True)
class BulkAction:
    """One button under the participant list, in its own fieldset.

    `fields` are the form fields it reads (their names are shared by every action, so each
    must be unique); `fill` gives them their choices for the study; `handle` runs in the
    request with the validated form and the checked participants of the study.
    """

    name: str
    legend: str
    button: str
    order: int
    fields: Mapping[str, UnboundField]
    fill: Callable[[FlaskForm, Study], None]
    handle: Callable[[Study, FlaskForm, list[Participant]], BulkOutcome]


@dataclass(frozen=True)
class ListDownload:
    """A link beside the list's own CSV: `endpoint` gets the list's query string."""

    element_id: str
    label: str
    endpoint: str
    order: int


def register_bulk_action(app: Flask, action: BulkAction) -> None:
    """Offer `action` under the participant list of `app` (again by the same name replaces)."""
    app.extensions.setdefault(_ACTIONS_KEY, {})[action.name] = action
    app.extensions.pop(_FORM_CLASSES_KEY, None)  # made again with the new action's fields


def register_list_download(app: Flask, download: ListDownload) -> None:
    """Offer `download` beside the participant list's CSV link."""
    app.extensions.setdefault(_DOWNLOADS_KEY, {})[download.element_id] = download


def bulk_actions() -> list[BulkAction]:
    """The registered bulk actions, in page order."""
    actions = current_app.extensions.get(_ACTIONS_KEY, {}).values()
    return sorted(actions, key=lambda action: action.order)


def bulk_action(name: str) -> BulkAction | None:
    return current_app.extensions.get(_ACTIONS_KEY, {}).get(name)


def list_downloads() -> list[ListDownload]:
    downloads = current_app.extensions.get(_DOWNLOADS_KEY, {}).values()
    return sorted(downloads, key=lambda download: download.order)


def bulk_form(study: Study, formdata=None) -> FlaskForm:
    """One form with every registered action's fields, their choices filled for `study`; the
    button pressed (`action`) says which fields apply."""
    actions = bulk_actions()
    form_class = _form_class(tuple(actions))
    form = form_class(formdata=formdata) if formdata is not None else form_class()
    for action in actions:
        action.fill(form, study)
    return form


def _form_class(actions: tuple[BulkAction, ...]) -> type[FlaskForm]:
    """One form class per set of registered actions, made once per app rather than on every
    view of the list."""
    classes = current_app.extensions.setdefault(_FORM_CLASSES_KEY, {})
    names = tuple(action.name for action in actions)
    if names not in classes:
        fields = {name: unbound for action in actions for name, unbound in action.fields.items()}
        classes[names] = type("BulkForm", (FlaskForm,), fields)
    return classes[names]


def bookable_people() -> list[User]:
    """The people a bulk action can name (assign to, book with); read once per request, as
    several actions' choices list them."""
    if "bulk_bookable_people" not in g:
        from fieldwork.accounts.services import bookable_people as people

        g.bulk_bookable_people = people()
    return g.bulk_bookable_people


def selected_ids(values: Sequence[str]) -> list[int]:
    """The checked participants' ids; anything that is not a plain number is ignored."""
    ids = {int(value) for value in values if value.isdigit() and len(value) < 10}
    return sorted(ids)[:MAX_SELECTED]


def assign(
    participants: Sequence[Participant], interviewer: User | None, actor: User
) -> BulkResult:
    """Through the assignment service (one transaction, an audit event per change)."""
    from fieldwork.sampling.assignment import assign_interviewer

    assign_interviewer(
        [p.id for p in participants],
        interviewer.id if interviewer else None,
        actor,
        study_id=participants[0].study_id if participants else None,
    )
    return BulkResult(done=[p.reference for p in participants])
