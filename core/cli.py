"""`flask demo seed`: runs the seeders that the composition root registered, in order."""

import click
from flask import current_app
from flask.cli import with_appcontext

from core.extensions import db


@click.group("demo")
def demo_cli():
    """Demo data."""


@demo_cli.command("seed")
@click.option("--scale", type=click.IntRange(1, 10_000), default=1,
              help="Multiply residents, activities and history for load tests.")
@with_appcontext
def seed(scale: int):
    """Load the Panjin demo network, accounts and activities. Running it again changes nothing."""
    logins: list[tuple[str, str, str]] = []
    for seeder in current_app.extensions["culturenet.seeders"]:
        logins.extend(seeder(scale=scale) or [])
        db.session.commit()
    click.echo("Demo logins (password for all: demo12345):")
    for login, role, where in logins:
        click.echo(f"  {login:<14} {role:<10} {where}")
