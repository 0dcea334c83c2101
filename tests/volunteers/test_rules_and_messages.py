"""The acceptance rules about volunteering and satisfaction; the new message kinds render in both languages."""

from datetime import date, timedelta

import pytest

from notify.rendering import encode_context, render
from reports import checklist as cl
from reports.models import CheckStatus
from reports.queries import ReportFilter
from tests import factories as f
from tests.volunteers import world
from volunteers import services

STARTS = world.af.now() + timedelta(days=1)
SAMPLES = {
    "volunteer_reminder": {
        "task_title": "展厅讲解",
        "venue_name": "东风镇文化站",
        "starts_at": STARTS,
        "code": "K7MX-4Q2B",
    },
    "volunteer_task_cancelled": {"task_title": "展厅讲解", "venue_name": "东风镇文化站", "starts_at": STARTS},
    "volunteer_decided": {"venue_name": "东风镇文化站", "approved": False, "reason": "名额已满"},
    "feedback_request": {"activity_title": "剪纸课", "venue_name": "东风镇文化站"},
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_each_new_message_renders_in_both_languages(app, kind):
    zh = render(kind, encode_context(SAMPLES[kind]), "zh_CN")
    en = render(kind, encode_context(SAMPLES[kind]), "en")
    for part in ("sms", "subject", "body"):
        assert getattr(zh, part) and getattr(en, part) and getattr(zh, part) != getattr(en, part)
    assert zh.sms.startswith("【文化云】") and en.sms.startswith("[CultureNet]") and len(zh.sms) <= 70


def _filter(net) -> ReportFilter:
    year = world.af.now().year
    return ReportFilter(first=date(year, 1, 1), last=date(year, 12, 31), paths=[net["hub"].path])


def test_the_volunteering_rule_needs_registered_volunteers_and_served_tasks(app, travel):
    import reports.volunteering  # noqa: F401  (registers the rules, as the composition root does)

    w = world.build(starts_in=timedelta(minutes=30), hours=2)
    ctx = cl.RuleContext(flt=_filter(w.net), year=world.af.now().year, now=world.af.now())
    status, detail = cl.RULES["volunteer_service"](ctx, {"minimum_tasks": 1})
    assert status == CheckStatus.not_met and "1" in detail
    signup = services.sign_up(w.task, user=w.resident)
    f.commit()
    travel(w.task.ends_at + timedelta(hours=1))
    services.correct_service(signup, minutes=120, note="补录", actor=w.staff)
    f.commit()
    status, _detail = cl.RULES["volunteer_service"](ctx, {"minimum_tasks": 1})
    if w.task.starts_at.year == ctx.year:  # the task falls in this year (not on New Year's Eve)
        assert status == CheckStatus.met


def test_the_satisfaction_rule_needs_enough_answers_and_a_good_mean(app):
    import reports.volunteering  # noqa: F401

    net = f.network()
    ctx = cl.RuleContext(flt=_filter(net), year=world.af.now().year, now=world.af.now())
    status, _detail = cl.RULES["satisfaction"](ctx, {"min_responses": 1, "minimum_mean": 4.0})
    assert status == CheckStatus.not_met
