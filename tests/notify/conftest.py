"""Fixtures for notify: the fake Twilio and a real SMTP server on loopback, wired into the app's config."""

import socket
import threading

import pytest
from aiosmtpd.controller import Controller

from tests.notify.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio


def _swap_config(app, **values):
    old = {k: app.config.get(k) for k in values}
    app.config.update(values)
    app.extensions.pop("culturenet.notify_backends", None)
    return old


@pytest.fixture
def fake_twilio(app):
    """The real twilio client in the app, talking to a fake Twilio on 127.0.0.1."""
    fake = FakeTwilio().start()
    old = _swap_config(
        app,
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM="+15005550006",
        TWILIO_API_BASE=fake.base_url,
    )
    yield fake
    _swap_config(app, **old)
    fake.stop()


class Collector:
    def __init__(self):
        self.envelopes = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            self.envelopes.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(app):
    """A real SMTP server (aiosmtpd) on 127.0.0.1; the app sends e-mail to it."""
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    old = _swap_config(app, MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    yield collector
    _swap_config(app, **old)
    controller.stop()
