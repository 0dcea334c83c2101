"""How fresh the figures are, and the figures that more than one page shows, defined once.

Report figures sum the daily roll-up (reports/rollup.py), which the scheduler refreshes every 5 minutes
(reports/jobs.py). Every report page and the workbook say when it last ran (数据更新于, in the network's
zone), say that activity after that moment is not counted yet, and warn when the roll-up has not run for
longer than STALE_AFTER (a stopped scheduler is not a quiet month). Figures that a page computes beside
the roll-up are cut at the same moment, so one page never shows two numbers for one quantity
(tests/reports/test_no_codes_and_freshness.py compares them page by page).

Kept apart from reports/queries.py and reports/rollup.py on purpose: those are tuned for volume; this
module only reads the roll-up's high-water mark and wraps the shared figures.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from core.extensions import db
from core.i18n import local_today, to_local
from reports import indicators
from reports.models import RollupRun
from reports.queries import ReportFilter, top_in_window
from reports.rollup import NEVER, ROLLUP_NAME

STALE_AFTER = timedelta(hours=1)  # twelve missed runs of a 5-minute job


@dataclass(frozen=True)
class Freshness:
    at: datetime | None  # the roll-up's last run (UTC), None when it never ran
    stale: bool

    @property
    def local(self) -> datetime | None:
        return to_local(self.at) if self.at else None

    def stamp(self) -> str:
        """数据更新于 2026-12-02 09:05 (the network's zone), or that the roll-up has never run."""
        if self.at is None:
            return _("Figures not yet compiled: the roll-up has never run, so every figure reads 0.")
        return _("Data updated %(at)s", at=self.local.strftime("%Y-%m-%d %H:%M"))

    def note(self) -> str:
        """What the figures leave out, and what to do when the roll-up has stopped."""
        if self.at is None:
            # A manager cannot start a process: say whom to ask (the commands are in the README).
            return _("Ask the system administrator to start the scheduler; the figures appear within 5 minutes.")
        if self.stale:
            return _(
                "The roll-up has not run for more than an hour: check that the scheduler is running. "
                "Check-ins and sessions since then are not counted yet."
            )
        return _("Check-ins and sessions after this time are not counted yet; the figures refresh every 5 minutes.")


def data_time() -> datetime | None:
    """When the attendance roll-up last ran, or None."""
    at = db.session.execute(select(RollupRun.ran_at).where(RollupRun.name == ROLLUP_NAME)).scalar_one_or_none()
    return None if at is None or at <= NEVER else at


def freshness(now: datetime) -> Freshness:
    at = data_time()
    return Freshness(at=at, stale=at is not None and now - at > STALE_AFTER)


def top_activities(flt: ReportFilter, at: datetime | None, n: int = 5, days: int = 90) -> list[dict]:
    """The `n` activities with most attendances in the `days` up to the end of the period or the roll-up's
    time `at`, whichever is first, counted as of the roll-up like the headline figures beside them (nothing
    before the roll-up has ever run): reports.queries.top_in_window, from the roll-up's stored windows."""
    if at is None:
        return []
    last = min(flt.last, to_local(at).date())
    first = max(flt.first, last - timedelta(days=days - 1))
    return top_in_window(flt, first, last, n)


def room_use(flt: ReportFilter, now: datetime) -> dict:
    """Room utilisation of the period so far (up to today): the one definition the registry page, the
    checklist row 'room_use' and the workbook all show."""
    today = local_today(now)
    clipped = replace(flt, last=max(flt.first, min(flt.last, today)))
    return indicators.room_utilisation(clipped, now)


def room_use_sentence(use: dict) -> str:
    """The room-use figures in words, written once for every page that shows them."""
    taken, used, opened = (format(use[k], ",.1f") for k in ("hours_taken", "hours_used", "hours_open"))
    return _(
        "%(t)s hours booked and %(u)s hours used of %(o)s hours open in %(n)s bookable rooms, this year so far.",
        t=taken,
        u=used,
        o=opened,
        n=use["rooms"],
    )
