"""A throwaway PostgreSQL cluster for tests that stop or hang the database server.

Started with initdb/pg_ctl on a free port in a temporary directory (as the `postgres` user when the
tests run as root, since PostgreSQL refuses to run as root). `hang()` freezes the postmaster and every
backend with SIGSTOP, the way a stalled VM or a stuck disk looks to a client: connections stay open,
nothing answers. `stop_immediate()` is `pg_ctl stop -m immediate` (a crash, as far as clients can tell).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from tests.harness import free_port


def unavailable_reason() -> str | None:
    if not _bin_dir():
        return "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run initdb/pg_ctl as"
        if not shutil.which("runuser"):
            return "running as root and `runuser` is missing"
    return None


def _bin_dir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(found[-1]) if found else None


class PgCluster:
    def __init__(self) -> None:
        self.bin = _bin_dir() or ""
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="defuse-pg-"))
        self.data = self.root / "data"
        self.logfile = self.root / "server.log"
        self.stopped_pids: list[int] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [os.path.join(self.bin, args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)

    def start(self) -> PgCluster:
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        # fsync=off is safe here: `stop -m immediate` kills processes, the OS keeps what they wrote.
        # synchronous_commit stays on, so a commit is written before it is acknowledged.
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c max_connections=60")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.logfile), "-w", "-t", "30", "start")
        return self

    def pids(self) -> list[int]:
        """The postmaster and every process it started."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(stat.split("/")[2]))
        return [postmaster, *children]

    def hang(self) -> None:
        self.stopped_pids = self.pids()
        for pid in self.stopped_pids:
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in reversed(self.stopped_pids):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.stopped_pids = []

    def stop_immediate(self) -> None:
        self.resume()
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.resume()
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except Exception:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
