"""Channels behind one small interface: `send(message, rendered) -> provider id`.

A backend raises `TemporaryFailure` (retry later with back-off) or `PermanentFailure` (give up, show
staff the reason). `find_previous(message, rendered)` lets a backend that can look at what it already
sent recover a send whose outcome was lost (a crash or timeout after the provider accepted it);
only Twilio can, SMTP cannot.
"""

import logging
import smtplib
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app

from notify.models import Channel, Message
from notify.rendering import Rendered

log = logging.getLogger("culturenet.notify")


class TemporaryFailure(Exception):
    """The provider may accept this later: a 5xx, a 429, a refused connection, a timeout."""


class PermanentFailure(Exception):
    """The message can never go out as it is: an invalid number, no address, a rejected recipient."""


class ConsoleSMS:
    """Development default: logs the SMS instead of sending it."""

    def send(self, message: Message, rendered: Rendered) -> str:
        to = message.recipient.phone
        if not to:
            raise PermanentFailure("recipient has no phone number")
        log.info("SMS to %s: %s", to, rendered.sms)
        return f"console-{message.id}"

    def find_previous(self, message: Message, rendered: Rendered, taken=lambda sid: False) -> str | None:
        return None


class ConsoleMail:
    """Development default: logs the e-mail instead of sending it."""

    def send(self, message: Message, rendered: Rendered) -> str:
        to = message.recipient.email
        if not to:
            raise PermanentFailure("recipient has no e-mail address")
        log.info("E-mail to %s: %s\n%s", to, rendered.subject, rendered.body)
        return message_id_for(message)

    def find_previous(self, message: Message, rendered: Rendered, taken=lambda sid: False) -> str | None:
        return None


class Inbox:
    """The in-app inbox: the outbox row itself is what the user reads at /inbox, so sending is marking it."""

    def send(self, message: Message, rendered: Rendered) -> str | None:
        return None

    def find_previous(self, message: Message, rendered: Rendered, taken=lambda sid: False) -> str | None:
        return None


def e164(phone: str) -> str:
    """A mainland mobile number (13800000001) in the E.164 form Twilio expects (+8613800000001)."""
    phone = phone.strip().replace(" ", "").replace("-", "")
    if phone.startswith("+"):
        return phone
    if phone.startswith("00"):
        return "+" + phone[2:]
    return "+86" + phone


class TwilioSMS:
    """SMS through Twilio's official client; the API base is configurable (TWILIO_API_BASE)."""

    def __init__(self, config):
        from twilio.rest import Client

        self.sender = config["TWILIO_FROM"]
        self.status_callback = config.get("TWILIO_STATUS_CALLBACK") or None
        self.client = Client(
            config["TWILIO_ACCOUNT_SID"],
            config["TWILIO_AUTH_TOKEN"],
            http_client=base_url_http_client(config["TWILIO_API_BASE"]),
        )

    def send(self, message: Message, rendered: Rendered) -> str:
        from requests import RequestException
        from twilio.base.exceptions import TwilioException, TwilioRestException

        if not message.recipient.phone:
            raise PermanentFailure("recipient has no phone number")
        kwargs = {"to": e164(message.recipient.phone), "from_": self.sender, "body": rendered.sms}
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        try:
            sent = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            reason = f"Twilio {exc.status} {exc.code or ''}: {exc.msg}".strip()
            if exc.status >= 500 or exc.status == 429:
                raise TemporaryFailure(reason) from exc
            raise PermanentFailure(reason) from exc
        except (RequestException, TwilioException, OSError) as exc:
            raise TemporaryFailure(f"Twilio unreachable: {exc}") from exc
        return sent.sid

    def find_previous(self, message: Message, rendered: Rendered, taken=lambda sid: False) -> str | None:
        """The sid of an identical SMS accepted for this row's number since the row was created, and not
        recorded for another row (`taken(sid)`)."""
        from requests import RequestException
        from twilio.base.exceptions import TwilioException

        if not message.recipient.phone:
            return None
        since = (message.created_at or datetime.now(UTC)) - timedelta(days=1)
        try:
            earlier = self.client.messages.list(
                to=e164(message.recipient.phone), from_=self.sender, date_sent_after=since, limit=50
            )
        except (RequestException, TwilioException, OSError) as exc:
            raise TemporaryFailure(f"Twilio unreachable while checking earlier sends: {exc}") from exc
        for sent in earlier:
            if (
                sent.body == rendered.sms
                and sent.status not in {"failed", "undelivered", "canceled"}
                and not taken(sent.sid)
            ):
                return sent.sid
        return None


def base_url_http_client(base: str):
    """Twilio's own HTTP client, with https://api.twilio.com rewritten to `base` (tests: a local fake)."""
    from twilio.http.http_client import TwilioHttpClient

    class BaseUrlHttpClient(TwilioHttpClient):
        def request(self, method, url, *args, **kwargs):
            for origin in ("https://api.twilio.com",):
                if url.startswith(origin):
                    url = base.rstrip("/") + url[len(origin) :]
            return super().request(method, url, *args, **kwargs)

    return BaseUrlHttpClient(timeout=15)


def message_id_for(message: Message) -> str:
    """A Message-ID fixed by the row, so a resend after a crash carries the same id (receivers may dedupe)."""
    domain = current_app.config.get("MAIL_FROM", "culturenet.local").rpartition("@")[2] or "culturenet.local"
    return f"<notify-{message.id}-{uuid.uuid5(uuid.NAMESPACE_URL, message.dedupe_key).hex[:12]}@{domain}>"


class SMTPMail:
    """E-mail over SMTP, with an .ics attachment when the context carries an `event`."""

    def __init__(self, config):
        self.host = config["SMTP_HOST"]
        self.port = int(config["SMTP_PORT"])
        self.sender = config["MAIL_FROM"]
        self.timeout = float(config.get("SMTP_TIMEOUT", 15))

    def send(self, message: Message, rendered: Rendered) -> str:
        to = message.recipient.email
        if not to:
            raise PermanentFailure("recipient has no e-mail address")
        mail = build_email(message, rendered, sender=self.sender, to=to)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"SMTP refused the recipient: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            reason = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            if 400 <= exc.smtp_code < 500:
                raise TemporaryFailure(reason) from exc
            raise PermanentFailure(reason) from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"SMTP unavailable: {exc}") from exc
        return mail["Message-ID"]

    def find_previous(self, message: Message, rendered: Rendered, taken=lambda sid: False) -> str | None:
        return None


def build_email(message: Message, rendered: Rendered, *, sender: str, to: str) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = rendered.subject
    mail["From"] = sender
    mail["To"] = to
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = message_id_for(message) if message.id else make_msgid()
    mail.set_content(rendered.body)
    if rendered.event:
        mail.add_attachment(
            ics_for(rendered.event, message).encode(),
            maintype="text",
            subtype="calendar",
            filename="event.ics",
            params={"method": "PUBLISH"},
        )
    return mail


def _ics_time(value) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _ics_text(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ics_for(event: dict, message: Message) -> str:
    """A one-event iCalendar (RFC 5545) file: uid, title, starts_at, ends_at, location."""
    starts = event["starts_at"]
    ends = event.get("ends_at") or starts
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//CultureNet//notify//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{_ics_text(event.get('uid') or message.dedupe_key)}",
        f"DTSTAMP:{_ics_time(datetime.now(UTC))}",
        f"DTSTART:{_ics_time(starts)}",
        f"DTEND:{_ics_time(ends)}",
        f"SUMMARY:{_ics_text(event.get('title', ''))}",
    ]
    if event.get("location"):
        lines.append(f"LOCATION:{_ics_text(event['location'])}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(lines) + "\r\n"


def backend_for(channel: str):
    """The configured backend for a channel, built once per app."""
    cache = current_app.extensions.setdefault("culturenet.notify_backends", {})
    if channel not in cache:
        config = current_app.config
        if channel == Channel.sms:
            cache[channel] = TwilioSMS(config) if config.get("SMS_BACKEND") == "twilio" else ConsoleSMS()
        elif channel == Channel.email:
            cache[channel] = SMTPMail(config) if config.get("MAIL_BACKEND") == "smtp" else ConsoleMail()
        else:
            cache[channel] = Inbox()
    return cache[channel]
