"""Where the live store is and how to open it.

`settings.store_path` (default var/store) is a symlink to the current build directory
var/builds/<id>/, which holds `oxigraph/` (the store), `dumps/` and `build.json`. A build swaps
the symlink atomically, so readers see either the old build or the new one, never half of one.
"""

from __future__ import annotations

import json
from pathlib import Path

from pyoxigraph import Store

from graph.config import Settings
from graph.errors import StoreMissing

STORE_DIR = "oxigraph"
DUMPS_DIR = "dumps"
BUILD_INFO = "build.json"


def builds_root(settings: Settings) -> Path:
    """var/builds/ next to the store symlink."""
    return settings.store_path.parent / "builds"


def current_build_dir(settings: Settings) -> Path:
    """The build directory the store symlink points to; StoreMissing if nothing was built."""
    link = settings.store_path
    target = link.resolve()
    if not (target / STORE_DIR).is_dir():
        raise StoreMissing(f"no built store at {link}: run `kg build` first")
    return target


def open_store(settings: Settings, read_only: bool = True) -> Store:
    """Open the current build's store; read-only unless asked (the endpoint never writes)."""
    path = current_build_dir(settings) / STORE_DIR
    try:
        return Store.read_only(str(path)) if read_only else Store(str(path))
    except OSError as err:
        raise StoreMissing(f"cannot open the store at {path}: {err}") from err


def build_info(settings: Settings) -> dict:
    """The contents of the current build's build.json (version, counts, timestamp)."""
    path = current_build_dir(settings) / BUILD_INFO
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise StoreMissing(f"cannot read {path}: {err}") from err


def dataset_version(settings: Settings) -> str:
    """The content hash of the inputs the current store was built from (HTTP caches key on it)."""
    return str(build_info(settings)["version"])


def dumps_dir(settings: Settings) -> Path:
    """The dumps of the current build (khojaly.ttl, .trig, .nt, .nq, .jsonld, .rdf)."""
    return current_build_dir(settings) / DUMPS_DIR
