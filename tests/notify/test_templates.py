"""Every message kind renders in Chinese and English; SMS texts are short; a missing variable is an error."""

import pytest

from notify.rendering import TemplateProblem, encode_context, render, template_names
from tests.notify.samples import SAMPLES

KINDS = [
    "booking_confirmed",
    "booking_waitlisted",
    "lottery_entered",
    "lottery_won",
    "lottery_lost",
    "offer_made",
    "offer_expired",
    "booking_approved",
    "booking_rejected",
    "session_moved",
    "session_cancelled",
    "reminder_24h",
    "reminder_2h",
    "suspended",
    "suspension_lifted",
    "room_reservation_approved",
    "room_reservation_rejected",
    "order_status",
]


def test_there_is_a_template_for_every_event_the_domains_emit():
    assert set(KINDS) <= set(template_names())
    assert set(SAMPLES) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_each_template_renders_in_both_languages(app, kind):
    context = encode_context(SAMPLES[kind])
    zh = render(kind, context, "zh_CN")
    en = render(kind, context, "en")
    for part in ("sms", "subject", "body"):
        assert getattr(zh, part) and getattr(en, part), part
        assert getattr(zh, part) != getattr(en, part), part
    assert zh.sms.startswith("【文化云】") and en.sms.startswith("[CultureNet]")
    assert "%(" not in zh.body + en.body + zh.sms + en.sms


def test_times_are_shown_in_the_network_zone(app):
    zh = render("booking_confirmed", encode_context(SAMPLES["booking_confirmed"]), "zh_CN")
    assert "12月1日 14:30" in zh.sms  # 06:30 UTC is 14:30 in Asia/Shanghai


@pytest.mark.parametrize("kind", ["reminder_24h", "reminder_2h", "booking_confirmed", "session_cancelled"])
def test_chinese_sms_fits_one_70_character_segment(app, kind):
    sms = render(kind, encode_context(SAMPLES[kind]), "zh_CN").sms
    assert len(sms) <= 70, (len(sms), sms)


def test_reminder_sms_is_exactly_what_residents_read(app):
    sms = render("reminder_24h", encode_context(SAMPLES["reminder_24h"]), "zh_CN").sms
    assert sms == "【文化云】明天14:30“京剧入门体验课”，东风镇文化站，票码K7P2QX。"


def test_a_missing_variable_is_an_error_not_a_hole(app):
    context = encode_context({k: v for k, v in SAMPLES["reminder_24h"].items() if k != "code"})
    with pytest.raises(TemplateProblem, match="code"):
        render("reminder_24h", context, "zh_CN")


def test_an_unknown_template_is_an_error(app):
    with pytest.raises(TemplateProblem, match="no template"):
        render("no_such_kind", {}, "en")


def test_order_status_with_an_unknown_status_is_an_error(app):
    with pytest.raises(TemplateProblem):
        render("order_status", {"order_title": "x", "status": "teleported"}, "en")
