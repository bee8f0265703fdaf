"""`kg build`: parse, load into a NEW on-disk store, validate, describe, dump, swap atomically.

The input is streamed: each file is parsed natively, its quads appended as N-Quads to the new
build's `dumps/khojaly.nq`, and the same bytes fed through a pipe to `Store.bulk_load` running
in another thread (it releases the GIL), so parsing and loading overlap and no big input is ever
held in Python. That N-Quads file, with the VoID/DCAT quads appended, IS the N-Quads dump.
Validation runs AFTER loading, against the new store, before the swap.

A failure at any stage raises before the swap and removes the half-built directory, so the
previous store keeps serving untouched. The swap is one `os.replace` of a symlink, which is
atomic on POSIX: a reader opens either the old build or the new one.
"""

from __future__ import annotations

import fcntl
import gc
import json
import os
import shutil
import tempfile
import threading
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing.pool import Pool
from pathlib import Path
from typing import IO

from pyoxigraph import RdfFormat, Store, parse, serialize

from graph.build import describe, export
from graph.build.inputs import Parsed, parsing_pool, stage
from graph.config import Settings
from graph.errors import KGError, ValidationFailed
from graph.namespaces import graph_iri
from graph.search import INDEX_FILE
from graph.search import index as search_index
from graph.store import BUILD_INFO, DUMPS_DIR, STORE_DIR, builds_root, in_use
from graph.validate import integrity, shacl
from graph.validate.shacl import Report

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


def _keep_data(settings: Settings) -> Callable[[int], bool]:
    """Whether the loader keeps data quads in Python: only if pySHACL will validate them."""
    return lambda n: shacl.use_pyshacl(n, settings)


def _validate(store: Store, parsed: Parsed, settings: Settings, on_step: Step) -> Report:
    """SHACL (pySHACL in memory when the data is small, else inside the store), then the
    integrity checks (graph/queries/checks) against the same store, into one Report."""
    on_step("validating shapes")
    if parsed.in_memory:
        report = shacl.validate(parsed, settings)
        # pySHACL leaves rdflib graphs in reference cycles (~1 s to collect at 100k triples):
        # collect them here, where they were made, not in whichever later stage gc runs
        gc.collect()
    else:
        report = shacl.validate_store(store, parsed, settings)
    on_step("integrity checks")
    report.problems.extend(integrity.check(parsed, settings, store=store))
    report.conforms = not report.problems
    return report


class _Tee:
    """Writes to the staging file and to the bulk loader's pipe; a dead loader is noted, not
    fatal here (its own error is raised once the loader thread is joined)."""

    def __init__(self, file: IO[bytes], pipe: IO[bytes] | None) -> None:
        self.file, self.pipe = file, pipe

    def write(self, data: bytes) -> int:
        self.file.write(data)
        if self.pipe is not None:
            try:
                self.pipe.write(data)
            except BrokenPipeError:
                self.pipe = None
        return len(data)


class _Loader:
    """`Store.bulk_load` of everything written to a pipe, in a thread (native, GIL released)."""

    def __init__(self, store: Store) -> None:
        read_fd, write_fd = os.pipe()
        self._read_fd = read_fd
        self.pipe = os.fdopen(write_fd, "wb", buffering=1 << 20)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(store,), daemon=True)
        self._thread.start()

    def _run(self, store: Store) -> None:
        try:
            store.bulk_load(path=f"/dev/fd/{self._read_fd}", format=RdfFormat.N_QUADS)
        except BaseException as err:  # noqa: BLE001 - re-raised in the building thread by finish()
            self.error = err
        finally:
            os.close(self._read_fd)

    def finish(self) -> None:
        """Close the pipe (end of input), wait for the load, raise its error if it failed."""
        try:
            self.pipe.close()
        except BrokenPipeError:
            pass
        self._thread.join()
        if self.error is not None:
            raise self.error


def _parse_and_load(
    store: Store, nq: Path, settings: Settings, on_step: Step, pool: Pool | None = None
) -> Parsed:
    """Parse every file into `nq` and, in parallel where the OS allows, into the store.

    Quads without blank nodes stream to the native `Store.bulk_load` while parsing goes on.
    Quads with a blank node are loaded afterwards through `bulk_extend` (Python objects,
    slower): `bulk_load` gives blank nodes fresh random labels, which would make the store's
    order, and so every dump, differ between two builds of the same input.
    """
    on_step("parsing")
    keep = _keep_data(settings)
    blank = nq.with_name(f".{nq.name}.blank")
    try:
        with nq.open("wb") as out, blank.open("wb") as blank_out:
            loader = _Loader(store)  # reads a pipe by path: /dev/fd (Linux, macOS)
            try:
                parsed = stage(settings, _Tee(out, loader.pipe), keep, pool, _Tee(out, blank_out))
            finally:
                on_step("loading the store")  # what is left of it once parsing is done
                loader.finish()
        store.bulk_extend(parse(path=str(blank), format=RdfFormat.N_QUADS))
    finally:
        blank.unlink(missing_ok=True)
    return parsed


def _in_memory_check(parsed: Parsed, settings: Settings, on_step: Step) -> Report:
    store = integrity.in_memory_store(parsed)
    return _validate(store, parsed, settings, on_step)


def check_inputs(settings: Settings, on_step: Step = _quiet) -> tuple[Parsed, Report]:
    """`kg validate`: parse (raises DataError on syntax), then SHACL and the integrity checks.

    Small inputs are checked in memory; big ones are loaded into a temporary on-disk store
    (removed afterwards), the same way `kg build` checks them.
    """
    keep = _keep_data(settings)
    with tempfile.TemporaryDirectory(prefix="kg-validate-") as tmp:
        on_step("parsing")
        nq = Path(tmp) / "input.nq"
        with parsing_pool(settings) as pool, nq.open("wb") as out:
            parsed = stage(settings, out, keep, pool)
        if parsed.in_memory:
            return parsed, _in_memory_check(parsed, settings, on_step)
        on_step("loading the store")
        store = Store(str(Path(tmp) / STORE_DIR))
        try:
            store.bulk_extend(parse(path=str(nq), format=RdfFormat.N_QUADS))
            return parsed, _validate(store, parsed, settings, on_step)
        finally:
            del store
            gc.collect()


def _new_build_dir(settings: Settings, label: str, now: datetime) -> Path:
    root = builds_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    stem = f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{label[:8]}"
    path, n = root / stem, 1
    while path.exists():
        n += 1
        path = root / f"{stem}-{n}"
    path.mkdir()
    return path


def _fill(build_dir: Path, settings: Settings, now: datetime, on_step: Step) -> BuildReport:
    with parsing_pool(settings) as pool:  # forked before the store starts its threads
        store = Store(str(build_dir / STORE_DIR))
        try:
            return _fill_store(store, build_dir, settings, now, on_step, pool)
        except BaseException as err:
            traceback.clear_frames(err.__traceback__)  # the frames below hold the store too
            raise
        finally:
            # Close the RocksDB handles now, on success (before anyone opens the store
            # read-only) and on failure (so the half-built directory can be removed: a
            # traceback would otherwise keep the store, and its background writers, alive).
            del store
            gc.collect()


def _fill_store(
    store: Store,
    build_dir: Path,
    settings: Settings,
    now: datetime,
    on_step: Step,
    pool: Pool | None,
) -> BuildReport:
    dumps = build_dir / DUMPS_DIR
    dumps.mkdir()
    nq = dumps / f"{export.STEM}.{RdfFormat.N_QUADS.file_extension}"
    parsed = _parse_and_load(store, nq, settings, on_step, pool)
    _reached("load")
    report = _validate(store, parsed, settings, on_step)
    if not report.conforms:
        raise ValidationFailed(report.problems)
    graphs = dict(sorted(parsed.triples.items()))
    on_step("describing (VoID/DCAT)")
    description = describe.describe(
        store,
        base_iri=settings.base_iri,
        version=parsed.version,
        modified=now,
        dump_formats=export.DUMP_FORMATS,
        graph_counts=graphs,
        quote_coverage=integrity.quote_coverage(store, settings),
    )
    store.extend(description)
    graphs[graph_iri(settings.base_iri, "void")] = len(description)  # served, so counted
    graphs = dict(sorted(graphs.items()))
    with nq.open("ab") as out:  # the N-Quads dump holds exactly what the store holds
        serialize(description, out, format=RdfFormat.N_QUADS)
    on_step("writing dumps")
    formats = export.formats_of(settings.dump_formats)
    written = export.dump_all(
        store,
        dumps,
        base_iri=settings.base_iri,
        formats=tuple(f for f in formats if f != RdfFormat.N_QUADS),
    )
    if RdfFormat.N_QUADS not in formats:
        nq.unlink()
    else:
        written.append(nq)
    on_step("search index")  # next to the store, so the swap replaces both at once
    search_index.write_index(store, build_dir / INDEX_FILE, settings.base_iri, parsed.version)
    store.flush()
    return BuildReport(
        build_dir=build_dir,
        version=parsed.version,
        timestamp=now.isoformat(timespec="seconds"),
        triples=sum(graphs.values()),
        graphs=graphs,
        warnings=[str(p) for p in report.warnings],
        dumps=sorted(p.name for p in written),
    )


def _swap(settings: Settings, build_dir: Path) -> None:
    link = settings.store_path
    tmp = link.parent / f".{link.name}.{build_dir.name}.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(build_dir, link.parent), tmp)
    _reached("swap")
    os.replace(tmp, link)


# Called with "load" and "swap" as a build reaches them. Nothing is registered in use: the fault
# tests register one (tests/build_paused.py) that holds the build there, so they can kill -9 it
# in the middle of loading or of the swap and check that the live store is untouched.
STAGE_HOOKS: list[Callable[[str], None]] = []


def _reached(stage_name: str) -> None:
    for hook in STAGE_HOOKS:
        hook(stage_name)


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
    except OSError as err:  # disk full, read-only directory...: a message, not a trace
        raise KGError(f"build failed: {err} (the previous store is untouched)") from err


def _build(settings: Settings, on_step: Step) -> BuildReport:
    link = settings.store_path
    if link.exists() and not link.is_symlink():
        raise KGError(f"{link} exists and is not a symlink to a build: move it away first")
    export.formats_of(settings.dump_formats)  # an unknown format fails before any work
    now = datetime.now(UTC)
    # the version (a hash of the inputs) is known only once they are read: name the directory
    # after it once it is, so a failed parse leaves nothing with a misleading name behind
    build_dir = _new_build_dir(settings, "building", now)
    try:
        result = _fill(build_dir, settings, now, on_step)
        final = build_dir.with_name(build_dir.name.replace("-building", f"-{result.version[:8]}"))
        if not final.exists():
            build_dir.rename(final)
            build_dir = result.build_dir = final
        info = {k: v for k, v in asdict(result).items() if k != "build_dir"}
        (build_dir / BUILD_INFO).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
        on_step("swapping")
        _swap(settings, build_dir)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    _prune(settings, build_dir)
    return result
