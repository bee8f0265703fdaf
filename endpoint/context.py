"""Per-process state of the app: the settings, the read-only store and the dataset version.

Views reach it with `get_kg()`, the way the Flask tutorial's views reach the database with
`get_db()`. Nothing here is module-level: each app (and each test) gets its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from pyoxigraph import Store

from graph.config import Settings


@dataclass
class KGContext:
    settings: Settings
    store: Store | None
    version: str


def init_context(app: Flask, settings: Settings) -> KGContext:
    """Open the built store read-only once for this process (placeholder until issue 3 lands)."""
    from graph.store import open_store, dataset_version

    store = open_store(settings, read_only=True)
    ctx = KGContext(settings=settings, store=store, version=dataset_version(settings))
    app.extensions["kg"] = ctx
    return ctx


def get_kg() -> KGContext:
    return current_app.extensions["kg"]
