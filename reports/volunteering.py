"""Acceptance rules about culture volunteering and residents' satisfaction, for the checklist and the workbench
standards (registered into `reports.checklist.RULES` on import; the composition root imports this module).

- `volunteer_service`: met when volunteers are registered (approved) in scope and at least `minimum_tasks`
  volunteer tasks (default 1) had service credited this year; the detail gives registered, active and hours.
- `satisfaction`: met when at least `min_responses` answers (default 30) were given this year (sessions and
  service orders) and their mean is at least `minimum_mean` (default 4.0 of 5).
"""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.extensions import db
from feedback import queries as feedback_queries
from reports.checklist import CheckStatus, Result, RuleContext, rule
from venues.models import Venue
from venues.queries import subtree_clause
from volunteers import queries as volunteer_queries
from volunteers.models import SignupStatus, VolunteerSignup, VolunteerTask


def _paths(ctx: RuleContext) -> list[str]:
    return ctx.flt.paths if ctx.flt.anchor is None else [ctx.flt.anchor.path]


@rule("volunteer_service")
def _volunteer_service(ctx: RuleContext, params: dict) -> Result:
    paths = _paths(ctx)
    rows = volunteer_queries.figures_by_district(paths, ctx.year)
    registered = sum(r["registered"] for r in rows)
    active = sum(r["active"] for r in rows)
    hours = round(sum(r["hours"] for r in rows), 1)
    tasks = db.session.execute(
        select(func.count(func.distinct(VolunteerTask.id)))
        .join(VolunteerSignup, VolunteerSignup.task_id == VolunteerTask.id)
        .join(Venue, Venue.id == VolunteerTask.venue_id)
        .where(
            subtree_clause(paths),
            VolunteerSignup.status == SignupStatus.confirmed,
            VolunteerSignup.minutes > 0,
            *volunteer_queries._in_period(VolunteerTask.starts_at, date(ctx.year, 1, 1), date(ctx.year, 12, 31)),
        )
    ).scalar_one()
    detail = _(
        "%(r)s volunteers registered, %(a)s active; %(t)s tasks served, %(h)s hours this year.",
        r=registered,
        a=active,
        t=tasks,
        h=hours,
    )
    met = registered > 0 and tasks >= params.get("minimum_tasks", 1)
    return (CheckStatus.met if met else CheckStatus.not_met), detail


@rule("satisfaction")
def _satisfaction(ctx: RuleContext, params: dict) -> Result:
    found = feedback_queries.answers(_paths(ctx), date(ctx.year, 1, 1), date(ctx.year, 12, 31))
    summary = feedback_queries.summarise(found, "venue")
    if not summary["responses"]:
        return CheckStatus.not_met, _("No satisfaction answers yet this year.")
    detail = _("%(n)s answers this year, mean %(m)s / 5.", n=summary["responses"], m=summary["mean"])
    met = summary["responses"] >= params.get("min_responses", 30) and summary["mean"] >= params.get("minimum_mean", 4.0)
    return (CheckStatus.met if met else CheckStatus.not_met), detail
