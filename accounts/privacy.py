"""Personal data (PIPL): one registry of what each package holds about a person and how it forgets it.

`accounts` is the lowest domain layer and imports no package above it. Each package that stores something
about a person has a `privacy.py` with an exporter (what the download shows of it) and an eraser (what
deleting the account does to it); the composition root (`culturenet/__init__.py`) registers them here.
`accounts.services.export_personal_data` and `delete_account` run them all, in the one request
transaction: a failing eraser rolls the whole deletion back.

Erasers run in `order` (lowest first): the ones that cancel and withdraw (bookings, orders, rooms) before
the ones that wipe what those steps may still have queued (the outbox, last).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from accounts.models import User

Exporter = Callable[[User], object]
Eraser = Callable[..., None]  # eraser(user, *, now)


@dataclass(frozen=True)
class Contributor:
    """One package's part of a person's data: its section of the download, and how deletion treats it."""

    name: str
    export: Exporter | None = None
    erase: Eraser | None = None
    order: int = 100


_contributors: dict[str, Contributor] = {}


def register(name: str, *, export: Exporter | None = None, erase: Eraser | None = None, order: int = 100) -> None:
    """Register (or replace: registering twice is harmless) a package's exporter and eraser under `name`,
    which is also the key of its section in the download."""
    _contributors[name] = Contributor(name=name, export=export, erase=erase, order=order)


def contributors() -> list[Contributor]:
    return sorted(_contributors.values(), key=lambda c: (c.order, c.name))


def export_sections(user: User) -> dict:
    """Every registered package's section of `user`'s download, by name."""
    return {c.name: c.export(user) for c in contributors() if c.export is not None}


def erase_everywhere(user: User, *, now: datetime) -> None:
    """Run every registered eraser for `user`, in order."""
    for contributor in contributors():
        if contributor.erase is not None:
            contributor.erase(user, now=now)
