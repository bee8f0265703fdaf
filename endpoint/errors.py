"""Placeholder; the endpoint work (issue 3) renders domain errors here."""

from flask import Flask


def register_error_handlers(app: Flask) -> None:
    return None
