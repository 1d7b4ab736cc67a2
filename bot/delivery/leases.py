"""Who holds a delivery lease: this process's name, and whether a holder on this host has died."""

from __future__ import annotations

import os
import socket
import uuid


def process_name() -> str:
    """host:pid:token; the token tells this run from an earlier one that had the same pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_dead(holder: str, me: str) -> bool:
    """A lease holder on this host whose process is gone (after kill -9 nobody releases its leases).
    Holders on other hosts are never judged: their leases simply expire."""
    host, _, rest = holder.partition(":")
    my_host, _, my_rest = me.partition(":")
    pid_text, _, token = rest.partition(":")
    my_pid, _, my_token = my_rest.partition(":")
    if host != my_host or not pid_text.isdigit() or holder == me:
        return False
    if pid_text == my_pid:  # our pid with another token: an earlier run of this process (containers: pid 1)
        return token != my_token
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False
    return False
