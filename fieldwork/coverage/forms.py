"""Forms of the quota editor: the role × phase grid and the finer targets."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from fieldwork.core.forms import coerce_optional_int
from fieldwork.sampling.models import ORGANISATION_KIND_LABELS, Phase, Role

#: The largest target accepted: far above any qualitative study, low enough to catch typos.
MAX_TARGET = 9999


def parse_target(raw: str | None) -> int | None:
    """'' → None (no quota); '12' → 12; anything else raises ValueError with the message."""
    text = (raw or "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 4:
        raise ValueError(f"Enter a whole number from 0 to {MAX_TARGET}, or leave it empty.")
    return int(text)


class TargetField(StringField):
    """A target: a whole number from 0 to MAX_TARGET; empty means no quota (when allowed)."""

    def __init__(self, *args, required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.required = required
        self.target: int | None = None

    def pre_validate(self, form) -> None:
        try:
            self.target = parse_target(self.data)
        except ValueError as error:
            raise ValidationError(str(error))
        if self.required and self.target is None:
            raise ValidationError("Enter a target, a whole number of 0 or more.")


def grid_field_name(role_id: int, phase_id: int) -> str:
    return f"target_{role_id}_{phase_id}"


def grid_form(
    roles: list[Role], phases: list[Phase], targets: dict[tuple[int, int], int], formdata=None
) -> FlaskForm:
    """A form with one target field per role × phase cell, filled with the current targets."""

    class QuotaGridForm(FlaskForm):
        pass

    for role in roles:
        for phase in phases:
            setattr(
                QuotaGridForm,
                grid_field_name(role.id, phase.id),
                TargetField(f"Target for {role.name}, {phase.name}"),
            )
    data = {
        grid_field_name(role_id, phase_id): str(target)
        for (role_id, phase_id), target in targets.items()
    }
    if formdata is not None:
        return QuotaGridForm(formdata=formdata, prefix="grid")
    return QuotaGridForm(data=data, prefix="grid")


def grid_cell(form: FlaskForm, role_id: int, phase_id: int) -> Field:
    return form[grid_field_name(role_id, phase_id)]


class RoleDistrictQuotaForm(FlaskForm):
    """A finer target: one role in one district."""

    role_id = SelectField(
        "Role", coerce=coerce_optional_int, validators=[InputRequired("Choose a role.")]
    )
    district_id = SelectField(
        "District", coerce=coerce_optional_int, validators=[InputRequired("Choose a district.")]
    )
    target = TargetField(
        "Target", required=True, description="People to interview in that role and district."
    )


class KindPhaseQuotaForm(FlaskForm):
    """A finer target: staff of one kind of organisation in one phase."""

    organisation_kind = SelectField(
        "Kind of organisation",
        choices=[SelectChoice("", "Choose a kind")]
        + [SelectChoice(k.value, v) for k, v in ORGANISATION_KIND_LABELS.items()],
        validators=[InputRequired("Choose a kind of organisation.")],
    )
    phase_id = SelectField(
        "Phase", coerce=coerce_optional_int, validators=[InputRequired("Choose a phase.")]
    )
    target = TargetField(
        "Target", required=True, description="People to interview across every role of that kind."
    )
