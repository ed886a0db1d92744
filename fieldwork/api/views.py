"""JSON API, version 1: the sample frame, read-only.

Authentication is done before these views run: `fieldwork.accounts.access` answers 401 JSON
under /api/ to a caller with neither a session nor a bearer token (Flask-Login's request
loader reads `Authorization: Bearer`). Errors answer JSON through `fieldwork.core.errors`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import Select

from fieldwork.api import openapi, serializers, services
from fieldwork.api.services import ParameterError
from fieldwork.core.pagination import paginate
from fieldwork.core.web import public
from fieldwork.sampling.models import Study

blueprint = Blueprint("api", __name__, url_prefix=openapi.BASE_PATH)


@blueprint.errorhandler(ParameterError)
def bad_parameter(error: ParameterError):
    response = jsonify(error={"code": 400, "message": str(error)})
    response.status_code = 400
    return response


def _page_url(number: int) -> str:
    """This request's absolute URL with another page number (the other arguments kept)."""
    args = request.args.to_dict()
    args["page"] = str(number)
    return request.base_url + "?" + urlencode(args)


def _list(statement: Select, serialize: Callable[[Any], dict]):
    """One page of `statement` in the list envelope; 400 for a bad page or per_page."""
    paging = services.parse_page_request(request.args)
    page = paginate(statement, paging.page, paging.per_page)
    return jsonify(
        items=[serialize(item) for item in page.items],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
        pages=page.pages,
        next=_page_url(page.page + 1) if page.has_next else None,
        prev=_page_url(page.page - 1) if page.has_prev else None,
    )


def _study_or_404(slug: str) -> Study:
    study = services.get_study(slug)
    if study is None:
        abort(404, "There is no study with that slug.")
    return study


def _found(thing, what: str):
    if thing is None:
        abort(404, f"There is no {what} with that id.")
    return thing


# --- Documentation ---------------------------------------------------------------------------


@blueprint.get("/openapi.json")
@public
def openapi_document():
    """Public, so tools can read the contract before they hold a token."""
    return jsonify(openapi.document_for(current_app))


@blueprint.get("/docs")
@public
def docs():
    """The endpoints in plain HTML, for people; rendered from the OpenAPI document.

    Marked public only so that a visitor who is not logged in is sent to the login page
    (the API's own rule would answer them 401 JSON); the page itself needs a login.
    """
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    document = openapi.document_for(current_app)
    return render_template(
        "api/docs.html", document=document, operations=openapi.operations(document)
    )


# --- Studies and their frame -----------------------------------------------------------------


@blueprint.get("/studies")
def studies():
    filters = services.parse_study_filters(request.args)
    return _list(services.study_query(filters), serializers.study)


@blueprint.get("/studies/<slug>")
def study(slug: str):
    return jsonify(serializers.study(_study_or_404(slug)))


@blueprint.get("/studies/<slug>/phases")
def phases(slug: str):
    return _list(services.phase_query(_study_or_404(slug)), serializers.phase)


@blueprint.get("/studies/<slug>/districts")
def districts(slug: str):
    study = _study_or_404(slug)
    filters = services.parse_district_filters(request.args)
    return _list(services.district_query(study, filters), serializers.district)


@blueprint.get("/studies/<slug>/organisations")
def organisations(slug: str):
    study = _study_or_404(slug)
    filters = services.parse_organisation_filters(request.args)
    return _list(services.organisation_query(study, filters), serializers.organisation)


@blueprint.get("/studies/<slug>/roles")
def roles(slug: str):
    study = _study_or_404(slug)
    filters = services.parse_role_filters(request.args)
    return _list(services.role_query(study, filters), serializers.role)


@blueprint.get("/studies/<slug>/participants")
def participants(slug: str):
    study = _study_or_404(slug)
    filters = services.parse_participant_filters(request.args)
    return _list(
        services.participant_list_query(study, filters, current_user), serializers.participant
    )


# --- Single resources ------------------------------------------------------------------------


def _id_or_404(raw_id: int, what: str) -> int:
    """Flask's int converter takes any length; larger than a row id cannot name one."""
    if raw_id > services.MAX_ID:
        abort(404, f"There is no {what} with that id.")
    return raw_id


@blueprint.get("/participants/<int:participant_id>")
def participant(participant_id: int):
    found = services.get_participant(_id_or_404(participant_id, "participant"), current_user)
    return jsonify(serializers.participant(_found(found, "participant")))


@blueprint.get("/districts/<int:district_id>")
def district(district_id: int):
    found = services.get_district(_id_or_404(district_id, "district"))
    return jsonify(serializers.district(_found(found, "district")))


@blueprint.get("/organisations/<int:organisation_id>")
def organisation(organisation_id: int):
    found = services.get_organisation(_id_or_404(organisation_id, "organisation"))
    return jsonify(serializers.organisation(_found(found, "organisation")))


@blueprint.get("/roles/<int:role_id>")
def role(role_id: int):
    found = services.get_role(_id_or_404(role_id, "role"))
    return jsonify(serializers.role(_found(found, "role")))
