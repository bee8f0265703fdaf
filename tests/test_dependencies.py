"""The lock file: what `make audit` audits must be what pyproject.toml installs.

`requirements.lock` (pip-compile --generate-hashes, `make lock`) is audited by pip-audit in CI.
An audit of a stale lock proves nothing, so: every direct dependency of pyproject.toml (and of
its test extra) is in the lock at exactly the pinned version, and every locked package carries
at least one sha256 hash (pip --require-hashes refuses the file otherwise).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) from requirements.lock."""
    out: dict[str, tuple[str, int]] = {}
    current = None
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9][\w.\-]*)==([^\s\\;]+)", line)
        if m:
            current = _norm(m.group(1))
            out[current] = (m.group(2), 0)
        elif current and "--hash=sha256:" in line:
            version, n = out[current]
            out[current] = (version, n + 1)
    return out


def pinned() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"]) + list(project["optional-dependencies"]["test"])
    out = {}
    for spec in specs:
        name, _, version = spec.partition("==")
        assert version, f"{spec!r} in pyproject.toml is not pinned with =="
        out[_norm(name.split("[")[0])] = version.strip()
    return out


def test_every_pinned_dependency_is_locked_at_its_version():
    lock = locked()
    stale = {name: (version, lock.get(name, ("missing",))[0])
             for name, version in pinned().items() if lock.get(name, ("",))[0] != version}
    assert stale == {}, f"requirements.lock is stale (pyproject, lock): {stale}; run `make lock`"


def test_every_locked_package_has_a_hash():
    unhashed = [name for name, (_, hashes) in locked().items() if hashes == 0]
    assert unhashed == []
    assert len(locked()) > len(pinned())  # the transitive dependencies are locked too
