"""Placeholder blueprint; replaced by the endpoint work (issue 3)."""

from flask import Blueprint

bp = Blueprint("sparql", __name__)
