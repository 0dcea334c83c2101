"""Tickets: the signed QR payload of a booking, its short code, and the QR images.

A ticket names its booking and carries an HMAC made from the app's SECRET_KEY, so a forged or
altered ticket is refused without touching the database. The payload is kept short and in the QR
code's alphanumeric alphabet (upper case, digits and ':') so the symbol stays small and easy to scan
on a cracked phone screen:

    CN1:B1234:7Q2M4XK3PZ6RT5WA
    │   │     └ 16 base32 characters: 80 bits of HMAC-SHA256(key, "B1234")
    │   └ kind ('B' a seat booking, 'R' a room reservation, 'V' a volunteer's task sign-up) and id
    └ format version

The short code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I), taken from the
same HMAC but from bits the QR does not show, so knowing one gives no hint of the other. A code names
its booking only together with the session being checked in (see `resolve_code`), which keeps it short.
"""

import base64
import hashlib
import hmac
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from flask import current_app
from flask_babel import lazy_gettext as _l
from qrcode.constants import ERROR_CORRECT_M

from core.errors import DomainError

PREFIX = "CN1"
KINDS = {"B": "booking", "R": "reservation", "V": "volunteer sign-up"}
SIGNATURE_BYTES = 10  # 80 bits in the QR: forging one is hopeless, the symbol stays version 2
CODE_LENGTH = 8
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols, no 0/O or 1/I
MAX_PAYLOAD = 64  # anything longer is not ours, refused before any parsing
_PAYLOAD_RE = re.compile(r"^CN1:([BRV])([1-9][0-9]{0,11}):([A-Z2-7]{16})$")
_CODE_STRIP = re.compile(r"[\s\-]")


class InvalidTicket(DomainError):
    """A payload or short code that is not a valid CultureNet ticket."""

    code = "invalid_ticket"
    status = 422

    def __init__(self, message=None, **extra):
        from flask_babel import lazy_gettext as _l

        super().__init__(message or _l("This is not a valid ticket."), **extra)


# The door's refusals: a ticket's booking or reservation is not (or no longer) admissible now.


class AlreadyCheckedIn(DomainError):
    code = "already_checked_in"
    message = _l("This ticket has already been used for this session.")


class WrongSession(DomainError):
    code = "wrong_session"
    message = _l("This ticket is for another session.")


class TooEarly(DomainError):
    code = "too_early"
    message = _l("Check-in has not opened yet.")


class TooLate(DomainError):
    code = "too_late"
    message = _l("This session has ended.")


class Cancelled(DomainError):
    code = "cancelled"
    message = _l("This booking has been cancelled.")


class SessionCancelled(Cancelled):
    message = _l("This session has been cancelled.")


class NotConfirmed(DomainError):
    code = "not_confirmed"
    message = _l("This booking is not confirmed (waiting list, lottery or approval).")


@dataclass(frozen=True)
class TicketRef:
    """What a verified payload names: the kind of thing and its id."""

    kind: str
    id: int


def _key() -> bytes:
    """A key for tickets only, derived from SECRET_KEY (so it cannot be replayed as another signature)."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"culturenet.ticket.v1", hashlib.sha256).digest()


def _digest(kind: str, object_id: int) -> bytes:
    return hmac.new(_key(), f"{kind}{object_id}".encode(), hashlib.sha256).digest()


def _signature(digest: bytes) -> str:
    return base64.b32encode(digest[:SIGNATURE_BYTES]).decode()


def _code(digest: bytes) -> str:
    """8 symbols of 5 bits from the digest bytes after the signature's."""
    bits = int.from_bytes(digest[SIGNATURE_BYTES : SIGNATURE_BYTES + 5], "big")
    return "".join(CODE_ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH)))


def payload_for(object_id: int, kind: str = "B") -> str:
    """The QR payload of a booking (or, with kind 'R', of a room reservation)."""
    return f"{PREFIX}:{kind}{object_id}:{_signature(_digest(kind, object_id))}"


def code_for(object_id: int, kind: str = "B") -> str:
    """The short code a person reads out or types, e.g. 'K7MX4Q2B'."""
    return _code(_digest(kind, object_id))


def format_code(code: str) -> str:
    """'K7MX-4Q2B': the code as printed, in two groups of four."""
    return f"{code[:4]}-{code[4:]}"


def verify_payload(payload: object, kind: str = "B") -> int:
    """The id named by a genuine ticket payload of `kind`; raises InvalidTicket for anything else.

    No database access: garbage, other systems' QR codes, huge or tampered payloads all stop here.
    """
    if not isinstance(payload, str) or len(payload) > MAX_PAYLOAD:
        raise InvalidTicket()
    match = _PAYLOAD_RE.match(payload.strip())
    if match is None or match.group(1) != kind:
        raise InvalidTicket()
    object_id = int(match.group(2))
    expected = _signature(_digest(kind, object_id))
    if not hmac.compare_digest(expected, match.group(3)):
        raise InvalidTicket()
    return object_id


def normalise_code(raw: object) -> str:
    """A typed short code in canonical form (upper case, no spaces or dash); raises InvalidTicket."""
    if not isinstance(raw, str) or len(raw) > 20:
        raise InvalidTicket()
    code = _CODE_STRIP.sub("", raw).upper()
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        raise InvalidTicket()
    return code


def resolve_code(raw: object, candidate_ids: Iterable[int], kind: str = "B") -> int:
    """The id among `candidate_ids` (e.g. the bookings of the session being checked in) whose code is `raw`.

    Raises InvalidTicket when the code is malformed or matches none of them.
    """
    code = normalise_code(raw)
    found = None
    for object_id in candidate_ids:
        if hmac.compare_digest(code_for(object_id, kind), code):
            found = object_id
    if found is None:
        raise InvalidTicket()
    return found


def fingerprint(secret_text: str) -> str:
    """A one-way hash of a payload or code, for offline rosters: a stolen roster cannot print tickets."""
    return hashlib.sha256(secret_text.encode()).hexdigest()[:32]


# --- images ---------------------------------------------------------------------------------------


def _qr(payload: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    qr.add_data(payload, optimize=0)
    qr.make(fit=True)
    return qr


def qr_svg(payload: str) -> bytes:
    """The QR code as a standalone SVG (one path, scales to any size)."""
    image = _qr(payload).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def qr_data_uri(payload: str) -> str:
    """The QR code as an inline SVG `data:` URI, for a page that must show the ticket offline once opened."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(payload)).decode()


def qr_png(payload: str, box_size: int = 10) -> bytes:
    """The QR code as a black-on-white PNG."""
    qr = _qr(payload)
    qr.box_size = box_size
    image = qr.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
