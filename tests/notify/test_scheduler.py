"""Exactly one active scheduler: a second process stands by and takes over when the first is killed."""

import queue
import signal
import tempfile
import threading
import time
from datetime import UTC, datetime

import pytest

from notify import scheduler
from tests.notify import procs


class Lines:
    """Collect a process's output lines in the background."""

    def __init__(self, proc):
        self.proc = proc
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip())

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} not seen; output so far: {self.seen}")

    def drain(self) -> list[str]:
        while True:
            try:
                self.seen.append(self.lines.get_nowait())
            except queue.Empty:
                return self.seen


@pytest.fixture
def shared_instance(app):
    app.config["PROC_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="notify-sched-")
    yield
    app.config.pop("PROC_INSTANCE_PATH")


def test_one_scheduler_is_active_the_other_takes_over_when_it_is_killed(app, shared_instance):
    env = procs.env_for(app)
    first = procs.start(["scheduler", "run", "--poll", "0.3"], env)
    second = None
    try:
        out1 = Lines(first)
        assert "dispatch" in out1.wait_for("scheduler: active")
        second = procs.start(["scheduler", "run", "--poll", "0.3"], env)
        out2 = Lines(second)
        out2.wait_for("scheduler: standby")
        time.sleep(1.5)  # several polls: still only one active
        assert not any("scheduler: active" in line for line in out2.drain())
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        out2.wait_for("scheduler: active", timeout=30)
        second.send_signal(signal.SIGTERM)
        out2.wait_for("scheduler: stopped", timeout=30)
        assert second.wait(timeout=30) == 0
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


def test_a_registered_job_runs_by_hand_with_the_given_time(app):
    seen = []
    scheduler.register_job("probe", seen.append, {"trigger": "interval", "minutes": 5}, "Records its `now`.")
    try:
        result = app.test_cli_runner().invoke(args=["jobs", "run", "probe", "--now", "2026-12-01T08:00:00+08:00"])
        assert result.exit_code == 0, result.output
        assert seen == [datetime(2026, 12, 1, 0, 0, tzinfo=UTC)]
        assert "probe" in app.test_cli_runner().invoke(args=["jobs", "list"]).output
    finally:
        scheduler.JOBS.pop("probe")
