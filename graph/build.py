"""`kg build`: parse, validate, load into a NEW on-disk store, describe, dump, swap atomically.

A failure at any stage raises before the swap and removes the half-built directory, so the
previous store keeps serving untouched. The swap is one `os.replace` of a symlink, which is
atomic on POSIX: a reader opens either the old build or the new one.
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import json
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pyoxigraph import Store

from graph import export, integrity, metadata
from graph.config import Settings
from graph.errors import KGError, ValidationFailed
from graph.load import Parsed, load
from graph.stats import triples_per_graph
from graph.store import BUILD_INFO, DUMPS_DIR, STORE_DIR, builds_root, in_use
from graph.validate import Report, validate

Step = Callable[[str], None]


@dataclass
class BuildReport:
    build_dir: Path
    version: str
    timestamp: str
    triples: int
    graphs: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    dumps: list[str] = field(default_factory=list)


def _quiet(_: str) -> None:
    return None


def input_version(parsed: Parsed, settings: Settings) -> str:
    """A content hash of the inputs and the base IRI: the dataset version."""
    h = hashlib.sha256(settings.base_iri.encode())
    for f in parsed.files:
        h.update(b"\0" + f.rel.encode() + b"\0" + f.path.read_bytes())
    return h.hexdigest()[:16]


def check_inputs(settings: Settings, on_step: Step = _quiet) -> tuple[Parsed, Report]:
    """Parse (raises DataError on syntax), then SHACL and the integrity checks, into one Report."""
    on_step("parsing")
    parsed = load(settings)
    on_step("validating shapes")
    report = validate(parsed, settings)
    on_step("integrity checks")
    report.problems.extend(integrity.check(parsed, settings))
    report.conforms = not report.problems
    return parsed, report


def _new_build_dir(settings: Settings, version: str, now: datetime) -> Path:
    root = builds_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    stem = f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{version[:8]}"
    path, n = root / stem, 1
    while path.exists():
        n += 1
        path = root / f"{stem}-{n}"
    path.mkdir()
    return path


def _fill(
    build_dir: Path, parsed: Parsed, settings: Settings, version: str, now: datetime, on_step: Step
) -> BuildReport:
    on_step("loading the store")
    store = Store(str(build_dir / STORE_DIR))
    try:
        return _fill_store(store, build_dir, parsed, settings, version, now, on_step)
    except BaseException as err:
        traceback.clear_frames(err.__traceback__)  # the frames below hold the store too
        raise
    finally:
        # Close the RocksDB handles now, on success (before anyone opens the store read-only)
        # and on failure (so the half-built directory can be removed: a traceback would
        # otherwise keep the store, and its background writers, alive).
        del store
        gc.collect()


def _fill_store(
    store: Store,
    build_dir: Path,
    parsed: Parsed,
    settings: Settings,
    version: str,
    now: datetime,
    on_step: Step,
) -> BuildReport:
    quads = list(parsed.all_quads())
    # bulk_extend writes SST files directly: the way for big inputs, slower for small ones.
    (store.bulk_extend if len(quads) > 100_000 else store.extend)(quads)
    _pause_at(settings, "load")
    graphs = dict(triples_per_graph(store, settings.base_iri))
    on_step("describing (VoID/DCAT)")
    store.extend(
        metadata.describe(
            store,
            base_iri=settings.base_iri,
            version=version,
            modified=now,
            dump_formats=export.DUMP_FORMATS,
        )
    )
    on_step("writing dumps")
    dumps = export.dump_all(store, build_dir / DUMPS_DIR, base_iri=settings.base_iri)
    report = BuildReport(
        build_dir=build_dir,
        version=version,
        timestamp=now.isoformat(timespec="seconds"),
        triples=sum(graphs.values()),
        graphs=graphs,
        dumps=[p.name for p in dumps],
    )
    store.flush()
    return report


def _swap(settings: Settings, build_dir: Path) -> None:
    link = settings.store_path
    tmp = link.parent / f".{link.name}.{build_dir.name}.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(build_dir, link.parent), tmp)
    _pause_at(settings, "swap")
    os.replace(tmp, link)


def _pause_at(settings: Settings, stage: str) -> None:
    """Test hook (KG_BUILD_PAUSE_AT=load|swap): wait here so a fault test can kill -9 the build
    in the middle of loading or of the swap (tests/test_faults.py). Never set in production."""
    if settings.build_pause_at == stage:
        print(f"kg build: paused at {stage} (KG_BUILD_PAUSE_AT)", file=sys.stderr, flush=True)
        time.sleep(60)


def _prune(settings: Settings, current: Path) -> None:
    """Keep the newest `keep_builds` complete builds (always the current one); remove the rest.

    A directory without build.json is a build that died (kill -9, power loss) before its swap:
    we hold the build lock, so no build is in progress, and it goes too. A build a server
    process still has pinned (graph.store.pin_current_build) is kept until a later build finds
    it free.
    """
    builds = sorted(p for p in builds_root(settings).iterdir() if p.is_dir())
    complete = [p for p in builds if (p / BUILD_INFO).is_file()]
    keep = {p.name for p in complete[-max(settings.keep_builds, 1) :]} | {current.name}
    for p in builds:
        if p.name not in keep and not in_use(p):  # a running server still reads it
            shutil.rmtree(p, ignore_errors=True)


@contextmanager
def _build_lock(settings: Settings):
    """One build at a time per store: a second one would race the swap and prune the first's dir."""
    link = settings.store_path
    link.parent.mkdir(parents=True, exist_ok=True)
    with (link.parent / f".{link.name}.build-lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise KGError(f"another `kg build` is running for {settings.store_path}") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build(settings: Settings, on_step: Step = _quiet) -> BuildReport:
    """Build a new store from the inputs and make it current; raises before touching the old one."""
    try:
        with _build_lock(settings):
            return _build(settings, on_step)
    except OSError as err:  # disk full, read-only directory... (issue 6): a message, not a trace
        raise KGError(f"build failed: {err} (the previous store is untouched)") from err


def _build(settings: Settings, on_step: Step) -> BuildReport:
    link = settings.store_path
    if link.exists() and not link.is_symlink():
        raise KGError(f"{link} exists and is not a symlink to a build: move it away first")
    parsed, report = check_inputs(settings, on_step)
    if not report.conforms:
        raise ValidationFailed(report.problems)
    now = datetime.now(UTC)
    version = input_version(parsed, settings)
    build_dir = _new_build_dir(settings, version, now)
    try:
        result = _fill(build_dir, parsed, settings, version, now, on_step)
        result.warnings = [str(p) for p in report.warnings]
        info = {k: v for k, v in asdict(result).items() if k != "build_dir"}
        (build_dir / BUILD_INFO).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
        on_step("swapping")
        _swap(settings, build_dir)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    _prune(settings, build_dir)
    return result
