"""`flask users create`: accounts from the command line, scoped to a venue."""

from sqlalchemy import select

from accounts.models import Role, User
from core.extensions import db
from tests import factories as f


def test_create_staff_scoped_to_a_venue(app):
    net = f.network()
    f.commit()
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "zhou",
            "--password",
            "secret123",
            "--role",
            "staff",
            "--venue",
            str(net["station"].id),
            "--name",
            "周站长",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.login == "zhou"))
    assert user.name == "周站长" and user.has_role(Role.staff)
    assert user.reaches(net["community"]) and not user.reaches(net["sibling"])


def test_create_resident_from_the_cli(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "13800000007", "--password", "secret123", "--name", "赵敏"]
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.phone == "13800000007")).card_number


def test_staff_without_venue_and_unknown_venue_are_refused(app):
    runner = app.test_cli_runner()
    no_venue = runner.invoke(args=["users", "create", "x1", "--password", "secret123", "--role", "staff"])
    assert no_venue.exit_code != 0
    unknown = runner.invoke(
        args=["users", "create", "x2", "--password", "secret123", "--role", "staff", "--venue", "9999"]
    )
    assert unknown.exit_code != 0 and "9999" in unknown.output
    assert db.session.scalar(select(User).where(User.login.in_(["x1", "x2"]))) is None
