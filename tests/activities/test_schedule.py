"""The stored schedule (next session start, live-until) that the public list reads by index."""

from datetime import timedelta

from sqlalchemy import select

from activities import services as activities
from activities.models import Activity, SessionStatus
from activities.schedule import refresh_schedules, roll_next_sessions
from core.extensions import db
from tests import activity_factories as af
from tests import factories as f


def _stored(act: Activity):
    db.session.expire(act)
    return act.next_starts_at, act.live_until


def _computed(act: Activity, now):
    live = [s for s in act.sessions if s.status == SessionStatus.scheduled]
    upcoming = [s.starts_at for s in live if s.ends_at > now]
    return (min(upcoming) if upcoming else None), (max(s.ends_at for s in live) if live else None)


def test_adding_moving_and_cancelling_sessions_keeps_the_stored_schedule(app):
    act = af.activity(sessions=3)
    first, second, third = act.sessions
    f.commit()
    assert _stored(act) == (first.starts_at, third.ends_at)

    staff = f.staff(act.venue, login="mover")
    activities.move_session(
        first, starts_at=third.starts_at + timedelta(days=7), ends_at=third.ends_at + timedelta(days=7), actor=staff
    )
    f.commit()
    assert _stored(act) == (second.starts_at, first.ends_at)

    activities.cancel_session(first, reason="雨天", actor=staff)
    f.commit()
    assert _stored(act) == (second.starts_at, third.ends_at)

    activities.cancel_activity(act, reason="场地维修", actor=staff)
    f.commit()
    assert _stored(act) == (None, None)


def test_the_values_are_set_before_commit_on_the_object_in_hand(app):
    act = af.activity(sessions=2)
    assert act.next_starts_at == act.sessions[0].starts_at
    assert act.live_until == act.sessions[1].ends_at


def test_the_sweeper_moves_the_next_session_on_once_it_has_ended(app):
    act = af.activity(sessions=2, starts_in=timedelta(days=1))
    first, second = act.sessions
    f.commit()
    during = first.starts_at + timedelta(minutes=30)
    assert roll_next_sessions(during) == 1  # started: looked at again, but still the next until it ends
    assert _stored(act)[0] == first.starts_at
    after = first.ends_at + timedelta(minutes=1)
    roll_next_sessions(after)
    assert _stored(act) == (second.starts_at, second.ends_at)
    roll_next_sessions(second.ends_at + timedelta(minutes=1))
    assert _stored(act) == (None, second.ends_at)
    assert roll_next_sessions(second.ends_at + timedelta(days=1)) == 0  # nothing left to roll


def test_a_bulk_refresh_repairs_any_drift(app):
    acts = [af.activity(sessions=n) for n in (1, 2, 3)]
    f.commit()
    db.session.execute(Activity.__table__.update().values(next_starts_at=None, live_until=None))
    now = af.now()
    assert refresh_schedules(now=now) >= 3
    for act in acts:
        assert _stored(act) == _computed(act, now)


def test_the_public_list_orders_by_next_session_and_drops_ended_activities(client):
    venue = f.venue()
    later = af.activity(venue, title="晚些的讲座", starts_in=timedelta(days=9))
    sooner = af.activity(venue, title="早些的音乐会", starts_in=timedelta(days=3))
    course = af.activity(venue, kind="course", title="书法班", sessions=4, starts_in=timedelta(days=5))
    f.commit()

    def titles():
        return [a["title"] for a in client.get("/api/v1/activities").get_json()["items"]]

    assert titles() == ["早些的音乐会", "书法班", "晚些的讲座"]
    page = client.get("/activities").get_data(as_text=True)
    assert page.index("早些的音乐会") < page.index("书法班") < page.index("晚些的讲座")

    staff = f.staff(venue, login="canceller")
    activities.cancel_session(sooner.sessions[0], reason="取消", actor=staff)
    activities.move_session(
        later.sessions[0],
        starts_at=af.now() + timedelta(days=1),
        ends_at=af.now() + timedelta(days=1, hours=2),
        actor=staff,
    )
    f.commit()
    assert titles() == ["晚些的讲座", "书法班"]
    assert course.id in db.session.execute(select(Activity.id).where(Activity.live_until.is_not(None))).scalars().all()
