"""A throwaway PostgreSQL for the persistence tests: Debian's server binaries, a cluster in a
temporary folder on a free loopback port, one fresh database per test.

`LIVEGRAD_TEST_POSTGRES_URL` (a server's URL, e.g. a CI service) skips the set-up. Otherwise
the binaries come from /usr/lib/postgresql/*/bin; when they are missing and we are root on
Debian, `apt-get install postgresql` fetches them (without creating Debian's own cluster).
As root the cluster runs as the `postgres` user (initdb refuses root); any other user runs
it as themselves. When none of that is possible, `start()` raises Unavailable with the reason.
May import: stdlib, psycopg.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ENV_URL = "LIVEGRAD_TEST_POSTGRES_URL"
DRIVER = "postgresql+psycopg"
NO_MAIN_CLUSTER = Path("/etc/postgresql-common/createcluster.conf")


class Unavailable(RuntimeError):
    """PostgreSQL cannot be used here; the message says why (it becomes the skip reason)."""


@dataclass
class Cluster:
    url: str  # server URL without a database name, e.g. postgresql+psycopg://postgres@h:p
    folder: Path | None = None  # our own cluster's folder (None: an outside server)
    bin: Path | None = None
    user: str | None = None

    def create_database(self, name: str) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(self.url.replace(DRIVER, "postgresql") + "/postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{self.url}/{name}"

    def stop(self) -> None:
        if self.folder is None or self.bin is None:
            return
        _run([str(self.bin / "pg_ctl"), "stop", "-m", "immediate", "-D",
              str(self.folder / "data")], self.user, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def _run(cmd: list[str], user: str | None, check: bool = True,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(cmd, user=user, capture_output=True, text=True, timeout=timeout,
                         check=False)
    if check and out.returncode != 0:
        raise Unavailable(f"{Path(cmd[0]).name} failed: {(out.stderr or out.stdout).strip()}")
    return out


def find_bin() -> Path | None:
    """The newest Debian PostgreSQL server binaries, if installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def install() -> Path:
    """apt-get install postgresql (root on Debian only); returns the binaries' folder."""
    if os.geteuid() != 0:
        raise Unavailable("PostgreSQL is not installed and installing it needs root "
                          "(apt-get install postgresql, or set LIVEGRAD_TEST_POSTGRES_URL)")
    if shutil.which("apt-get") is None:
        raise Unavailable("PostgreSQL is not installed and this is not a Debian system")
    if not NO_MAIN_CLUSTER.exists():  # we start our own cluster; Debian's would idle on 5432
        NO_MAIN_CLUSTER.parent.mkdir(parents=True, exist_ok=True)
        NO_MAIN_CLUSTER.write_text("create_main_cluster = false\n", encoding="utf-8")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "postgresql"]):
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900,
                             check=False)
        if out.returncode != 0:
            raise Unavailable(f"{' '.join(cmd)} failed: {out.stderr.strip()[-500:]}")
    found = find_bin()
    if found is None:
        raise Unavailable("apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _owner() -> str | None:
    """The OS user the cluster runs as: `postgres` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise Unavailable("running as root, and there is no 'postgres' user to run "
                          "PostgreSQL as (initdb refuses root)") from exc
    return "postgres"


def start() -> Cluster:
    """A running cluster (ours or the one LIVEGRAD_TEST_POSTGRES_URL names)."""
    if os.environ.get(ENV_URL):
        return Cluster(url=os.environ[ENV_URL].rstrip("/"))
    binaries = find_bin() or install()
    user = _owner()
    folder = Path(tempfile.mkdtemp(prefix="livegrad-pg-"))
    if user is not None:
        shutil.chown(folder, user=user)
    data, port = folder / "data", free_port()
    try:
        _run([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
              "-E", "UTF8", "--no-sync"], user)
        opts = (f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={folder} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        _run([str(binaries / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(data),
              "-l", str(folder / "log"), "-o", opts], user)
    except (Unavailable, OSError, subprocess.TimeoutExpired) as exc:
        log = folder / "log"
        tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise Unavailable(f"PostgreSQL did not start: {exc} {tail}".strip()) from exc
    return Cluster(url=f"{DRIVER}://postgres@127.0.0.1:{port}", folder=folder, bin=binaries,
                   user=user)
