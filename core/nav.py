"""Navigation contributed by the packages: each declares its entries, the composition root registers them.

A `NavEntry` names a menu ("main", "staff" for the staff home's tools, "account" for the account page's links,
"start" for the page a user lands on after signing in: the first entry they see wins), its place in that menu, an
endpoint, a label and who sees it. `visible` must say no to anyone the endpoint would answer 无权访问: a link
never leads to a refusal (tests/core/test_role_navigation.py opens every link as every demo role). Templates call
`nav(menu)` for the entries the current user sees, so no template names an endpoint of a package it does not belong to.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from flask_login import current_user


def everyone(user) -> bool:
    return True


def signed_in(user) -> bool:
    return bool(user and user.is_authenticated)


def signed_out(user) -> bool:
    return not signed_in(user)


def with_roles(*roles) -> Callable[[Any], bool]:
    """Visible to a signed-in user holding one of `roles` somewhere."""
    return lambda user: signed_in(user) and user.has_role(*roles)


def resident(user) -> bool:
    """A signed-in resident (one-card holder), staff or not."""
    return signed_in(user) and user.is_resident


def public(user) -> bool:
    """The public pages' links: for visitors and residents; staff accounts without a one-card see their tools
    instead (they can still open every public page by its address)."""
    return not signed_in(user) or user.is_resident or not user.is_staff


@dataclass(frozen=True)
class NavEntry:
    """One link of a menu; `badge(user)` is a count shown beside the label (0 shows nothing)."""

    menu: str
    order: int
    endpoint: str
    label: Any
    visible: Callable[[Any], bool] = everyone
    badge: Callable[[Any], int] | None = None


@dataclass(frozen=True)
class NavLink:
    """What a template renders: an entry the current user sees, with its badge counted."""

    endpoint: str
    label: Any
    badge: int = 0


def register_nav(app: Flask, entries) -> None:
    """Add `entries` to the app's menus (the composition root calls this once per package)."""
    app.extensions.setdefault("culturenet.nav", []).extend(entries)


def links(menu: str) -> list[NavLink]:
    """The entries of `menu` the current user sees, in their order."""
    user = current_user._get_current_object() if current_user else None
    entries = sorted(
        (e for e in current_app.extensions.get("culturenet.nav", []) if e.menu == menu), key=lambda e: e.order
    )
    return [NavLink(e.endpoint, e.label, e.badge(user) if e.badge else 0) for e in entries if e.visible(user)]


def start_page(user, default: str) -> str:
    """The endpoint `user` lands on after signing in: the first "start" entry they see, else `default`."""
    entries = sorted(
        (e for e in current_app.extensions.get("culturenet.nav", []) if e.menu == "start"), key=lambda e: e.order
    )
    return next((e.endpoint for e in entries if e.visible(user)), default)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["nav"] = links
