"""A throwaway Virtuoso on 127.0.0.1 for the remote-backend tests.

Debian's `virtuoso-opensource` (installed by `make virtuoso`, which .ci/run calls) is started
with a configuration written here into a tmp dir: both ports free and bound to the loopback, the
database in the tmp dir, and the `dba` password changed from the default to a generated one
before anything is loaded. Nothing of the system's /etc/virtuoso-opensource-7 is used.

`virtuoso_or_skip()` skips when the binary is absent on a laptop; under CI (CI=true) a missing
Virtuoso is a failure, never a skip.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

BINARY = "virtuoso-t"
ISQL = "isql-vt"
START_TIMEOUT = 60.0

INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = .
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}/vsp
ServerThreads = 10
MaxClientConnections = 10
Charset = UTF-8
EnabledGzipContent = 0

[SPARQL]
; the default 10000 silently truncates larger answers: the remote backend must see them whole
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
MaxQueryCostEstimationTime = 400
"""


@dataclass
class Virtuoso:
    directory: Path
    sql_port: int
    http_port: int
    password: str
    process: subprocess.Popen

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sparql_url(self) -> str:
        return self.base + "/sparql"

    @property
    def gsp_url(self) -> str:
        """The Graph Store endpoint that takes digest authentication (dba may write)."""
        return self.base + "/sparql-graph-crud-auth"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log(self) -> str:
        path = self.directory / "virtuoso.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def available() -> bool:
    return shutil.which(BINARY) is not None and shutil.which(ISQL) is not None


def virtuoso_or_skip() -> None:
    """Skip on a machine without Virtuoso, unless in CI, where its absence fails the run."""
    if available():
        return
    message = f"{BINARY}/{ISQL} not found: `make virtuoso` installs Debian's virtuoso-opensource"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(directory: Path) -> Virtuoso:
    """Write the configuration, start the server, wait for it, replace the default password."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vsp").mkdir(exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    ini = directory / "virtuoso.ini"
    ini.write_text(INI.format(dir=directory, sql_port=sql_port, http_port=http_port))
    process = subprocess.Popen(
        [shutil.which(BINARY), "-f", "-c", str(ini)],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Virtuoso(directory, sql_port, http_port, "", process)
    try:
        _wait(server)
        password = "Kg" + secrets.token_hex(16)  # a plain identifier: isql parses it unquoted
        _isql(server, "dba", f"set password dba {password};")
        _isql(server, password, "select 1;")  # the new one works (and the default no longer)
        server.password = password
    except BaseException:
        server.stop()
        raise
    return server


def _wait(server: Virtuoso) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    query = urllib.parse.urlencode({"query": "ASK {}"})
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"virtuoso exited ({server.process.returncode}):\n{server.log()}")
        try:
            with urllib.request.urlopen(f"{server.sparql_url}?{query}", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"virtuoso did not answer within {START_TIMEOUT:.0f} s:\n{server.log()}")


def _isql(server: Virtuoso, password: str, statement: str) -> None:
    done = subprocess.run(
        [shutil.which(ISQL), f"127.0.0.1:{server.sql_port}", "dba", password, f"exec={statement}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0 or "Error" in done.stdout + done.stderr:
        raise RuntimeError(f"isql {statement.split()[0]}: {done.stdout}{done.stderr}")


def published(settings, directory: Path):
    """Generator for a session fixture: a Virtuoso holding the built dataset, then stopped."""
    from graph.remote.publish import GraphStore, publish
    from graph.remote.store import RemoteStore
    from graph.store import dataset_version, open_store

    virtuoso_or_skip()
    server = start(directory)
    try:
        store = open_store(settings)
        gsp = GraphStore(server.gsp_url, "dba", server.password)
        remote = RemoteStore(server.sparql_url, base_iri=settings.base_iri, graphs=[])
        publish(settings, store, dataset_version(settings), gsp, remote,
                directory / "publish-state.json")
        yield server
    finally:
        server.stop()
