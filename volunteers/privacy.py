"""Personal data (PIPL) of volunteering: the download shows the volunteer profile (real name, ID number, the
guardian of a minor) and every sign-up with its service time; deleting the account gives back the places of
sign-ups still to come and erases the real name, ID number, guardian and notes. Service already done stays,
without a name, for the figures. Registered in `accounts.privacy` by the composition root."""

from contextlib import suppress
from datetime import datetime

from sqlalchemy import select

from accounts.models import User
from core.errors import DomainError
from core.extensions import db
from volunteers import services
from volunteers.models import SignupStatus, Volunteer, VolunteerSignup


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _profile(user: User) -> Volunteer | None:
    return db.session.execute(select(Volunteer).where(Volunteer.user_id == user.id)).scalar_one_or_none()


def _signups(volunteer: Volunteer) -> list[VolunteerSignup]:
    stmt = select(VolunteerSignup).where(VolunteerSignup.volunteer_id == volunteer.id).order_by(VolunteerSignup.id)
    return list(db.session.execute(stmt).scalars())


def export(user: User) -> dict | None:
    volunteer = _profile(user)
    if volunteer is None:
        return None
    return {
        "venue_id": volunteer.venue_id,
        "status": volunteer.status.value,
        "skills": volunteer.skills,
        "availability": volunteer.availability,
        "real_name": volunteer.real_name,
        "id_number": volunteer.id_number,
        "is_minor": volunteer.is_minor,
        "guardian_name": volunteer.guardian_name or None,
        "guardian_phone": volunteer.guardian_phone or None,
        "note": volunteer.note or None,
        "registered_at": _iso(volunteer.created_at),
        "signups": [
            {
                "task": s.task.title,
                "starts_at": _iso(s.task.starts_at),
                "status": s.status.value,
                "checked_in_at": _iso(s.checked_in_at),
                "checked_out_at": _iso(s.checked_out_at),
                "minutes": s.minutes,
            }
            for s in _signups(volunteer)
        ],
    }


def erase(user: User, *, now: datetime) -> None:
    volunteer = _profile(user)
    if volunteer is None:
        return
    for signup in _signups(volunteer):
        if signup.status == SignupStatus.confirmed and signup.checked_in_at is None and signup.task.ends_at > now:
            with suppress(DomainError):  # too late to give the place back: it stays, without a name
                services.cancel_signup(signup, actor=user, now=now)
    volunteer.real_name = ""
    volunteer.id_number = None
    volunteer.guardian_name = volunteer.guardian_phone = ""
    volunteer.note = ""
    db.session.flush()
