"""iCalendar (RFC 5545) feeds of sessions: per venue subtree, per district, per activity."""

from collections.abc import Callable

from icalendar import Calendar, Event

from activities.models import Activity, Session


def ics_for(sessions: list[Session], *, name: str, url_for_activity: Callable[[Activity], str]) -> bytes:
    """One VEVENT per session, with a stable UID so calendar apps update moved sessions in place."""
    cal = Calendar()
    cal.add("prodid", "-//CultureNet//Activities//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Shanghai")
    for session in sessions:
        activity = session.activity
        event = Event()
        event.add("uid", f"session-{session.id}@culturenet")
        event.add("summary", activity.title)
        event.add("dtstart", session.starts_at)
        event.add("dtend", session.ends_at)
        event.add("dtstamp", activity.updated_at)
        where = session.room.name if session.room else activity.place
        event.add("location", f"{activity.venue.name} {where or ''}".strip())
        if activity.summary:
            event.add("description", activity.summary)
        event.add("url", url_for_activity(activity))
        cal.add_component(event)
    return cal.to_ical()
