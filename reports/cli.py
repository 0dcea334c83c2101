"""`flask reports …`: the acceptance workbook, the roll-up and the monthly exports, by hand."""

from datetime import datetime

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from core.db import utcnow
from core.extensions import db
from reports import exports, jobs, queries


class NetworkScope:
    """The CLI acts for the whole network (whoever runs it has the server)."""

    id = None
    is_authenticated = True

    def scope_paths(self, roles=None) -> list[str]:
        return ["/"]

    def reaches(self, venue, roles=None) -> bool:
        return venue is not None


def _now(value: str | None) -> datetime:
    if not value:
        return utcnow()
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise click.BadParameter("give a zone offset, e.g. 2026-05-01T09:00:00+08:00", param_hint="--now")
    return moment


@click.group("reports")
def reports_cli():
    """Reports: the acceptance workbook, roll-ups, scheduled exports."""


@reports_cli.command("export")
@click.option("--year", type=click.IntRange(2000, 2100), required=True)
@click.option("--venue", type=click.IntRange(1, 2**31 - 1), default=None, help="a venue id (its subtree)")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True)
@with_appcontext
def export(year: int, venue: int | None, out: str):
    """Write the acceptance workbook of YEAR (for VENUE's subtree) to OUT."""
    first, last = queries.year_bounds(year)
    try:
        flt = queries.build_filter(NetworkScope(), first=first, last=last, venue_id=venue)
    except Exception as exc:  # a domain error: no such venue
        raise click.ClickException(str(getattr(exc, "message", exc))) from None
    body = exports.workbook(flt, year, utcnow(), exported_by=_("Command line (flask reports workbook)"))
    with open(out, "wb") as fh:
        fh.write(body)
    exports.log_export(None, what="workbook", file_format="xlsx", params={"year": year, "venue": venue, "cli": True})
    db.session.commit()
    click.echo(f"wrote {out} ({len(body)} bytes)")


@reports_cli.group("standards")
def standards_cli():
    """The demonstration-zone catalogue: tasks, indicators and acceptance standards."""


@standards_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--year", type=click.IntRange(2000, 2100), default=None, help="the catalogue's year (default: this year)")
@click.option("--create-units", is_flag=True, help="add unknown responsible units as member departments")
@with_appcontext
def standards_import(file: str, year: int | None, create_units: bool):
    """Replace the year's catalogue with FILE (CSV or XLSX); a malformed file changes nothing."""
    from core.i18n import to_local
    from reports.workbench.catalogue import BadCatalogue, import_catalogue

    year = year or to_local(utcnow()).year
    with open(file, "rb") as fh:
        data = fh.read()
    try:
        summary = import_catalogue(file, data, year=year, create_units=create_units)
    except BadCatalogue as err:
        db.session.rollback()
        message = _("Row %(row)s: %(message)s", row=err.row, message=err.message) if err.row else str(err.message)
        raise click.ClickException(message) from None
    db.session.commit()
    click.echo(
        "year={year} tasks={tasks} indicators={indicators} standards={standards} removed={removed}".format(**summary)
    )


@reports_cli.command("rollup")
@click.option("--full", is_flag=True, help="recompute every day, not only those touched")
@click.option("--now", default=None, help="ISO 8601 time to run as")
@with_appcontext
def rollup(full: bool, now: str | None):
    """Bring the daily attendance roll-up up to date."""
    result = jobs.rollup_attendance(_now(now), full=full)
    db.session.commit()
    click.echo(f"days={result['days']} rows={result['rows']}")


@reports_cli.command("monthly")
@click.option("--now", default=None, help="ISO 8601 time to run as")
@with_appcontext
def monthly(now: str | None):
    """Produce (and mail) the monthly workbooks of every subscription not yet served this month."""
    paths = jobs.send_monthly_exports(_now(now))
    db.session.commit()
    for p in paths:
        click.echo(str(p))
