"""Configuration from environment variables (a `.env` file is read if present)."""

import os
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Everything the app reads from the environment, with the defaults of docs/api.md."""

    def __init__(self, **overrides):
        load_dotenv(BASE_DIR / ".env", override=False)
        env = os.environ
        instance = Path(env.get("INSTANCE_PATH", BASE_DIR / "instance"))
        self.INSTANCE_PATH = str(instance)
        self.SECRET_KEY = env.get("SECRET_KEY", "dev-only-change-me")
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            env.get("DATABASE_URL", f"sqlite:///{instance / 'culturenet.sqlite3'}")
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        # Behind PgBouncer in transaction pooling (docs/deployment.md): no server-side prepared statements, since
        # the next transaction may run on another server connection. The scheduler connects directly instead.
        if _bool(env.get("DATABASE_PGBOUNCER"), False):
            self.SQLALCHEMY_ENGINE_OPTIONS["connect_args"] = {"prepare_threshold": None}
        # A PostgreSQL streaming replica the report pages, the report API and the exports read from (core/db.py,
        # docs/deployment.md); unset: everything reads the primary. Writes always go to DATABASE_URL.
        self.REPORTS_DATABASE_URL = normalise_database_url(env.get("REPORTS_DATABASE_URL", ""))
        self.TIMEZONE = env.get("TIMEZONE", "Asia/Shanghai")
        self.DEFAULT_LOCALE = env.get("DEFAULT_LOCALE", "zh_CN")
        self.LANGUAGES = ["zh_CN", "en"]
        self.NETWORK_NAME = env.get("NETWORK_NAME", "")
        self.SMS_BACKEND = env.get("SMS_BACKEND", "console")
        self.TWILIO_ACCOUNT_SID = env.get("TWILIO_ACCOUNT_SID", "")
        self.TWILIO_AUTH_TOKEN = env.get("TWILIO_AUTH_TOKEN", "")
        self.TWILIO_FROM = env.get("TWILIO_FROM", "")
        self.TWILIO_API_BASE = env.get("TWILIO_API_BASE", "https://api.twilio.com")
        # Public URL Twilio posts delivery reports to, and the public base URL its webhook signatures
        # are computed over (when a proxy rewrites the host); both optional.
        self.TWILIO_STATUS_CALLBACK = env.get("TWILIO_STATUS_CALLBACK", "")
        self.TWILIO_WEBHOOK_BASE = env.get("TWILIO_WEBHOOK_BASE", "")
        self.NOTIFY_LEASE_SECONDS = int(env.get("NOTIFY_LEASE_SECONDS", "300"))
        self.NOTIFY_SENDER_THREADS = int(env.get("NOTIFY_SENDER_THREADS", "8"))  # provider calls of a batch at once
        self.NOTIFY_MAX_ATTEMPTS = int(env.get("NOTIFY_MAX_ATTEMPTS", "8"))
        self.SCHEDULER_POLL_SECONDS = float(env.get("SCHEDULER_POLL_SECONDS", "5"))
        self.MAIL_BACKEND = env.get("MAIL_BACKEND", "console")
        self.SMTP_HOST = env.get("SMTP_HOST", "127.0.0.1")
        self.SMTP_PORT = int(env.get("SMTP_PORT", "25"))
        self.MAIL_FROM = env.get("MAIL_FROM", "noreply@culturenet.local")
        self.REDIS_URL = env.get("REDIS_URL", "")
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_HEADERS_ENABLED = True
        self.RATELIMIT_ENABLED = _bool(env.get("RATELIMIT_ENABLED"), True)
        self.UPLOAD_DIR = env.get("UPLOAD_DIR", str(instance / "uploads"))
        self.MAX_CONTENT_LENGTH = int(env.get("MAX_CONTENT_LENGTH", str(8 * 1024 * 1024)))
        # The digital library's own upload limit (docs/digital.md), and Debian's ffmpeg/ffprobe for its job.
        self.RESOURCE_MAX_BYTES = int(env.get("RESOURCE_MAX_BYTES", str(500 * 1024 * 1024)))
        self.FFMPEG = env.get("FFMPEG", "/usr/bin/ffmpeg")
        self.FFPROBE = env.get("FFPROBE", "/usr/bin/ffprobe")
        # The city's acceptance checklist (JSON); empty: the Panjin one in reports/data/checklist.json.
        self.REPORTS_CHECKLIST_FILE = env.get("REPORTS_CHECKLIST_FILE", "")
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _bool(env.get("SESSION_COOKIE_SECURE"), False)
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.PREFERRED_URL_SCHEME = "https" if self.SESSION_COOKIE_SECURE else "http"
        self.WTF_CSRF_TIME_LIMIT = None
        self.API_TOKEN_MAX_AGE = int(env.get("API_TOKEN_MAX_AGE", str(7 * 24 * 3600)))
        self.LOGIN_LOCKOUT_ATTEMPTS = int(env.get("LOGIN_LOCKOUT_ATTEMPTS", "5"))
        self.LOGIN_LOCKOUT_MINUTES = int(env.get("LOGIN_LOCKOUT_MINUTES", "15"))
        # Accounts (docs/accounts.md): phone verification at self-registration (off at counters), the
        # current 用户协议/隐私政策 version, remember-me days (at most 30), e-mailed reset links, and the
        # per-address limits, generous for carrier-grade NAT (account and phone limits do the real work).
        self.REGISTRATION_SMS_VERIFY = _bool(env.get("REGISTRATION_SMS_VERIFY"), True)
        self.TERMS_VERSION = env.get("TERMS_VERSION", "2026-12-01")
        self.REMEMBER_COOKIE_DURATION = timedelta(days=min(30, int(env.get("REMEMBER_DAYS", "30"))))
        self.PASSWORD_RESET_LINK_MINUTES = int(env.get("PASSWORD_RESET_LINK_MINUTES", "60"))
        self.AUTH_ADDRESS_LIMIT = env.get("AUTH_ADDRESS_LIMIT", "60 per minute;1000 per hour")
        self.SMS_ADDRESS_LIMIT = env.get("SMS_ADDRESS_LIMIT", "30 per minute;300 per hour")
        self.REGISTER_ADDRESS_LIMIT = env.get("REGISTER_ADDRESS_LIMIT", "30 per minute;300 per hour")
        self.LOG_LEVEL = env.get("LOG_LEVEL", "INFO").upper()
        self.TRUST_PROXY = _bool(env.get("TRUST_PROXY"), False)
        self.JSON_SORT_KEYS = False
        # Seconds a rendered public list fragment may be reused by a worker (core/cache.py); 0: never.
        self.PUBLIC_CACHE_SECONDS = int(env.get("PUBLIC_CACHE_SECONDS", "15"))
        # How long a process may use its copy of an API caller's account row and grants, and of the accounts
        # changed within a token's lifetime (accounts/auth.py):
        # a sign-out, suspension or role change made on another worker or host is seen here within it.
        self.AUTH_CACHE_SECONDS = float(env.get("AUTH_CACHE_SECONDS", "5"))
        # How long a process refuses a session it saw full without reading it again (bookings/api.py);
        # the seat itself is always decided by the database.
        self.FULL_HINT_SECONDS = float(env.get("FULL_HINT_SECONDS", "1"))
        # Absolute links (calendar feeds) start here when set, never with the Host header a request claims.
        self.PUBLIC_BASE_URL = env.get("PUBLIC_BASE_URL", "").rstrip("/")
        self.BENCH_ENDPOINTS = _bool(env.get("BENCH_ENDPOINTS"), False)
        # Per-requester caps (SECURITY.md): open service orders (submitted or countered) per account, and
        # room requests awaiting a decision per account (a 26-week series fits, five of them do not).
        self.ORDERS_OPEN_PER_REQUESTER = int(env.get("ORDERS_OPEN_PER_REQUESTER", "10"))
        self.ROOMS_PENDING_PER_REQUESTER = int(env.get("ROOMS_PENDING_PER_REQUESTER", "30"))
        # Failed typed-code look-ups at the door (checkin/services.py), per staff account and per device, and
        # per event session (several doors); over it the door answers 429 too_many_attempts. limits syntax.
        self.CHECKIN_CODE_FAILURES = env.get("CHECKIN_CODE_FAILURES", "20 per 10 minutes")
        self.CHECKIN_SESSION_CODE_FAILURES = env.get("CHECKIN_SESSION_CODE_FAILURES", "60 per 10 minutes")
        self.TESTING = False
        for key, value in overrides.items():
            setattr(self, key, value)

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for plain postgres URLs (postgres:// and postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
