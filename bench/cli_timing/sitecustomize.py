"""Put on PYTHONPATH by bench/scale_check.py: a `flask --app app …` child process appends to the file
$SCALE_CHECK_TIMES the seconds it spent after its app was built (start-up: the interpreter, the imports
and create_app), up to its exit. Only a measurement: it changes nothing the command does."""

import atexit
import os
import time

import flask.cli

_load_app = flask.cli.ScriptInfo.load_app
_ready: list[float] = []


def _load_app_and_note(self):
    app = _load_app(self)
    if not _ready:
        _ready.append(time.perf_counter())
    return app


@atexit.register
def _write() -> None:
    if _ready and os.environ.get("SCALE_CHECK_TIMES"):
        with open(os.environ["SCALE_CHECK_TIMES"], "a") as handle:
            handle.write(f"{time.perf_counter() - _ready[0]:.6f}\n")


flask.cli.ScriptInfo.load_app = _load_app_and_note
