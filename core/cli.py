"""`flask demo seed`: runs the seeders that the composition root registered, in order."""

import click
from flask import current_app
from flask.cli import with_appcontext

from core.extensions import db


@click.group("demo")
def demo_cli():
    """Demo data."""


@demo_cli.command("seed")
@click.option(
    "--scale",
    type=click.IntRange(1, 10_000),
    default=1,
    help="Multiply residents, activities and history for load tests.",
)
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


@click.group("i18n")
def i18n_cli():
    """Translation catalogues."""


@i18n_cli.command("extract")
@click.argument("packages", nargs=-1)
def i18n_extract(packages):
    """Extract strings into <pkg>/translations and update the zh_CN catalogues."""
    from core import i18n_tool

    for folder in i18n_tool.extract_all(list(packages or i18n_tool.PACKAGES)):
        click.echo(f"updated {folder}")


@i18n_cli.command("compile")
def i18n_compile():
    """Compile every catalogue (.po → .mo)."""
    from core import i18n_tool

    i18n_tool.compile_all()


@i18n_cli.command("check")
def i18n_check():
    """List strings that have no Chinese translation; exit 1 if any."""
    from core import i18n_tool

    gaps = i18n_tool.missing()
    for where, msgid in gaps:
        click.echo(f"{where}: {msgid}")
    if gaps:
        raise SystemExit(1)
