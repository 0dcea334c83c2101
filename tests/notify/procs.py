"""Run `flask` commands of this checkout in separate processes against the test database."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from core.extensions import db

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def env_for(app, **extra) -> dict:
    """The environment of a process that uses the same database (and instance folder) as `app`."""
    url = db.engine.url.render_as_string(hide_password=False)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "INSTANCE_PATH": app.config.get("PROC_INSTANCE_PATH") or tempfile.mkdtemp(prefix="notify-proc-"),
        "PYTHONUNBUFFERED": "1",
        "SECRET_KEY": "test-secret",
        "PYTHONPATH": str(ROOT),
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [*FLASK, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
