"""A throwaway PostgreSQL server for the test run, so a newcomer's run skips nothing.

When ``PATHWAYS_TEST_POSTGRES_URL`` is not set and PostgreSQL's server programs are on the
machine (``initdb`` and ``pg_ctl`` on PATH or in ``/usr/lib/postgresql/*/bin``), the test
run makes a cluster in a temporary folder, starts it on a free loopback port (its socket in
that folder, fsync off), creates ``pathways_test`` and sets the variable; the server stops
and the folder goes when the run ends. ``initdb`` refuses to run as root, so as root the
cluster belongs to the ``postgres`` user (Debian's package creates it) and the programs
run as that user. A URL set by the caller always wins.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["INSTALL_HINT", "ThrowawayPostgres", "find_bindir"]

INSTALL_HINT = (
    "PostgreSQL is not installed here: install its server (Debian/Ubuntu: apt-get install postgresql; "
    "macOS: brew install postgresql) and the tests start a throwaway server themselves, "
    "or set PATHWAYS_TEST_POSTGRES_URL=postgresql+psycopg://user:password@host:5432/db"
)


def find_bindir() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: PATH first, then Debian's versioned folders (newest)."""
    on_path = shutil.which("initdb"), shutil.which("pg_ctl")
    if all(on_path):
        return Path(on_path[0]).parent  # type: ignore[arg-type]
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0)
    for folder in reversed(versions):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThrowawayPostgres:
    """One cluster in a temporary folder; :meth:`start` returns its URL, :meth:`stop` removes it."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="pathways-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self._user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._user:
            command = ["runuser", "-u", self._user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> str:
        if self._user:
            entry = pwd.getpwnam(self._user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"), "-w", "-t", "60", "start")
        import psycopg

        for _ in range(50):
            try:
                with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True) as conn:
                    conn.execute("CREATE DATABASE pathways_test")
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/pathways_test"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except RuntimeError:
            pass
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
