"""Fixtures: an app per database backend (SQLite and PostgreSQL), clean tables per test, a CSRF-aware client."""

import os
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import g, has_app_context
from flask.testing import FlaskClient

from core.extensions import db, limiter
from culturenet import create_app
from tests import dbs

# Fixture modules of the packages whose worlds other packages' tests reuse (check-in admits room tickets).
pytest_plugins = ["tests.rooms.fixtures"]


def pytest_report_header(config):
    """Say which wall clock the run had, so a failure under a shifted clock can be replayed."""
    shift = os.environ.get("CULTURENET_CLOCK_SHIFT")
    now = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    where = f"shifted by {shift} (replay: make test-shifted SHIFT={shift})" if shift else "real"
    return f"wall clock: {now:%Y-%m-%d %H:%M} Asia/Shanghai, {where}"


def pytest_configure(config):
    """Compile the translation catalogues (the app reads .mo files), so plain `pytest` works too."""
    from core import i18n_tool

    i18n_tool.compile_all()


class CSRFClient(FlaskClient):
    """A test client that sends the CSRF token like a browser would (pass csrf=False to leave it out)."""

    _token = None

    def csrf_token(self) -> str:
        if self._token is None:
            html = self.get("/login").get_data(as_text=True)
            self._token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
        return self._token

    def open(self, *args, **kwargs):
        # Tests keep one app context open, which Flask reuses for each request: forget the user that
        # Flask-Login cached in `g` so each request authenticates afresh, as in production.
        if has_app_context():
            g.pop("_login_user", None)
        csrf = kwargs.pop("csrf", True)
        method = (kwargs.get("method") or "GET").upper()
        if csrf and method in {"POST", "PUT", "PATCH", "DELETE"} and not _has_bearer(kwargs):
            if "json" in kwargs:
                headers = dict(kwargs.get("headers") or {})
                headers.setdefault("X-CSRFToken", self.csrf_token())
                kwargs["headers"] = headers
            elif kwargs.get("data") is None or isinstance(kwargs.get("data"), dict):
                kwargs["data"] = {"csrf_token": self.csrf_token(), **(kwargs.get("data") or {})}
        return super().open(*args, **kwargs)

    def login(self, login: str, password: str = "secret123"):
        response = self.post("/login", data={"login": login, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        self._token = None
        return response


def _has_bearer(kwargs) -> bool:
    return "Authorization" in dict(kwargs.get("headers") or {})


def make_app(url: str, **overrides):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "PASSWORD_HASH_PROFILE": "fast",
            "RATELIMIT_STORAGE_URI": "memory://",
            "SMS_BACKEND": "console",
            "REGISTRATION_SMS_VERIFY": False,  # tests/accounts turn it on where the code is the subject
            "MAIL_BACKEND": "console",
            "PUBLIC_CACHE_SECONDS": 0,  # tests read their own writes at once; tests/core/test_cache.py turns it on
            "AUTH_CACHE_SECONDS": 0,  # ids restart with every test's tables; tests/accounts/test_auth_cache.py: on
            "FULL_HINT_SECONDS": 0,  # tests change capacities at once; tests/bookings/test_hot_path_statements.py: on
            **overrides,
        }
    )
    app.test_client_class = CSRFClient
    return app


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request):
    """The database backend under test; PostgreSQL skips without a server unless CI=true."""
    if request.param == "sqlite":
        return dbs.sqlite_url()
    url = dbs.postgres_url()
    if url is None:
        if dbs.CI:
            pytest.fail(f"CI=true needs PostgreSQL: {dbs.postgres_error()}")
        pytest.skip(f"PostgreSQL not reachable: {dbs.postgres_error()}")
    return url


@pytest.fixture(scope="session")
def session_app(backend):
    app = make_app(backend)
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(session_app):
    """The app with empty tables and fresh rate limits, inside an app context."""
    with session_app.app_context():
        limiter.reset()
        yield session_app
        dbs.clear_tables(db)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def is_postgres(app):
    return db.engine.dialect.name == "postgresql"


@pytest.fixture
def moved_clock(monkeypatch):
    """A monotonic clock the test moves, for the modules that time their per-process copies and hints through a
    `_clock` of their own: `moved_clock.on(module, ...)`, then `moved_clock.advance(seconds)`."""

    class Clock:
        now = 1000.0

        def on(self, *modules):
            for module in modules:
                monkeypatch.setattr(module, "_clock", lambda: self.now)
            return self

        def advance(self, seconds: float) -> None:
            self.now += seconds

    return Clock()


@pytest.fixture
def travel():
    """Move this process's wall clock (pages, services and jobs alike) to a moment: `travel(moment)`.

    A test that fixes the time must fix it for every layer its requests go through; the clock keeps
    ticking from there, so timeouts and sleeps behave as usual."""
    started = []

    def go(moment):
        traveller = time_machine.travel(moment, tick=True)
        traveller.start()
        started.append(traveller)

    yield go
    for traveller in reversed(started):
        traveller.stop()
