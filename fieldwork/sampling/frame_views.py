"""Pages for studies, phases, districts, organisations and roles."""

from flask import Blueprint

blueprint = Blueprint("frame", __name__)
