"""The job registry and the scheduler process (`flask scheduler run`).

Jobs are defined in code, registered by the composition root (`culturenet.register_jobs`), and
are idempotent sweepers `func(now)` over database state: running one twice does nothing more, so a
restart, a missed tick or a run by hand (`flask jobs run NAME --now ...`) is always safe.

Exactly one scheduler is active across the cluster: on PostgreSQL the active process holds a
session-level advisory lock (`pg_try_advisory_lock`) on a dedicated connection; the others poll for it
and take over within a poll interval when the holder dies (its connection closes, the lock goes with
it). On SQLite (one machine) an exclusive `fcntl` lock on a file in the instance folder does the same.
"""

import contextlib
import fcntl
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from core.db import utcnow
from core.extensions import db

log = logging.getLogger("culturenet.scheduler")

ADVISORY_LOCK_KEY = 0x43_4E_53_43  # "CNSC"; with a hash of the database name: one lock per database


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[datetime], object]
    trigger_kwargs: dict
    description: str


JOBS: dict[str, Job] = {}


def register_job(name: str, func: Callable[[datetime], object], trigger_kwargs: dict, description: str) -> Job:
    """Add (or replace) a job. `trigger_kwargs` go to APScheduler's add_job, e.g.
    {"trigger": "interval", "seconds": 30} or {"trigger": "cron", "minute": "*/5"}."""
    job = Job(name, func, dict(trigger_kwargs), description)
    JOBS[name] = job
    return job


def run_job(app: Flask, name: str, now: datetime | None = None):
    """Run one job in its own app context and commit what it did; a failure is logged and rolled back."""
    job = JOBS[name]
    with app.app_context():
        try:
            result = job.func(now or utcnow())
            db.session.commit()
            return result
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", name)
            raise
        finally:
            db.session.remove()


class LeaderLock:
    """The cluster-wide 'I am the scheduler' lock (advisory lock on PostgreSQL, fcntl lock on SQLite)."""

    def __init__(self, app: Flask):
        self.app = app
        self.conn = None
        self.file = None

    def try_acquire(self) -> bool:
        with self.app.app_context():
            engine = db.engine
            if engine.dialect.name == "postgresql":
                return self._try_pg(engine)
        return self._try_file()

    def _try_pg(self, engine) -> bool:
        if self.conn is None:
            self.conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = self.conn.execute(
            sa.text("SELECT pg_try_advisory_lock(:k, hashtext(current_database()))"), {"k": ADVISORY_LOCK_KEY}
        ).scalar()
        return bool(got)

    def _try_file(self) -> bool:
        path = Path(self.app.instance_path) / "scheduler.lock"
        self.file = self.file or open(path, "a+")  # noqa: SIM115 (held open for the life of the process)
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def still_held(self) -> bool:
        """Whether the lock is still ours (on PostgreSQL: the dedicated connection is alive)."""
        if self.conn is None:
            return self.file is not None
        try:
            self.conn.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.DBAPIError:
            return False

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.execute(
                    sa.text("SELECT pg_advisory_unlock(:k, hashtext(current_database()))"), {"k": ADVISORY_LOCK_KEY}
                )
                self.conn.close()
            except sa.exc.DBAPIError:
                pass
            self.conn = None
        if self.file is not None:
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None


def run_scheduler(
    app: Flask, *, poll_seconds: float = 5.0, stop: threading.Event | None = None, echo: Callable[[str], None] = print
) -> None:
    """Wait to become the active scheduler, then run every registered job on its trigger until stopped.

    Standby processes retry the lock every `poll_seconds`. The active one checks every `poll_seconds`
    that its lock is still held and steps down (back to standby) if it is not.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    stop = stop or threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError):  # not the main thread (tests)
            signal.signal(sig, lambda *_: stop.set())
    lock = LeaderLock(app)
    announced = False
    while not stop.is_set():
        if not lock.try_acquire():
            if not announced:
                echo("scheduler: standby (another scheduler is active)")
                announced = True
            stop.wait(poll_seconds)
            continue
        echo(f"scheduler: active with {len(JOBS)} jobs: {', '.join(sorted(JOBS))}")
        scheduler = BackgroundScheduler(
            timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
        )
        for job in JOBS.values():
            scheduler.add_job(_job_runner(app, job.name), id=job.name, name=job.name, **job.trigger_kwargs)
        scheduler.start()
        try:
            while not stop.wait(poll_seconds):
                if not lock.still_held():
                    echo("scheduler: lost the lock, stepping down")
                    break
        finally:
            scheduler.shutdown(wait=True)
            lock.release()
            announced = False
    echo("scheduler: stopped")


def _job_runner(app: Flask, name: str) -> Callable[[], None]:
    def runner():
        try:
            result = run_job(app, name)
            log.info("job %s done: %s", name, result)
        except Exception:  # already logged; the scheduler keeps running
            pass

    return runner


def dispatch_job(now: datetime):
    """Send every message that is due (the outbox dispatcher)."""
    from notify.dispatcher import dispatch_due

    return dispatch_due(now)


def register_notify_jobs() -> None:
    register_job(
        "dispatch",
        dispatch_job,
        {"trigger": "interval", "seconds": 30},
        "Send due messages from the outbox (SMS, e-mail, inbox), with retries and quiet hours.",
    )
