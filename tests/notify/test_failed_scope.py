"""Staff see and resend only the failed messages of bookings, orders and reservations in their scope."""

from accounts.models import Role
from core.extensions import db
from notify.models import Channel, Message, State
from tests import activity_factories as af
from tests import factories as f


def failed(user, key):
    message = Message(
        recipient=user,
        channel=Channel.sms,
        template="reminder_24h",
        context={},
        dedupe_key=key,
        state=State.failed,
        last_error="21211 invalid number",
    )
    db.session.add(message)
    db.session.flush()
    return message


def test_staff_see_and_resend_only_failed_messages_of_their_scope(app, client):
    net = f.network()
    resident = f.resident("13800000001")
    act = af.activity(net["station"], title="书法课")
    booking = af.book(resident, act)
    mine = failed(resident, f"booking:{booking.id}:matrix")
    orphan = failed(resident, f"user:{resident.id}:suspension:1")
    f.staff(net["station"], login="station")
    f.staff(net["sibling"], login="sibling")
    f.staff(net["branch"], login="parent")
    f.staff(None, Role.admin, login="admin")
    f.commit()
    seen = {}
    for login in ("station", "sibling", "parent", "admin"):
        client.login(login)
        page = client.get("/staff/notifications/failed").get_data(as_text=True)
        seen[login] = {key for key in (mine.dedupe_key, orphan.dedupe_key) if key in page}
        client.post("/logout")
    assert seen == {
        "station": {mine.dedupe_key},
        "sibling": set(),
        "parent": {mine.dedupe_key},
        "admin": {mine.dedupe_key, orphan.dedupe_key},
    }
    client.login("sibling")
    assert client.post(f"/staff/notifications/{mine.id}/resend").status_code == 403
    assert client.post(f"/staff/notifications/{orphan.id}/resend").status_code == 403
    assert db.session.get(Message, mine.id).state == State.failed
    client.post("/logout")
    client.login("station")
    assert client.post(f"/staff/notifications/{mine.id}/resend").status_code == 303
    db.session.expire_all()
    assert db.session.get(Message, mine.id).state == State.pending
