"""Run `app.py` (or bench/bare_app.py) with a per-thread CPU profiler; for bench/ack_latency.py --profile.

Every thread (waitress's I/O loop, its 16 workers, the 32 listener threads) gets its own cProfile
profiler timed with time.thread_time, so the numbers are CPU seconds that thread spent, not time it
waited for the GIL, a lock or a socket. When the app stops (SIGTERM) the profiles are merged and
written with pstats to $PROFILE_OUT, and a short text summary to $PROFILE_OUT.txt.

Profiling slows the app down several times: latencies measured under it are not the real ones.

    PROFILE_OUT=/tmp/defuse.pstats python bench/profile_app.py app.py
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import runpy
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()


def _new_profile() -> cProfile.Profile:
    profile = cProfile.Profile(timer=time.thread_time)
    with _lock:
        _profiles.append(profile)
    return profile


def _thread_hook(*_args: object) -> None:
    # Called once at the first event of every new thread: replace this hook by a real profiler.
    _new_profile().enable()


def _dump(out: Path) -> None:
    main_profile = _profiles[0]
    main_profile.disable()
    stats = pstats.Stats(main_profile)
    for profile in _profiles[1:]:
        try:
            stats.add(profile)
        except Exception as exc:  # a thread died mid-call; skip its profile
            print(f"profile_app: skipped a thread profile: {exc}", file=sys.stderr)
    stats.dump_stats(str(out))
    text = io.StringIO()
    report = pstats.Stats(str(out), stream=text)
    report.sort_stats("cumulative").print_stats(45)
    report.sort_stats("tottime").print_stats(35)
    Path(str(out) + ".txt").write_text(text.getvalue())


def main() -> int:
    target = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("WRAPPED_APP")  # the harness passes no arguments
    if not target:
        print("usage: profile_app.py SCRIPT (or WRAPPED_APP=SCRIPT)", file=sys.stderr)
        return 2
    script = Path(target).resolve()
    out = Path(os.environ.get("PROFILE_OUT", "app.pstats")).resolve()
    sys.argv = [str(script)]
    sys.path.insert(0, str(script.parent))
    threading.setprofile(_thread_hook)
    _new_profile().enable()
    code = 0
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    finally:
        threading.setprofile(None)
        _dump(out)
    return code


if __name__ == "__main__":
    sys.exit(main())
