"""Tickets: signed payloads verified without the database, short codes, QR images."""

import re

import pytest

from core import tickets
from core.tickets import InvalidTicket
from tests.conftest import make_app


@pytest.fixture(scope="module")
def ticket_app():
    app = make_app("sqlite://")
    with app.app_context():
        yield app


@pytest.fixture
def other_key_app():
    app = make_app("sqlite://")
    app.config["SECRET_KEY"] = "another-deployment"
    return app


def test_payload_names_the_booking_and_verifies(ticket_app):
    payload = tickets.payload_for(1234)
    assert re.fullmatch(r"CN1:B1234:[A-Z2-7]{16}", payload)
    assert tickets.verify_payload(payload) == 1234


def test_payload_uses_only_the_qr_alphanumeric_alphabet_and_stays_small(ticket_app):
    payload = tickets.payload_for(987654321)
    assert set(payload) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert tickets._qr(payload).version <= 2


def test_surrounding_whitespace_from_a_scanner_is_tolerated(ticket_app):
    assert tickets.verify_payload(" " + tickets.payload_for(7) + "\n") == 7


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.replace("B1234", "B1235"),  # another booking's id under this signature
        lambda p: p[:-1] + ("A" if p[-1] != "A" else "B"),  # one character of the signature changed
        lambda p: p[:-2],  # signature truncated
        lambda p: p + "A",  # signature lengthened
        lambda p: p.replace("CN1", "CN2"),  # unknown version
        lambda p: p.replace(":B", ":R"),  # a booking's signature presented as a reservation's
        lambda p: p.lower(),
        lambda p: p.replace("B1234", "B01234"),  # same number, another spelling
    ],
)
def test_tampered_payloads_are_refused(ticket_app, mutate):
    payload = mutate(tickets.payload_for(1234))
    with pytest.raises(InvalidTicket) as err:
        tickets.verify_payload(payload)
    assert err.value.code == "invalid_ticket" and err.value.status == 422


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        " ",
        "hello",
        "CN1",
        "CN1::",
        "CN1:B:",
        "CN1:B0:AAAAAAAAAAAAAAAA",
        "CN1:B-5:AAAAAAAAAAAAAAAA",
        "https://example.com/ticket/1234",  # another system's QR
        "WIFI:S:cafe;T:WPA;P:secret;;",
        "BEGIN:VCARD\nFN:张三\nEND:VCARD",
        "CN1:B1234:" + "A" * 16 + "\x00",
        "CN1:B99999999999999999999:AAAAAAAAAAAAAAAA",
        "CN1:B１２３:AAAAAAAAAAAAAAAA",  # full-width digits
        "X" * 10_000,  # huge
        "CN1:B1:" + "A" * 5_000,
        None,
        1234,
        ["CN1:B1:AAAA"],
        {"payload": "x"},
    ],
)
def test_garbage_and_other_systems_codes_are_refused(ticket_app, garbage):
    with pytest.raises(InvalidTicket):
        tickets.verify_payload(garbage)


def test_a_ticket_signed_with_another_secret_is_refused(ticket_app, other_key_app):
    with other_key_app.app_context():
        forged = tickets.payload_for(1234)
    assert forged != tickets.payload_for(1234)
    with pytest.raises(InvalidTicket):
        tickets.verify_payload(forged)


def test_a_forged_signature_is_refused_for_every_guess_of_a_small_sample(ticket_app):
    genuine = tickets.payload_for(42)
    for guess in ("A" * 16, "2" * 16, "ABCDEFGHIJKLMNOP", genuine.split(":")[2][::-1]):
        with pytest.raises(InvalidTicket):
            tickets.verify_payload(f"CN1:B42:{guess}")


def test_short_code_is_eight_unambiguous_symbols_and_differs_per_booking(ticket_app):
    codes = {tickets.code_for(i) for i in range(1, 5001)}
    assert len(codes) == 5000  # no collision in a big sample
    for code in list(codes)[:200]:
        assert len(code) == 8 and not set(code) & set("01OI")


def test_short_code_is_not_readable_from_the_payload(ticket_app):
    payload, code = tickets.payload_for(77), tickets.code_for(77)
    assert code not in payload


def test_short_code_resolves_among_a_sessions_bookings_in_any_typing(ticket_app):
    code = tickets.code_for(31)
    typed = tickets.format_code(code).lower().replace("-", " - ")
    assert tickets.resolve_code(typed, [30, 31, 32]) == 31
    assert tickets.resolve_code(code, [31]) == 31


@pytest.mark.parametrize("typed", ["", "1234", "ABCDEFGHJ", "ABCD-EFG0", "ABCDEFGI", "x" * 500, None, 12345678])
def test_malformed_codes_are_refused(ticket_app, typed):
    with pytest.raises(InvalidTicket):
        tickets.resolve_code(typed, [1, 2, 3])


def test_a_code_of_another_session_is_refused(ticket_app):
    with pytest.raises(InvalidTicket):
        tickets.resolve_code(tickets.code_for(31), [30, 32, 33])


def test_fingerprint_is_stable_and_one_way(ticket_app):
    payload = tickets.payload_for(5)
    assert tickets.fingerprint(payload) == tickets.fingerprint(payload)
    assert payload not in tickets.fingerprint(payload) and len(tickets.fingerprint(payload)) == 32


def test_qr_images_are_an_svg_and_a_png(ticket_app):
    payload = tickets.payload_for(5)
    svg = tickets.qr_svg(payload)
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg and b"<path" in svg
    png = tickets.qr_png(payload)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png))
    assert image.size[0] == image.size[1] >= 250  # version 2 (25 modules) + border at 10 px
