"""The API's own pages: the OpenAPI document and, for people, the docs page rendered from it."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from fieldwork.api import spec
from fieldwork.api.blueprint import BASE_PATH, ApiBlueprint
from fieldwork.core.web import public

#: The document itself (described in itself, readable without credentials).
blueprint = ApiBlueprint("api", __name__)
#: The docs page, a page for people: not an operation of the API.
pages = Blueprint("api_pages", __name__, url_prefix=BASE_PATH)


@blueprint.get("/openapi.json")
@blueprint.doc(
    security=[],
    tags=["Documentation"],
    responses={
        "200": {
            "description": "The OpenAPI document.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
@public
def openapi_document() -> ResponseReturnValue:
    """This document

    Readable without credentials, so that tools can read the contract before they hold a token.
    """
    return jsonify(spec.document())


@pages.get("/docs")
@public
def docs() -> ResponseReturnValue:
    """The endpoints in plain HTML, for people; rendered from the OpenAPI document.

    Marked public only so that a visitor who is not logged in is sent to the login page
    (the API's own rule would answer them 401 JSON); the page itself needs a login.
    """
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    document = spec.document()
    return render_template("api/docs.html", document=document, operations=spec.operations(document))
