"""A throwaway PostgreSQL cluster for tests and local runs.

`pg_ctl` refuses to run as root, so as root the cluster is initialised and started as the
`postgres` user, in a directory that user can reach. Usage as a command:

    python tools/pgcluster.py check                                # are the binaries there?
    python tools/pgcluster.py start DIR [PORT] [--database NAME]   # prints the libpq URL
    python tools/pgcluster.py stop DIR
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit


class ClusterError(RuntimeError):
    pass


def pg_bindir() -> str:
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
        candidates.append(out)
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for bindir in candidates:
        if bindir and os.path.exists(os.path.join(bindir, "pg_ctl")) and os.path.exists(os.path.join(bindir, "initdb")):
            return bindir
    raise ClusterError("PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql "
                       "(Debian: apt-get install postgresql-15) or set AGNO_TEST_PG to a server URL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_owner(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


def start(directory: str, port: int | None = None, durable: bool = False) -> str:
    """Create (if needed) and start a cluster in `directory`; return its URL.

    By default the cluster trades durability for speed (fsync, full-page writes and synchronous
    commit off): a commit may be acknowledged before its WAL is written, so an immediate stop can
    lose it. `durable=True` runs with the server's safe settings instead, for tests that stop the
    server under load and count what it acknowledged."""
    bindir = pg_bindir()
    port = port or free_port()
    data = os.path.join(directory, "data")
    os.makedirs(directory, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        os.chmod(directory, 0o755)
    if not os.path.exists(os.path.join(data, "PG_VERSION")):
        _run(_as_owner([os.path.join(bindir, "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
                        "--no-sync", "-E", "UTF8", "--locale=C"]))
    safety = "on" if durable else "off"
    opts = (f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync={safety} "
            f"-c full_page_writes={safety} -c synchronous_commit={safety} -c max_connections=200")
    _run(_as_owner([os.path.join(bindir, "pg_ctl"), "-D", data, "-l", os.path.join(directory, "pg.log"),
                    "-w", "-t", "60", "-o", opts, "start"]))
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


STOP_MODES = ("smart", "fast", "immediate")


def stop(directory: str, mode: str = "immediate") -> None:
    """Stop the cluster: `immediate` (the default) kills the server processes, as a crash would,
    and the next start recovers from the WAL; `fast` ends every session and shuts down cleanly."""
    if mode not in STOP_MODES:
        raise ClusterError(f"unknown stop mode {mode!r}: expected one of {', '.join(STOP_MODES)}")
    data = os.path.join(directory, "data")
    if os.path.exists(os.path.join(data, "postmaster.pid")):
        _run(_as_owner([os.path.join(pg_bindir(), "pg_ctl"), "-D", data, "-m", mode, "-w", "stop"]))


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ClusterError(f"{' '.join(cmd)} failed: {proc.stderr.strip() or proc.stdout.strip()}")


def running(directory: str) -> bool:
    data = os.path.join(directory, "data")
    if not os.path.exists(os.path.join(data, "postmaster.pid")):
        return False
    proc = subprocess.run(_as_owner([os.path.join(pg_bindir(), "pg_ctl"), "-D", data, "status"]),
                          capture_output=True, text=True)
    return proc.returncode == 0


def ensure_database(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)  # keeps a query string (?sslmode=...) intact
    return urlunsplit(parts._replace(path="/" + name))


class Pg:
    """Databases on one server; ``admin_url`` is a libpq URL of its ``postgres`` database (a query
    string such as ``?sslmode=...`` is not carried into the other databases' URLs)."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.base = admin_url.split("?", 1)[0].rsplit("/", 1)[0]

    def url(self, db: str, driver: bool = False) -> str:
        url = f"{self.base}/{db}"
        return url.replace("postgresql://", "postgresql+psycopg://", 1) if driver else url

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def create(self, name: str, template: str | None = None) -> None:
        """A new, empty database (or a copy of `template`), replacing one of that name."""
        self.drop(name)
        if template:
            self.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{template}' "
                         "AND pid <> pg_backend_pid()")
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))

    def drop(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    database = argv[argv.index("--database") + 1] if "--database" in argv else None
    if database:
        args.remove(database)
    try:
        if args[:1] == ["check"]:
            print(pg_bindir())
        elif len(args) in (2, 3) and args[0] == "start":
            port = int(args[2]) if len(args) == 3 else None
            url = f"postgresql://postgres@127.0.0.1:{port}/postgres" if running(args[1]) and port else start(args[1], port)
            print(ensure_database(url, database) if database else url)
        elif len(args) == 2 and args[0] == "stop":
            stop(args[1])
        else:
            sys.stderr.write(__doc__)
            return 2
    except ClusterError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
