"""Run `app.py` (or bench/bare_app.py) with per-request stage timing; for bench/ack_latency.py --trace.

Wraps, before the app is loaded, three points on the ack path and records perf_counter times for
every POST that reaches Bolt's WSGI adapter:

  enter     waitress worker thread enters SlackRequestHandler.__call__
  submit    Bolt hands the listener to the listener executor (ThreadPoolExecutor.submit);
            also recorded: tasks running and queued in that executor at this moment
  start     a listener thread starts running it
  ack       the listener calls ack()
  exit      SlackRequestHandler.__call__ returns the response to waitress

so  enter->submit = Bolt middleware (signature check, authorize, parsing),  submit->start = wait
for a free listener thread,  start->ack = listener code before ack(),  ack->exit = Bolt's 10 ms
polling loop noticing the ack plus getting the GIL back. Waitress's own time (accept, read, write)
is outside enter..exit. On exit the records are written as JSON to $TRACE_OUT.

    TRACE_OUT=/tmp/defuse.trace.json python bench/trace_app.py app.py
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

_records: list[dict[str, Any]] = []
_local = threading.local()
_state_lock = threading.Lock()
_running = 0


def _install() -> None:
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_bolt.context.ack import Ack

    original_call = SlackRequestHandler.__call__
    original_submit = ThreadPoolExecutor.submit
    original_ack = Ack.__call__

    def traced_call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") != "POST":
            return original_call(self, environ, start_response)
        record: dict[str, Any] = {"enter": time.perf_counter()}
        _local.record = record
        try:
            return original_call(self, environ, start_response)
        finally:
            record["exit"] = time.perf_counter()
            _local.record = None
            _records.append(record)

    def traced_submit(self: ThreadPoolExecutor, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        record = getattr(_local, "record", None)
        if record is None or "submit" in record:  # only Bolt's hand-over of the listener is traced
            return original_submit(self, fn, *args, **kwargs)
        record["submit"] = time.perf_counter()
        record["running_at_submit"] = _running
        record["queued_at_submit"] = self._work_queue.qsize()

        def run() -> Any:
            global _running
            record["start"] = time.perf_counter()
            _local.record = record
            with _state_lock:
                _running += 1
            try:
                return fn(*args, **kwargs)
            finally:
                with _state_lock:
                    _running -= 1
                record["done"] = time.perf_counter()
                _local.record = None

        return original_submit(self, run)

    def traced_ack(self: Any, *args: Any, **kwargs: Any) -> Any:
        record = getattr(_local, "record", None)
        if record is not None and "ack" not in record:
            record["ack"] = time.perf_counter()
        return original_ack(self, *args, **kwargs)

    SlackRequestHandler.__call__ = traced_call  # type: ignore[method-assign]
    ThreadPoolExecutor.submit = traced_submit  # type: ignore[method-assign]
    Ack.__call__ = traced_ack  # type: ignore[method-assign]


def main() -> int:
    target = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("WRAPPED_APP")  # the harness passes no arguments
    if not target:
        print("usage: trace_app.py SCRIPT (or WRAPPED_APP=SCRIPT)", file=sys.stderr)
        return 2
    script = Path(target).resolve()
    out = Path(os.environ.get("TRACE_OUT", "app.trace.json")).resolve()
    sys.argv = [str(script)]
    sys.path.insert(0, str(script.parent))
    _install()
    code = 0
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    finally:
        out.write_text(json.dumps(list(_records)))
    return code


if __name__ == "__main__":
    sys.exit(main())
