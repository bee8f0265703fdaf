"""The event loop of `kg serve`'s workers (KG_EVENT_LOOP, ADR 0007): the one asked for is the one
granian is told to run, each of them starts a server that answers, and a name granian does not
know is refused before anything starts."""

from __future__ import annotations

import pytest

from bench import stress
from endpoint.server import command
from graph.config import Settings

pytestmark = pytest.mark.server


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_a_server_on_each_event_loop_answers(built_settings, tmp_path, loop):
    argv = command(Settings(root=tmp_path, event_loop=loop))
    assert argv[argv.index("--loop") + 1] == loop
    with stress.serve(built_settings.store_path, tmp_path / "server.log", workers=1,
                      event_loop=loop) as srv:
        status, body = stress.fetch(srv.port, "GET", "/sparql?query=ASK%7B%7D",
                                    {"Accept": stress.JSON})
    assert (status, body) == (200, b'{"head":{},"boolean":true}')


def test_uvloop_is_the_default():
    assert Settings.model_fields["event_loop"].default == "uvloop"


def test_an_unknown_event_loop_is_refused(tmp_path):
    with pytest.raises(ValueError, match="KG_EVENT_LOOP='trio'"):
        command(Settings(root=tmp_path, event_loop="trio"))
