"""The learning loop's scheduled jobs (digest, retention) run off the reminder tick, each on a thread
of its own so a slow run never holds up reminders; a failed run is logged and a later tick tries again."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def start_in_background(name: str, run: Callable[[], object]) -> None:
    def logged() -> None:
        try:
            run()
        except Exception:
            log.exception("%s run failed; a later tick tries again", name)

    threading.Thread(target=logged, name=name, daemon=True).start()
