"""`flask users …`: accounts from the command line (here, above accounts, because staff are scoped to a venue)."""

import click
from flask.cli import with_appcontext

from accounts import services
from core.errors import DomainError
from core.extensions import db
from venues.models import Venue


@click.group("users")
def users_cli():
    """Accounts."""


@users_cli.command("create")
@click.argument("login")
@click.option("--password", required=True)
@click.option("--role", type=click.Choice(["resident", "staff", "checkin", "manager", "admin"]), default="resident")
@click.option("--venue", "venue_id", type=int, default=None, help="Venue id; the account reaches its subtree.")
@click.option("--name", default=None)
@with_appcontext
def create(login, password, role, venue_id, name):
    """Create an account (staff and managers are scoped to --venue and everything below it)."""
    venue = db.session.get(Venue, venue_id) if venue_id else None
    if venue_id and venue is None:
        raise click.UsageError(f"no venue with id {venue_id}")
    try:
        user = services.create_user(login=login, password=password, name=name, role=role, venue=venue)
    except DomainError as err:
        db.session.rollback()
        details = err.to_dict().get("fields") or ""
        raise click.ClickException(f"{err.message} {details}".strip()) from None
    db.session.commit()
    click.echo(f"created {role} {login} (id {user.id})")
