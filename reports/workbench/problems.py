"""The problem ledger (问题台账): what blocks which standards, which unit solves it, how, by when; and the
reminders its owner receives before the deadline (through the notify outbox, once per problem and stage).
"""

from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import User
from accounts.services import find_by_login
from core import audit
from core.db import utcnow
from core.errors import Forbidden, Invalid, NotFound
from core.extensions import db
from core.i18n import to_local
from reports.workbench import units as wu
from reports.workbench.models import Problem, ProblemStatus, ResponsibleUnit, Standard

# Days before the deadline at which the owner is reminded (the larger first).
REMINDER_DAYS = (7, 1)


def standards_by_number(year: int, numbers: list[str]) -> list[Standard]:
    numbers = [n.strip()[:20] for n in numbers if n and n.strip()]
    if not numbers:
        return []
    found = {
        s.number: s
        for s in db.session.execute(
            select(Standard).where(Standard.year == year, Standard.number.in_(numbers))
        ).scalars()
    }
    missing = [n for n in numbers if n not in found]
    if missing:
        raise Invalid(fields={"standards": [_("No such standard: %(n)s.", n=", ".join(missing[:5]))]})
    return list(dict.fromkeys(found[n] for n in numbers))


def _owner(login: str | None) -> User | None:
    if not (login or "").strip():
        return None
    user = find_by_login(login)
    if user is None or user.deleted_at is not None:
        raise Invalid(fields={"owner": [_("No account with this login, phone or e-mail.")]})
    return user


def save_problem(problem: Problem | None, *, year: int, data: dict, actor, now: datetime | None = None) -> Problem:
    """Record or edit a problem (`data`: text, measure, unit_id, owner, due_on, standards, status).

    Raises Invalid for a missing text, unit or deadline, an unknown standard or owner; Forbidden when the
    actor neither works for the unit nor manages it.
    """
    now = now or utcnow()
    errors: dict[str, list[str]] = {}
    text = (data.get("text") or "").strip()
    if not text or len(text) > 1000:
        errors["text"] = [_("Describe the problem (at most %(n)s characters).", n=1000)]
    measure = (data.get("measure") or "").strip()
    if len(measure) > 1000:
        errors["measure"] = [_("At most %(n)s characters.", n=1000)]
    unit = db.session.get(ResponsibleUnit, data.get("unit_id") or 0)
    if unit is None:
        errors["unit_id"] = [_("Choose the responsible unit.")]
    due_on = data.get("due_on")
    if not isinstance(due_on, date):
        errors["due_on"] = [_("Give the deadline as a date such as 2026-06-30.")]
    status = data.get("status") or ProblemStatus.open.value
    if status not in ProblemStatus.__members__:
        errors["status"] = [_("Unknown status.")]
    if errors:
        raise Invalid(fields=errors)
    if not wu.can_work_for(actor, unit) or (problem is not None and not wu.can_work_for(actor, problem.unit)):
        raise Forbidden()
    standards = standards_by_number(year, data.get("standards") or [])
    owner = _owner(data.get("owner"))
    problem = problem or Problem(year=year, created_by_id=actor.id, created_at=now)
    old_due = problem.due_on
    problem.text, problem.measure, problem.unit, problem.unit_id = text, measure, unit, unit.id
    problem.due_on, problem.owner = due_on, owner
    problem.owner_id = owner.id if owner else None
    problem.status = ProblemStatus(status)
    problem.resolved_at = (problem.resolved_at or now) if problem.status == ProblemStatus.resolved else None
    problem.standards = standards
    db.session.add(problem)
    db.session.flush()
    audit.record(
        actor,
        "problem.save",
        problem,
        {"unit_id": unit.id, "status": status, "due_on": due_on, "old_due_on": old_due},
        now=now,
    )
    return problem


def get_visible(problem_id: int, user) -> Problem:
    problem = db.session.get(Problem, problem_id)
    if problem is None or not wu.sees(user, problem.unit):
        raise NotFound()
    return problem


def ledger(user, year: int, *, unit_id: int | None = None, open_only: bool = False) -> list[Problem]:
    """The problems of `year` that `user` sees: their own units' first, then by deadline."""
    stmt = select(Problem).where(Problem.year == year).order_by(Problem.due_on, Problem.id)
    if unit_id:
        stmt = stmt.where(Problem.unit_id == unit_id)
    if open_only:
        stmt = stmt.where(Problem.status != ProblemStatus.resolved)
    visible = {u.id for u in wu.visible_units(user)}
    mine = {u.id for u in wu.memberships(user)}
    rows = [p for p in db.session.execute(stmt).scalars() if p.unit_id in visible]
    return sorted(rows, key=lambda p: (p.unit_id not in mine and p.owner_id != user.id, p.due_on, p.id))


def _recipients(problem: Problem) -> list[User]:
    if problem.owner is not None:
        return [problem.owner] if problem.owner.is_active else []
    return [m.user for m in problem.unit.members if m.user.is_active]


def remind_problem_owners(now: datetime | None = None) -> int:
    """Remind the owner (or, without one, the unit's people) of each open problem 7 days and 1 day before its
    deadline. Idempotent: the dedupe key holds the problem, its deadline, the stage and the person."""
    import notify

    now = now or utcnow()
    today = to_local(now).date()
    horizon = today + timedelta(days=max(REMINDER_DAYS))
    problems = (
        db.session.execute(
            select(Problem)
            .where(Problem.status != ProblemStatus.resolved, Problem.due_on >= today, Problem.due_on <= horizon)
            .order_by(Problem.id)
        )
        .scalars()
        .all()
    )
    sent = 0
    for problem in problems:
        left = (problem.due_on - today).days
        stage = min(d for d in REMINDER_DAYS if left <= d)
        for user in _recipients(problem):
            notify.enqueue(
                user,
                "problem_due",
                {
                    "problem": problem.text[:200],
                    "unit": problem.unit.name,
                    "due_on": problem.due_on.isoformat(),
                    "days": left,
                    "standards": ", ".join(s.number for s in problem.standards),
                },
                dedupe_key=f"problem:{problem.id}:{problem.due_on.isoformat()}:{stage}d:{user.id}",
                channels=["inbox", "email"],
                now=now,
            )
            sent += 1
    db.session.flush()
    return sent
