"""The coverage pages: dashboard, drill-down, gaps, CSV export and the quota editor.

Everyone logged in may read coverage (the figures are counts; the candidate lists show an
interviewer only the people assigned to them); only coordinators edit quotas.
"""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from fieldwork.accounts.access import coordinator_required
from fieldwork.core import spreadsheet
from fieldwork.core.converters import MAX_ID
from fieldwork.core.studies import require_study
from fieldwork.coverage import forms, records, services
from fieldwork.coverage import quotas as quota_services
from fieldwork.coverage.chart import progress_chart
from fieldwork.coverage.queries import BUCKET_RANK
from fieldwork.coverage.rates import CASE_DEFINITIONS, DEFINITIONS
from fieldwork.pipeline.steps import achieved_step
from fieldwork.sampling import services as sampling
from fieldwork.sampling.models import OrganisationKind

blueprint = Blueprint("coverage", __name__)


def _context() -> dict:
    return {
        "definitions": DEFINITIONS,
        "case_definitions": CASE_DEFINITIONS,
        "bucket_labels": services.BUCKET_LABELS,
        "candidate_buckets": BUCKET_RANK,
    }


@blueprint.get("/coverage")
def dashboard():
    study = require_study()
    board = services.dashboard(study)
    return render_template(
        "coverage/dashboard.html",
        study=study,
        board=board,
        chart=progress_chart(board),
        achieved_step=achieved_step(study),
        **_context(),
    )


@blueprint.get("/coverage.csv", endpoint="csv")
def csv_export():
    study = require_study()
    board = services.dashboard(study)
    buffer = io.StringIO()
    writer = spreadsheet.dict_writer(
        buffer, fieldnames=list(records.RECORD_FIELDS), lineterminator="\r\n"
    )
    writer.writeheader()
    for record in records.records(board):
        writer.writerow({k: "" if v is None else v for k, v in record.items()})
    filename = f"coverage-{study.slug}-{board.generated_at:%Y-%m-%d}.csv"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _id_arg(name: str) -> int:
    raw = request.args.get(name, "")
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        abort(404, f"Choose a cell from the dashboard ({name} is missing or malformed).")
    return int(raw)


@blueprint.get("/coverage/cell")
def cell():
    study = require_study()
    if "role" not in request.args and "phase" not in request.args:
        return redirect(url_for("coverage.dashboard", _anchor="heatmap"))
    detail = services.cell_detail(study, _id_arg("role"), _id_arg("phase"), current_user)
    if detail is None:
        abort(404, "There is no such cell in this study.")
    return render_template("coverage/cell.html", study=study, detail=detail, **_context())


@blueprint.get("/coverage/gaps")
def gaps():
    study = require_study()
    return render_template(
        "coverage/gaps.html",
        study=study,
        gaps=services.gaps(study, current_user),
        per_cell=services.GAP_CANDIDATES,
        **_context(),
    )


# --- Quota editor ----------------------------------------------------------------------------


def _finer_forms(study, formdata=None):
    role_district = forms.RoleDistrictQuotaForm(
        formdata=formdata if request.form.get("action") == "role_district" else None,
        prefix="rd",
    )
    kind_phase = forms.KindPhaseQuotaForm(
        formdata=formdata if request.form.get("action") == "kind_phase" else None, prefix="kp"
    )
    role_district.role_id.choices = [SelectChoice("", "Choose a role")] + [
        SelectChoice(r.id, r.name) for r in sampling.roles_of(study)
    ]
    role_district.district_id.choices = [SelectChoice("", "Choose a district")] + [
        SelectChoice(d.id, f"{d.name} ({d.phase.name})") for d in sampling.districts_of(study)
    ]
    phases = sampling.phases_of(study)
    kind_phase.phase_id.choices = [SelectChoice("", "Choose a phase")] + [
        SelectChoice(p.id, p.name) for p in phases
    ]
    return role_district, kind_phase


def _save_finer_quota(study, action: str, role_district, kind_phase) -> bool:
    """Save the finer target the posted form (`action`) sets; True once saved. A refusal is
    shown beside the form's last field."""
    if action == "role_district" and role_district.validate():
        form, field, done = role_district, role_district.district_id, "the role in that district"
        cell = {"role_id": role_district.role_id.data, "district_id": field.data}
    elif action == "kind_phase" and kind_phase.validate():
        form, field, done = kind_phase, kind_phase.phase_id, "that kind of organisation"
        kind = OrganisationKind(kind_phase.organisation_kind.data)
        cell = {"organisation_kind": kind, "phase_id": field.data}
    else:
        return False
    try:
        quota_services.add_finer_quota(study, form.target.target, **cell)
    except quota_services.QuotaError as error:
        field.errors = [str(error)]
        return False
    flash(f"Target for {done} saved.", "success")
    return True


@blueprint.route("/coverage/quotas", methods=["GET", "POST"])
@coordinator_required
def quotas():
    study = require_study()
    roles = sampling.roles_of(study)
    phases = sampling.phases_of(study)
    action = request.form.get("action", "") if request.method == "POST" else ""
    grid = forms.grid_form(
        roles,
        phases,
        quota_services.grid_targets(study),
        formdata=request.form if action == "grid" else None,
    )
    role_district, kind_phase = _finer_forms(
        study, request.form if request.method == "POST" else None
    )
    if action == "grid" and grid.validate():
        quota_services.save_grid(
            study,
            {
                (role.id, phase.id): forms.grid_cell(grid, role.id, phase.id).target
                for role in roles
                for phase in phases
            },
        )
        flash("Targets saved.", "success")
        return redirect(url_for("coverage.quotas"))
    if _save_finer_quota(study, action, role_district, kind_phase):
        return redirect(url_for("coverage.quotas"))
    if request.method == "POST" and action not in ("grid", "role_district", "kind_phase"):
        abort(400, "Unknown form.")
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "coverage/quotas.html",
            study=study,
            roles=roles,
            phases=phases,
            grid=grid,
            grid_cell=forms.grid_cell,
            role_district=role_district,
            kind_phase=kind_phase,
            finer=[q for q in quota_services.quotas_of(study) if q.shape != "role_phase"],
            max_target=forms.MAX_TARGET,
        ),
        status,
    )


@blueprint.post("/coverage/quotas/<int:quota_id>/delete")
@coordinator_required
def delete_quota(quota_id: int):
    study = require_study()
    if not quota_services.delete_quota(study, quota_id):
        abort(404, "There is no such target in this study.")
    flash("Target removed.", "success")
    return redirect(url_for("coverage.quotas"))
