"""`kg build`, held at one stage for the fault tests: python tests/build_paused.py load|swap.

A test-only entry point: it registers a stage hook (graph.build.pipeline.STAGE_HOOKS) that says on
stderr where the build is and then waits until it is killed, then runs `kg build` as usual.
"""

from __future__ import annotations

import signal
import sys

from graph.build import pipeline
from graph.cli.main import main


def _hold_at(stage: str):
    def hook(reached: str) -> None:
        if reached == stage:
            print(f"kg build: paused at {stage}", file=sys.stderr, flush=True)
            while True:
                signal.pause()  # until the test's kill -9

    return hook


if __name__ == "__main__":
    pipeline.STAGE_HOOKS.append(_hold_at(sys.argv[1]))
    main(["build", *sys.argv[2:]])
