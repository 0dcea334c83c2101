"""`flask scheduler run`, `flask jobs list`, `flask jobs run NAME [--now ISO8601]`."""

from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from core.i18n import network_tz
from notify import scheduler


@click.group("scheduler")
def scheduler_cli():
    """The long-running scheduler process."""


@scheduler_cli.command("run")
@click.option("--poll", type=float, default=None, help="Seconds between lock checks (default 5).")
@with_appcontext
def scheduler_run(poll: float | None):
    """Run the scheduler; only one process in the cluster is active, the others stand by."""
    app = current_app._get_current_object()
    poll = poll if poll is not None else float(app.config.get("SCHEDULER_POLL_SECONDS", 5))
    scheduler.run_scheduler(app, poll_seconds=poll, echo=lambda line: click.echo(line, nl=True))


@click.group("jobs")
def jobs_cli():
    """The scheduled jobs, one at a time by hand."""


@jobs_cli.command("list")
def jobs_list():
    """Every registered job, its trigger and what it does."""
    for job in sorted(scheduler.JOBS.values(), key=lambda j: j.name):
        trigger = ", ".join(f"{k}={v}" for k, v in job.trigger_kwargs.items())
        click.echo(f"{job.name:<24} {trigger:<36} {job.description}")


def parse_now(value: str | None) -> datetime | None:
    """An ISO 8601 instant; without an offset it is read in the network's time zone."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO 8601 date-time: {value}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=network_tz())
    return parsed


@jobs_cli.command("run")
@click.argument("name")
@click.option("--now", "now_text", default=None, help="Run as if at this time (ISO 8601).")
@with_appcontext
def jobs_run(name: str, now_text: str | None):
    """Run one job once, now or as if at --now."""
    if name not in scheduler.JOBS:
        raise click.BadParameter(f"no job {name!r}; see `flask jobs list`", param_hint="NAME")
    now = parse_now(now_text)
    result = scheduler.run_job(current_app._get_current_object(), name, now)
    click.echo(f"{name}: {result if result is not None else 'done'}")
