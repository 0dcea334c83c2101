"""The booking state of an activity or one of its sessions: written once, read by the list cards, the
home page, the venue page, the activity page and the API.

`unit_state(activity, session, now)` answers for one bookable unit (a course as a whole, an event session,
an exhibition slot); `activity_state(activity, now)` for a card (the best unit a resident could still book).
Both return a `BookingState`: a stable `code`, the numbers it needs (seats left, waiting position, the moment
sign-ups open or close), words for people (`label`), a colour family (`tone`) and the action a button offers
(`action`, None when there is nothing to do).

Per-resident facts (my booking on the unit, my place on the waiting list) live in bookings/, which this
package may not read: bookings passes them in as `Mine`, and the public, cached lists never carry them.

Codes (docs/glossary.md has the words):
    available(N) · few_left(N) · full · waitlist(position?) · lottery_open(deadline) · opens_soon(at) ·
    closed · no_booking · ended · cancelled, and for the resident's own unit: booked · waiting(position) ·
    offered(deadline) · entered(draw at) · pending
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext

from activities.models import Activity, ActivityKind, ActivityStatus, Policy, Session

# A unit with this few seats left (or a tenth of its capacity) says 仅剩 N 位.
FEW_SEATS = 3


@dataclass(frozen=True)
class Mine:
    """What bookings/ knows about the resident's own booking on the unit."""

    status: str  # a BookingStatus value
    position: int | None = None  # on the waiting list
    deadline: datetime | None = None  # an offered seat must be confirmed by then
    draw_at: datetime | None = None  # a lottery entry is drawn then


@dataclass(frozen=True)
class BookingState:
    code: str
    seats: int | None = None
    position: int | None = None
    at: datetime | None = None
    policy: str = "first_come"

    @property
    def tone(self) -> str:
        """ok (green) · few (orange) · wait (blue) · lottery (purple) · soon (teal) · full (red) · off (grey)"""
        return {
            "available": "ok",
            "booked": "ok",
            "few_left": "few",
            "waitlist": "wait",
            "waiting": "wait",
            "offered": "few",
            "pending": "wait",
            "lottery_open": "lottery",
            "entered": "lottery",
            "opens_soon": "soon",
            "full": "full",
        }.get(self.code, "off")

    @property
    def label(self) -> str:
        from core.i18n import format_moment as moment

        c = self.code
        if c == "available":
            if self.policy == "approval":
                return _("Open for sign-up (%(n)s places)", n=self.seats)
            return ngettext("Available (%(num)s seat left)", "Available (%(num)s seats left)", self.seats or 0)
        if c == "few_left":
            return ngettext("Only %(num)s seat left", "Only %(num)s seats left", self.seats or 0)
        if c == "full":
            return _("Fully booked")
        if c == "waitlist":
            if self.position:
                return _("Waiting list open (you would be number %(n)s)", n=self.position)
            return _("Full · waiting list open")
        if c == "lottery_open":
            return _("Lottery open (closes %(t)s)", t=moment(self.at)) if self.at else _("Lottery open")
        if c == "opens_soon":
            return _("Opens soon (booking opens %(t)s)", t=moment(self.at))
        if c == "closed":
            return _("Sign-up closed")
        if c == "no_booking":
            return _("No booking needed")
        if c == "cancelled":
            return _("Cancelled")
        if c == "booked":
            return _("Booked")
        if c == "waiting":
            return (
                _("On the waiting list (number %(n)s)", n=self.position) if self.position else _("On the waiting list")
            )
        if c == "offered":
            return (
                _("Seat offered: confirm by %(t)s", t=moment(self.at)) if self.at else _("Seat offered: please confirm")
            )
        if c == "entered":
            return (
                _("Entered in the lottery (draw %(t)s)", t=moment(self.at)) if self.at else _("Entered in the lottery")
            )
        if c == "pending":
            return _("Awaiting approval")
        return _("Ended")

    @property
    def action(self) -> str | None:
        """book · waitlist · lottery · signup, or None when the resident can do nothing here."""
        if self.code in ("available", "few_left"):
            return "signup" if self.policy == "approval" else "book"
        if self.code == "waitlist":
            return "waitlist"
        if self.code == "lottery_open":
            return "lottery"
        return None

    @property
    def action_label(self) -> str:
        return {
            "book": _("Book now"),
            "signup": _("Sign up"),
            "waitlist": _("Join the waiting list"),
            "lottery": _("Enter the lottery"),
        }.get(self.action or "", "")

    def as_dict(self) -> dict:
        """The API's `booking_state` object."""
        return {
            "code": self.code,
            "label": self.label,
            "seats_left": self.seats,
            "position": self.position,
            "at": self.at.isoformat() if self.at else None,
            "action": self.action,
        }


def _mine_state(mine: Mine, policy: str) -> BookingState | None:
    return {
        "confirmed": BookingState("booked", policy=policy),
        "waitlisted": BookingState("waiting", position=mine.position, policy=policy),
        "offered": BookingState("offered", at=mine.deadline, policy=policy),
        "entered": BookingState("entered", at=mine.draw_at, policy=policy),
        "pending": BookingState("pending", policy=policy),
    }.get(mine.status)


def unit_state(
    activity: Activity,
    session: Session | None,
    now: datetime,
    *,
    mine: Mine | None = None,
    waiting: int | None = None,
) -> BookingState:
    """The state of one bookable unit (the course when `session` is None or the activity is a course).

    `waiting` (bookings on the unit's waiting list, when the caller knows it) turns 可候补 into 可候补 (第 N 位)."""
    policy = activity.policy.value
    if activity.status == ActivityStatus.cancelled or (session is not None and not session.is_live):
        return BookingState("cancelled", policy=policy)
    if activity.status != ActivityStatus.published:
        return BookingState("ended", policy=policy)
    if mine is not None:
        own = _mine_state(mine, policy)
        if own is not None:
            return own
    unit_session = None if activity.is_course else session
    start = activity.first_start if unit_session is None else unit_session.starts_at
    if start is None or start <= now:
        return BookingState("ended", policy=policy)
    if activity.policy == Policy.walk_in:
        return BookingState("no_booking", policy=policy)
    opens, closes = activity.window_for(unit_session)
    if opens is not None and now < opens:
        return BookingState("opens_soon", at=opens, policy=policy)
    if closes is not None and now >= closes:
        return BookingState("closed", policy=policy)
    if activity.policy == Policy.lottery:
        return BookingState("lottery_open", at=closes, policy=policy)
    unit = activity if unit_session is None else unit_session
    seats = max(0, unit.capacity - unit.seats_taken)
    if seats <= 0:
        if activity.has_waiting_list:
            return BookingState("waitlist", position=(waiting + 1) if waiting is not None else None, policy=policy)
        return BookingState("full", seats=0, policy=policy)
    few = max(FEW_SEATS, unit.capacity // 10)
    return BookingState("few_left" if seats <= few else "available", seats=seats, policy=policy)


# Which unit a card shows when an activity has several: the first that can be acted on, then the first
# that will open, then what is left.
_PREFERENCE = ["available", "few_left", "lottery_open", "waitlist", "opens_soon", "full", "closed", "no_booking"]


def activity_state(activity: Activity, now: datetime) -> BookingState:
    """The state a card shows: a course as a whole; else the soonest upcoming session that can be acted on."""
    if activity.is_course or activity.status != ActivityStatus.published:
        return unit_state(activity, None, now)
    upcoming = [s for s in activity.live_sessions if s.starts_at > now]
    if not upcoming:
        if activity.kind == ActivityKind.exhibition and activity.ends_on and activity.policy == Policy.walk_in:
            from core.i18n import local_today

            if activity.ends_on >= local_today(now):
                return BookingState("no_booking", policy=activity.policy.value)
        return BookingState("ended", policy=activity.policy.value)
    states = [unit_state(activity, s, now) for s in upcoming[:60]]
    for code in _PREFERENCE:
        for state in states:
            if state.code == code:
                return state
    return states[0]
