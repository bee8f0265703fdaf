"""Where the live store is and how to open it.

`settings.store_path` (default var/store) is a symlink to the current build directory
var/builds/<id>/, which holds `oxigraph/` (the store), `dumps/` and `build.json`. A build swaps
the symlink atomically, so readers see either the old build or the new one, never half of one.
"""

from __future__ import annotations

import fcntl
import json
import os
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import Store

from graph.config import Settings
from graph.errors import StoreMissing

STORE_DIR = "oxigraph"
DUMPS_DIR = "dumps"
BUILD_INFO = "build.json"
IN_USE_LOCK = "in-use.lock"


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


@dataclass
class PinnedBuild:
    """One build, resolved once and held open by a server process.

    Resolving the symlink once means the store, its version (and so every ETag) and its dumps
    all come from the same build even if `kg build` swaps in a new one meanwhile. The shared
    lock on `<build>/in-use.lock` tells `kg build` not to prune this directory while a server
    still reads it (see `in_use`); it is released when the process exits.
    """

    directory: Path
    version: str
    lock_fd: int
    _finalizer: weakref.finalize | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # closing the descriptor releases the lock: when released, collected, or at exit
        self._finalizer = weakref.finalize(self, os.close, self.lock_fd)

    @property
    def store_dir(self) -> Path:
        return self.directory / STORE_DIR

    def release(self) -> None:
        if self._finalizer is not None:
            self._finalizer()


def pin_current_build(settings: Settings) -> PinnedBuild:
    """Resolve the current build once and hold it (a shared lock) for this process."""
    directory = current_build_dir(settings)
    fd = os.open(directory / IN_USE_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        info = json.loads((directory / BUILD_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        os.close(fd)
        raise StoreMissing(f"cannot read {directory / BUILD_INFO}: {err}") from err
    return PinnedBuild(directory=directory, version=str(info["version"]), lock_fd=fd)


def in_use(build_dir: Path) -> bool:
    """True while some process holds the build pinned (a shared lock we cannot upgrade)."""
    path = build_dir / IN_USE_LOCK
    if not path.exists():
        return False
    with path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False
