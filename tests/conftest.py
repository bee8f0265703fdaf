"""Shared fixtures. Keep this file tidy: one fixture per job, each with a line saying what it gives.

- `mini_settings`: Settings for a fresh tmp copy of tests/fixtures/mini (tests may break it).
- `repo_settings`: Settings for a fresh tmp copy of the real ontology/ and data/ (breakable).
- `built_settings`: (session) the REAL data built once into a tmp store; read-only for tests.
- `runner`: a click CliRunner.
- `app`, `client`, `store`: (module) the Flask app over `built_settings`, its test client, and
  the read-only store it serves. Modules that need another app define their own `app`.
- `standin`: a real HTTP stand-in for Wikidata on 127.0.0.1 (tests/standin.py), reset per test.
- `virtuoso`: (session) a Virtuoso on 127.0.0.1 holding `built_settings`' dataset, published by
  `kg publish` (tests/virtuoso.py; skipped without the binary, except in CI where it fails).
"""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from graph.config import Settings

ROOT = Path(__file__).resolve().parent.parent
MINI = Path(__file__).resolve().parent / "fixtures" / "mini"


def copy_inputs(src: Path, dest: Path) -> Settings:
    """Copy ontology/ and data/ into dest; Settings rooted there (the store goes to dest/var)."""
    for name in ("ontology", "data"):
        shutil.copytree(src / name, dest / name, ignore=shutil.ignore_patterns("examples"))
    return Settings(root=dest)


@pytest.fixture
def mini_settings(tmp_path: Path) -> Settings:
    return copy_inputs(MINI, tmp_path / "repo")


@pytest.fixture
def repo_settings(tmp_path: Path) -> Settings:
    return copy_inputs(ROOT, tmp_path / "repo")


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from graph.build.pipeline import build

    settings = Settings(store_path=tmp_path_factory.mktemp("built") / "var" / "store")
    build(settings)
    return settings


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def virtuoso(built_settings: Settings, tmp_path_factory: pytest.TempPathFactory):
    from virtuoso import published

    yield from published(built_settings, tmp_path_factory.mktemp("virtuoso"))


@pytest.fixture(scope="module")
def app(built_settings: Settings):
    from endpoint import create_app

    app = create_app(built_settings)
    yield app
    app.extensions["kg"].pool.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def store(app):
    return app.extensions["kg"].store


@pytest.fixture(scope="module")
def standin_server():
    from standin import serve

    with serve() as server:
        yield server


@pytest.fixture
def standin(standin_server):
    standin_server.reset()
    yield standin_server
    standin_server.reset()
    # pyoxigraph results may only be freed by the thread that made them; collect any cycle here
    gc.collect()


@pytest.fixture(autouse=True)
def _free_engine_results():
    """pyoxigraph's results may only be freed by the thread that made them. One caught in a
    reference cycle (a traceback, a generator's frame) is collected here, after its test, on the
    test's own thread: not by a collection that happens to run in a later test's thread, where
    freeing it raises (and filterwarnings=error makes that test fail)."""
    yield
    gc.collect()
