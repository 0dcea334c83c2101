"""Responsible units and who sees what: a unit's members, and report staff whose scope covers the unit's venue.

A district or township unit is anchored at its venue; nobody whose scope lies outside that venue's
subtree sees the unit, its problems or its archive. A member department has no venue: city-level staff
(a grant at the network's root) and its own members see it.
"""

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from accounts.models import REPORT_ROLES, Role
from accounts.services import find_by_login
from core import audit
from core.errors import DomainError, Forbidden, Invalid, NotFound
from core.extensions import db
from reports.workbench.models import ResponsibleUnit, UnitKind, UnitMember
from venues.models import Venue

MANAGE_ROLES = (Role.manager, Role.admin)


class UnitExists(DomainError):
    code = "duplicate"
    status = 409


def memberships(user) -> list[ResponsibleUnit]:
    """The units `user` works for."""
    if not getattr(user, "id", None):
        return []
    return list(
        db.session.execute(
            select(ResponsibleUnit)
            .join(UnitMember)
            .where(UnitMember.user_id == user.id, ResponsibleUnit.is_active.is_(True))
            .order_by(ResponsibleUnit.id)
        ).scalars()
    )


def root_paths() -> set[str]:
    return set(db.session.execute(select(Venue.path).where(Venue.parent_id.is_(None))).scalars())


def has_city_scope(user, roles=REPORT_ROLES) -> bool:
    """Whether `user` holds one of `roles` at the network's root (the hub) or everywhere (an admin)."""
    paths = user.scope_paths(roles) if getattr(user, "is_authenticated", False) else []
    roots = root_paths()
    return any(p == "/" or p in roots for p in paths)


def scope_paths(user) -> list[str]:
    """Venue-path prefixes whose units `user` sees: report grants, and the venues of the units they work for."""
    paths = list(user.scope_paths(REPORT_ROLES))
    paths += [u.venue.path for u in memberships(user) if u.venue is not None]
    return paths


def sees(
    user,
    unit: ResponsibleUnit,
    *,
    paths: list[str] | None = None,
    city: bool | None = None,
    member_of: set[int] | None = None,
) -> bool:
    """Whether `user` may see `unit` and everything it owns (precomputed arguments for listings)."""
    member_of = member_of if member_of is not None else {u.id for u in memberships(user)}
    if unit.id in member_of:
        return True
    if unit.venue is None:
        return city if city is not None else has_city_scope(user)
    paths = paths if paths is not None else scope_paths(user)
    return any(unit.venue.path.startswith(p) for p in paths)


def visible_units(user) -> list[ResponsibleUnit]:
    """Every active unit `user` sees, their own first."""
    mine = {u.id for u in memberships(user)}
    paths, city = scope_paths(user), has_city_scope(user)
    units = db.session.execute(
        select(ResponsibleUnit).where(ResponsibleUnit.is_active.is_(True)).order_by(ResponsibleUnit.id)
    ).scalars()
    seen = [u for u in units if sees(user, u, paths=paths, city=city, member_of=mine)]
    return sorted(seen, key=lambda u: (u.id not in mine, u.id))


def can_work_for(user, unit: ResponsibleUnit) -> bool:
    """Members of the unit, and managers or admins whose scope covers it, write on its behalf."""
    if unit.id in {u.id for u in memberships(user)}:
        return True
    if unit.venue is None:
        return has_city_scope(user, MANAGE_ROLES)
    return user.reaches(unit.venue, MANAGE_ROLES)


def can_manage(user, unit: ResponsibleUnit | None = None, venue: Venue | None = None) -> bool:
    """Managers and admins at the city level manage every unit; a district manager the units below them."""
    if has_city_scope(user, MANAGE_ROLES):
        return True
    anchor = venue if unit is None else unit.venue
    return anchor is not None and user.reaches(anchor, MANAGE_ROLES)


def is_workbench_user(user) -> bool:
    """Report staff anywhere, and the people of any responsible unit."""
    return user.has_role(*REPORT_ROLES) or bool(memberships(user))


def save_unit(unit: ResponsibleUnit | None, *, data: dict, actor) -> ResponsibleUnit:
    """Create or edit a unit (`data`: name, name_en, kind, venue_id). Raises Invalid, Forbidden, UnitExists."""
    errors: dict[str, list[str]] = {}
    name = (data.get("name") or "").strip()
    if not name or len(name) > 100:
        errors["name"] = [_("Give a name of at most %(n)s characters.", n=100)]
    kind = data.get("kind") or ""
    if kind not in UnitKind.__members__:
        errors["kind"] = [_("Unknown kind of unit.")]
    venue = None
    if data.get("venue_id"):
        venue = db.session.get(Venue, data["venue_id"])
        if venue is None:
            errors["venue_id"] = [_("No such venue.")]
    elif kind in (UnitKind.district, UnitKind.township):
        errors["venue_id"] = [_("A district or township unit needs its venue.")]
    if errors:
        raise Invalid(fields=errors)
    allowed_here = has_city_scope(actor, MANAGE_ROLES) or (venue is not None and actor.reaches(venue, MANAGE_ROLES))
    if not allowed_here or (unit is not None and not can_manage(actor, unit)):
        raise Forbidden()
    unit = unit or ResponsibleUnit()
    unit.name, unit.name_en = name, ((data.get("name_en") or "").strip()[:150] or None)
    unit.kind, unit.venue_id = UnitKind(kind), venue.id if venue else None
    unit.venue = venue
    try:
        with db.session.begin_nested():
            db.session.add(unit)
            db.session.flush()
    except IntegrityError:
        raise UnitExists(_("A unit with this name exists already.")) from None
    audit.record(actor, "unit.save", unit, {"name": name, "kind": kind, "venue_id": unit.venue_id})
    return unit


def add_member(unit: ResponsibleUnit, *, login: str, actor) -> UnitMember:
    """Add a person (by login, phone, card number or e-mail) to a unit. Raises NotFound, Forbidden."""
    if not can_manage(actor, unit):
        raise Forbidden()
    user = find_by_login(login)
    if user is None or user.deleted_at is not None:
        raise NotFound(_("No account with this login, phone or e-mail."))
    member = db.session.execute(
        select(UnitMember).where(UnitMember.unit_id == unit.id, UnitMember.user_id == user.id)
    ).scalar_one_or_none()
    if member is None:
        member = UnitMember(unit_id=unit.id, user_id=user.id)
        db.session.add(member)
        db.session.flush()
        audit.record(actor, "unit.member_add", unit, {"user_id": user.id})
    return member


def remove_member(member: UnitMember, *, actor) -> None:
    if not can_manage(actor, member.unit):
        raise Forbidden()
    audit.record(actor, "unit.member_remove", member.unit, {"user_id": member.user_id})
    db.session.delete(member)
    db.session.flush()
