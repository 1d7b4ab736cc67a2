"""The benchmarks still run: each one's --smoke mode (tiny sizes, seconds) end to end, so they cannot rot."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.harness import ROOT

SMOKES = {
    "scale.py": ["home", "repeat", "step", "defuse RSS MB"],
    "ack_latency.py": ["defuse / bare", "load average"],
    "digest.py": ["digest build", "target < 1000 ms"],
    "insights.py": ["insights p50", "load average"],
    "memory.py": ["RSS sum MB", "bare Bolt app"],
    "scheduler.py": ["all sent", "load average"],
    "sweep.py": ["completed/s", "capacity: /angry offered", "RSS after"],
}


@pytest.mark.parametrize("script", sorted(SMOKES))
def test_benchmark_smoke_run(script: str) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--smoke"], capture_output=True, text=True,
                          timeout=90, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for figure in SMOKES[script]:
        assert figure in done.stdout, f"{script} --smoke printed no {figure!r}:\n{done.stdout[-3000:]}"
