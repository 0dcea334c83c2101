"""A throw-away PostgreSQL primary and its streaming replica, in a temporary folder on free ports.

Made with the server's own tools (initdb, pg_basebackup -R, pg_ctl from /usr/lib/postgresql/<major>/bin, or
PG_BIN), run as the `postgres` user when the tests run as root (the server refuses to run as root). The pair
is fsync-free and tiny: it starts in a few seconds and is removed, processes and files, when the block ends.
"""

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg


def pg_bin() -> Path | None:
    """The folder of initdb/pg_ctl/pg_basebackup: PG_BIN, else the newest /usr/lib/postgresql/<major>/bin."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Node:
    port: int
    data: Path

    def url(self, database: str = "culturenet") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "culturenet") -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True)

    def scalar(self, sql: str, database: str = "culturenet"):
        with self.connect(database) as conn:
            return conn.execute(sql).fetchone()[0]


@dataclass
class Pair:
    primary: Node
    replica: Node

    def wait_for_replay(self, timeout: float = 20) -> None:
        """Until the replica has replayed everything the primary had written when this was called."""
        target = self.primary.scalar("SELECT pg_current_wal_lsn()::text", "postgres")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            behind = self.replica.scalar(
                f"SELECT pg_wal_lsn_diff('{target}', pg_last_wal_replay_lsn()) > 0", "postgres"
            )
            if not behind:
                return
            time.sleep(0.05)
        raise AssertionError(f"the replica did not replay up to {target} within {timeout} s")


def _as_postgres(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60, **kwargs)


def _start(bin_dir: Path, node: Node, folder: Path, log: str) -> None:
    options = f"-p {node.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(node.data), "-l", str(folder / log), "-o", options, "-w", "start"])


@contextlib.contextmanager
def streaming_pair(extensions: tuple[str, ...] = ("btree_gist",)) -> Iterator[Pair]:
    """A primary with a database `culturenet` (and `extensions`), and a hot-standby replica streaming from it."""
    bin_dir = pg_bin()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL server binaries (initdb); set PG_BIN")
    folder = Path(tempfile.mkdtemp(prefix="cn-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    primary = Node(free_port(), folder / "primary")
    replica = Node(free_port(), folder / "replica")
    started: list[Node] = []
    try:
        _as_postgres(
            [str(bin_dir / "initdb"), "-D", str(primary.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            + ["--locale=C.UTF-8", "--no-sync"]
        )
        _start(bin_dir, primary, folder, "primary.log")
        started.append(primary)
        with primary.connect("postgres") as conn:
            conn.execute("CREATE DATABASE culturenet")
        with primary.connect() as conn:
            for name in extensions:
                conn.execute(f"CREATE EXTENSION IF NOT EXISTS {name}")
        # -R: standby.signal and primary_conninfo, so the copy starts as a streaming hot standby.
        _as_postgres(
            [str(bin_dir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"]
            + ["-D", str(replica.data), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"]
        )
        _start(bin_dir, replica, folder, "replica.log")
        started.append(replica)
        yield Pair(primary, replica)
    finally:
        for node in reversed(started):
            with contextlib.suppress(subprocess.SubprocessError):
                _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(node.data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(folder, ignore_errors=True)
