"""The reads of volunteering: a volunteer's record and certificate, tasks to sign up for, staff rosters,
no-shows, hours per volunteer, team (a venue's volunteers) and venue, commendations, and report figures."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy import func, select

from accounts.models import MANAGE_ROLES, User, mask_name
from core.extensions import db
from core.i18n import local_datetime
from venues.models import District, Venue
from venues.queries import subtree_clause
from volunteers.models import (
    SignupStatus,
    TaskStatus,
    Volunteer,
    VolunteerSignup,
    VolunteerStatus,
    VolunteerTask,
)

COMMENDATION_HOURS = 50


def period_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Local dates → [from, to) aware instants (the end day included)."""
    lo = local_datetime(start, time.min) if start else None
    hi = local_datetime(end + timedelta(days=1), time.min) if end else None
    return lo, hi


def _in_period(column, start: date | None, end: date | None) -> list:
    lo, hi = period_bounds(start, end)
    clauses = []
    if lo is not None:
        clauses.append(column >= lo)
    if hi is not None:
        clauses.append(column < hi)
    return clauses


def signup_state(signup: VolunteerSignup, now: datetime) -> str:
    """served, on_duty, no_show, cancelled, upcoming."""
    if signup.status == SignupStatus.cancelled:
        return "cancelled"
    if signup.minutes is not None:
        return "served"
    if signup.checked_in_at is not None:
        return (
            "on_duty"
            if signup.checked_out_at is None and now <= signup.task.ends_at + timedelta(hours=12)
            else "served"
        )
    if signup.task.ends_at < now:
        return "no_show"
    return "upcoming"


def my_signups(volunteer: Volunteer, start: date | None = None, end: date | None = None) -> list[VolunteerSignup]:
    return list(
        db.session.execute(
            select(VolunteerSignup)
            .join(VolunteerTask, VolunteerTask.id == VolunteerSignup.task_id)
            .where(VolunteerSignup.volunteer_id == volunteer.id, *_in_period(VolunteerTask.starts_at, start, end))
            .order_by(VolunteerTask.starts_at.desc())
        ).scalars()
    )


def served_minutes(volunteer: Volunteer, start: date | None = None, end: date | None = None) -> int:
    return db.session.execute(
        select(func.coalesce(func.sum(VolunteerSignup.minutes), 0))
        .join(VolunteerTask, VolunteerTask.id == VolunteerSignup.task_id)
        .where(
            VolunteerSignup.volunteer_id == volunteer.id,
            VolunteerSignup.status == SignupStatus.confirmed,
            *_in_period(VolunteerTask.starts_at, start, end),
        )
    ).scalar_one()


def open_tasks(volunteer: Volunteer | None, now: datetime, *, matching: bool = True, limit: int = 50) -> list:
    """Tasks that have not started and still have places, soonest first; for a volunteer, those wanting one of
    their skills (or no skill in particular) first."""
    tasks = list(
        db.session.execute(
            select(VolunteerTask)
            .where(
                VolunteerTask.status == TaskStatus.open,
                VolunteerTask.starts_at > now,
            )
            .order_by(VolunteerTask.starts_at)
            .limit(500)
        ).scalars()
    )
    if volunteer is not None and matching:
        skills = set(volunteer.skills or [])
        tasks.sort(key=lambda t: (not (not t.skills or skills & set(t.skills)), t.starts_at))
    return tasks[:limit]


def matches(task: VolunteerTask, volunteer: Volunteer | None) -> bool:
    if volunteer is None:
        return False
    return not task.skills or bool(set(task.skills) & set(volunteer.skills or []))


def staff_registrations(actor: User, status: VolunteerStatus | None = None, limit: int = 200) -> list[Volunteer]:
    query = (
        select(Volunteer)
        .join(Venue, Venue.id == Volunteer.venue_id)
        .where(subtree_clause(actor.scope_paths(MANAGE_ROLES)))
        .order_by(Volunteer.created_at.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Volunteer.status == status)
    return list(db.session.execute(query).scalars())


def staff_tasks(actor: User, now: datetime, *, past_days: int = 30, limit: int = 200) -> list[VolunteerTask]:
    return list(
        db.session.execute(
            select(VolunteerTask)
            .join(Venue, Venue.id == VolunteerTask.venue_id)
            .where(
                subtree_clause(actor.scope_paths(MANAGE_ROLES)),
                VolunteerTask.ends_at >= now - timedelta(days=past_days),
            )
            .order_by(VolunteerTask.starts_at)
            .limit(limit)
        ).scalars()
    )


def roster(task: VolunteerTask, now: datetime) -> list[dict]:
    rows = db.session.execute(
        select(VolunteerSignup).where(VolunteerSignup.task_id == task.id).order_by(VolunteerSignup.id)
    ).scalars()
    return [
        {
            "signup_id": s.id,
            "volunteer_id": s.volunteer_id,
            "name": s.volunteer.user.name,
            "phone": s.volunteer.user.masked_phone,
            "status": s.status.value,
            "state": signup_state(s, now),
            "checked_in_at": s.checked_in_at,
            "checked_out_at": s.checked_out_at,
            "minutes": s.minutes,
            "correction_note": s.correction_note,
        }
        for s in rows
    ]


def _scoped_signups(actor: User, start: date | None, end: date | None):
    return (
        select(VolunteerSignup)
        .join(VolunteerTask, VolunteerTask.id == VolunteerSignup.task_id)
        .join(Venue, Venue.id == VolunteerTask.venue_id)
        .where(
            subtree_clause(actor.scope_paths(MANAGE_ROLES)),
            VolunteerSignup.status == SignupStatus.confirmed,
            *_in_period(VolunteerTask.starts_at, start, end),
        )
    )


def no_shows(actor: User, now: datetime, start: date | None = None, end: date | None = None) -> list[dict]:
    rows = db.session.execute(
        _scoped_signups(actor, start, end)
        .where(VolunteerSignup.checked_in_at.is_(None), VolunteerSignup.minutes.is_(None), VolunteerTask.ends_at < now)
        .order_by(VolunteerTask.starts_at.desc())
        .limit(500)
    ).scalars()
    return [
        {"signup_id": s.id, "name": s.volunteer.user.name, "task": s.task.title, "starts_at": s.task.starts_at}
        for s in rows
    ]


@dataclass
class HoursRow:
    key: int | str
    label: str
    hours: float
    tasks: int
    volunteers: int


def hours_by(actor: User, by: str, start: date | None = None, end: date | None = None) -> list[HoursRow]:
    """Credited hours in the actor's scope per 'volunteer', 'team' (the volunteer's venue) or 'venue' (the task's)."""
    team = sa.orm.aliased(Venue)
    base = (
        select()
        .select_from(VolunteerSignup)
        .join(VolunteerTask, VolunteerTask.id == VolunteerSignup.task_id)
        .join(Venue, Venue.id == VolunteerTask.venue_id)
        .join(Volunteer, Volunteer.id == VolunteerSignup.volunteer_id)
        .where(
            subtree_clause(actor.scope_paths(MANAGE_ROLES)),
            VolunteerSignup.status == SignupStatus.confirmed,
            VolunteerSignup.minutes.is_not(None),
            *_in_period(VolunteerTask.starts_at, start, end),
        )
    )
    measures = (
        func.sum(VolunteerSignup.minutes),
        func.count(VolunteerSignup.id),
        func.count(func.distinct(VolunteerSignup.volunteer_id)),
    )
    if by == "volunteer":
        query = base.join(User, User.id == Volunteer.user_id).add_columns(Volunteer.id, User.name, *measures)
        query = query.group_by(Volunteer.id, User.name)
    elif by == "team":
        query = base.join(team, team.id == Volunteer.venue_id).add_columns(team.id, team.name, *measures)
        query = query.group_by(team.id, team.name)
    else:
        query = base.add_columns(Venue.id, Venue.name, *measures).group_by(Venue.id, Venue.name)
    rows = [HoursRow(k, label, round((m or 0) / 60, 2), n, v) for k, label, m, n, v in db.session.execute(query)]
    return sorted(rows, key=lambda r: (-r.hours, str(r.label)))


def commendations(actor: User, year: int, threshold: float = COMMENDATION_HOURS) -> list[HoursRow]:
    """Volunteers with at least `threshold` credited hours in `year` (表彰名单)."""
    rows = hours_by(actor, "volunteer", date(year, 1, 1), date(year, 12, 31))
    return [r for r in rows if r.hours >= threshold]


def figures_by_district(paths: list[str], year: int | None = None) -> list[dict]:
    """Per district of the venues under `paths`: volunteers registered (approved), active (served in the
    period), hours credited (tasks in `year`, or ever). For the reports and the acceptance standards."""
    start, end = (date(year, 1, 1), date(year, 12, 31)) if year else (None, None)
    registered = dict(
        db.session.execute(
            select(Venue.district_code, func.count(Volunteer.id))
            .join(Venue, Venue.id == Volunteer.venue_id)
            .where(subtree_clause(paths), Volunteer.status == VolunteerStatus.approved)
            .group_by(Venue.district_code)
        ).all()
    )
    served = {
        code: (active, minutes)
        for code, active, minutes in db.session.execute(
            select(
                Venue.district_code,
                func.count(func.distinct(VolunteerSignup.volunteer_id)),
                func.coalesce(func.sum(VolunteerSignup.minutes), 0),
            )
            .join(VolunteerTask, VolunteerTask.id == VolunteerSignup.task_id)
            .join(Venue, Venue.id == VolunteerTask.venue_id)
            .where(
                subtree_clause(paths),
                VolunteerSignup.status == SignupStatus.confirmed,
                VolunteerSignup.minutes > 0,
                *_in_period(VolunteerTask.starts_at, start, end),
            )
            .group_by(Venue.district_code)
        ).all()
    }
    names = {d.code: d for d in db.session.execute(select(District)).scalars()}
    rows = []
    for code in sorted(set(registered) | set(served), key=lambda c: (names[c].position if c in names else 0, c)):
        active, minutes = served.get(code, (0, 0))
        district = names.get(code)
        rows.append(
            {
                "district_code": code,
                "district": district.name if district else code,
                "district_en": (district.name_en if district else None) or "",
                "registered": registered.get(code, 0),
                "active": active,
                "hours": round((minutes or 0) / 60, 1),
            }
        )
    return rows


def masked(user: User) -> str:
    return mask_name(user.name)
