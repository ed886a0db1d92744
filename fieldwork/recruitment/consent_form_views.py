"""The consent form pages (coordinators): forms, their versions, drafts and publishing.
Routes of the recruitment blueprint."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from fieldwork.accounts.access import coordinator_required
from fieldwork.core.studies import require_study
from fieldwork.recruitment import consent_versions, forms
from fieldwork.recruitment.models import ConsentFormVersion
from fieldwork.recruitment.status import RecruitmentError
from fieldwork.recruitment.views import blueprint


def _items_from(form) -> list[consent_versions.ItemSpec]:
    return [
        consent_versions.ItemSpec(key, text_field.data.strip(), bool(required_field.data))
        for key, text_field, required_field in forms.item_fields(form)
        if (text_field.data or "").strip()
    ]


def _version_or_404(version_id: int) -> ConsentFormVersion:
    version = consent_versions.get_version(version_id, require_study())
    if version is None:
        abort(404)
    return version


def _version_form_page(form, version: ConsentFormVersion | None):
    """The page that writes a version's text and items: a new form's first, or a draft."""
    return render_template(
        "recruitment/consent_version_form.html",
        form=form,
        version=version,
        item_fields=forms.item_fields(form),
    ), (422 if form.errors or form.form_errors else 200)


@blueprint.get("/consent-forms")
@coordinator_required
def consent_forms():
    study = require_study()
    return render_template(
        "recruitment/consent_forms.html",
        study=study,
        forms=consent_versions.consent_forms_of(study),
    )


@blueprint.route("/consent-forms/new", methods=["GET", "POST"])
@coordinator_required
def new_consent_form():
    study = require_study()
    form = forms.NewConsentFormForm()
    if request.method == "GET":
        form.item_take_part_required.data = True
    if form.validate_on_submit():
        try:
            created = consent_versions.create_consent_form(
                study, form.title.data, form.text.data, _items_from(form), current_user
            )
        except RecruitmentError as error:
            form.form_errors.append(str(error))
        else:
            flash(f"{created.title}: version 1 is a draft; publish it when ready.", "success")
            return redirect(url_for("recruitment.consent_form", form_id=created.id))
    return _version_form_page(form, None)


@blueprint.get("/consent-forms/<int:form_id>")
@coordinator_required
def consent_form(form_id: int):
    study = require_study()
    found = consent_versions.get_consent_form(form_id, study)
    if found is None:
        abort(404)
    return render_template("recruitment/consent_form.html", consent_form=found)


@blueprint.route("/consent-forms/versions/<int:version_id>/edit", methods=["GET", "POST"])
@coordinator_required
def edit_version(version_id: int):
    version = _version_or_404(version_id)
    if version.is_published:
        flash(
            f"Version {version.number} is published and cannot change. "
            "Start a new version to change the text.",
            "error",
        )
        return redirect(url_for("recruitment.consent_form", form_id=version.form_id))
    form = forms.ConsentVersionForm()
    if request.method == "GET":
        form.text.data = version.text
        for item in version.items:
            if hasattr(form, f"item_{item.key}_text"):
                getattr(form, f"item_{item.key}_text").data = item.text
                getattr(form, f"item_{item.key}_required").data = item.is_required
    if form.validate_on_submit():
        try:
            consent_versions.update_draft(version, form.text.data, _items_from(form), current_user)
        except RecruitmentError as error:
            form.form_errors.append(str(error))
            # Read again: the refused change was rolled back.
            return _version_form_page(form, consent_versions.get_version(version.id))
        else:
            flash(f"Draft version {version.number} is saved.", "success")
            return redirect(url_for("recruitment.consent_form", form_id=version.form_id))
    return _version_form_page(form, version)


@blueprint.post("/consent-forms/versions/<int:version_id>/new-draft")
@coordinator_required
def new_draft(version_id: int):
    version = _version_or_404(version_id)
    draft = consent_versions.new_draft_from(version, current_user)
    return redirect(url_for("recruitment.edit_version", version_id=draft.id))


@blueprint.post("/consent-forms/versions/<int:version_id>/publish")
@coordinator_required
def publish_version(version_id: int):
    version = _version_or_404(version_id)
    try:
        consent_versions.publish_version(version, current_user)
    except RecruitmentError as error:
        flash(str(error), "error")
    else:
        flash(f"Version {version.number} is published.", "success")
    return redirect(url_for("recruitment.consent_form", form_id=version.form_id))
