"""`make bench`: seed PostgreSQL, start gunicorn, run every scenario beside its bare twin, record the figures.

Usage: python -m bench [--scale N] [--quick] [--only NAME[,NAME…]] [--reuse] [--reports-rows N]. Results go to
bench/RESULTS.md (appended as a dated section with the machine) and are printed. Everything runs on this machine
over loopback. BENCH_DATABASE names the database (default culturenet_bench).
"""

import argparse
import datetime as dt
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bench import wrk
from bench.scenarios import SCENARIOS, Context, loadavg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DB_NAME = os.environ.get("BENCH_DATABASE", "culturenet_bench")
ADMIN_DSN = os.environ.get("BENCH_PG_ADMIN_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test")
SERVER_LOG = Path(os.environ.get("BENCH_SERVER_LOG", "/tmp/culturenet-bench-server.log"))
DB_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}"


def env() -> dict:
    return {
        **os.environ,
        "DATABASE_URL": DB_URL,
        "BENCH_ENDPOINTS": "1",
        "SECRET_KEY": "bench-secret",
        "INSTANCE_PATH": "/tmp/culturenet-bench",
        "RATELIMIT_ENABLED": "false",
    }


def flask(*args: str) -> None:
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env(), check=True, stdout=subprocess.DEVNULL
    )


def prepare_database(scale: int) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    flask("db", "upgrade")
    flask("demo", "seed", "--scale", str(scale))
    with psycopg.connect(DB_URL.replace("+psycopg", ""), autocommit=True) as conn:
        from core.bench_views import BENCH_TABLES

        for statement in BENCH_TABLES:
            conn.execute(statement)
        conn.execute("ANALYZE")  # planner statistics, as autovacuum would have them in production after a bulk load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, workers: int, worker_class: str = "gthread", threads: int = 4) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            str(workers),
            "-k",
            worker_class,
            "--threads",
            str(threads),
            "--keep-alive",
            "5",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env={**env(), "PYTHONWARNINGS": "ignore"},
        stderr=open(SERVER_LOG, "w"),  # noqa: SIM115 - the server's own log (one line per request), kept for reading
    )
    import urllib.request

    deadline = time.monotonic() + 180  # the master binds at once; its workers import the app (slow on a busy box)
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                if answer.status == 200:
                    time.sleep(2)  # the other workers finish booting too
                    return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=int(os.environ.get("BENCH_SCALE", "500")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", "3")))
    parser.add_argument("--worker-class", default=os.environ.get("BENCH_WORKER_CLASS", "gthread"))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", "4")))
    parser.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    parser.add_argument(
        "--only",
        default=None,
        help="run the scenarios whose name contains one of these comma-separated words (case-insensitive)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep an already seeded database (faster reruns; scenarios add fresh classes)",
    )
    parser.add_argument(
        "--reports-rows",
        type=int,
        default=10_000_000,
        help="check-ins generated for the reports scenario (kept in the database between runs; "
        "a quick run: --reports-rows 300000)",
    )
    args = parser.parse_args()
    started = time.time()
    if not args.reuse:
        print(f"seeding PostgreSQL database {DB_NAME} (scale {args.scale}) …", flush=True)
        prepare_database(args.scale)
    words = [w.strip().lower() for w in args.only.split(",")] if args.only else None
    chosen = [s for s in SCENARIOS if words is None or any(w in s.name.lower() for w in words)]
    if not chosen:  # e.g. a run that only seeds the database: no server to start, nothing to record
        print(f"no scenario matched --only {args.only!r}: bench/RESULTS.md left as it was", file=sys.stderr)
        return
    port = free_port()
    server = start_gunicorn(port, args.workers, args.worker_class, args.threads)
    ctx = Context(
        host="127.0.0.1",
        port=port,
        db_url=DB_URL.replace("+psycopg", ""),
        quick=args.quick,
        secret="bench-secret",
        reports_rows=args.reports_rows,
    )
    lines = [
        f"## {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC — {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, gunicorn {args.workers} {args.worker_class} workers"
        f"{f' × {args.threads} threads' if args.worker_class == 'gthread' else ''}, PostgreSQL, "
        f"{'a reused seeded database' if args.reuse else f'seed scale {args.scale}'}, "
        f"load generator {'wrk' if wrk.available() else 'bench/load.py (wrk not installed)'}",
        "",
        f"Machine load at the start: {loadavg()} (the machine may be shared: compare ratios within this run).",
        "",
    ]
    try:
        for scenario in chosen:
            print(f"- {scenario.name}", flush=True)
            lines += scenario.run(ctx)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
    if ctx.cache.get("summary"):
        lines += [
            "### Summary (HTTP scenarios, ratios within this run)",
            "",
            "| scenario | connections | req/s | p99 ms | × `/healthz` | × bare twin | target × `/healthz` |",
            "|---|---|---|---|---|---|---|",
            *ctx.cache["summary"],
            "",
        ]
    lines.append(f"\n(run took {time.time() - started:.0f} s; {loadavg()} at the end)\n")
    text = "\n".join(lines)
    print(text)
    results = ROOT / "bench" / "RESULTS.md"
    header = (
        "# Benchmark results\n\nAppended by `make bench`; newest last. Ratios compare each endpoint "
        "with its bare twin measured in the same run.\n\n"
    )
    previous = results.read_text(encoding="utf-8") if results.exists() else header
    results.write_text(previous + text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
