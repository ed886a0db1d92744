"""Importing a sample frame from a CSV file."""

from flask import Blueprint

blueprint = Blueprint("imports", __name__)
