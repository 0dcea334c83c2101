"""Keep the roll-up honest when a session leaves a day: the day it left is marked to recompute.

Connected once when the reports blueprint is imported; the receivers write in the caller's
transaction, so a rolled-back move marks nothing.
"""

from activities.signals import session_cancelled, session_moved
from core.i18n import to_local
from reports.rollup import mark_day_dirty


def _on_session_moved(sender, *, old_starts_at=None, starts_at=None, **_kwargs):
    for moment in (old_starts_at, starts_at):
        if moment is not None:
            mark_day_dirty(to_local(moment).date())


def _on_session_cancelled(sender, **_kwargs):
    starts_at = getattr(sender, "starts_at", None)
    if starts_at is not None:
        mark_day_dirty(to_local(starts_at).date())


session_moved.connect(_on_session_moved, weak=False)
session_cancelled.connect(_on_session_cancelled, weak=False)
