"""Report sweepers: the attendance roll-up and the monthly acceptance workbooks.

Both are idempotent: the roll-up recomputes whole days from the raw rows; a subscription remembers the
last month it was sent, so a second run in the same month sends nothing more.
"""

from datetime import date, datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from core.db import utcnow
from core.extensions import db
from core.i18n import to_local
from reports.exports import log_export, workbook
from reports.models import ExportSubscription
from reports.queries import build_filter
from reports.rollup import rollup_attendance
from reports.workbench.problems import remind_problem_owners

__all__ = ["JOBS", "remind_problem_owners", "rollup_attendance", "send_monthly_exports", "snapshot_standards"]


def _previous_month(now: datetime) -> tuple[date, date]:
    first_this = to_local(now).date().replace(day=1)
    last = first_this - timedelta(days=1)
    return last.replace(day=1), last


def send_monthly_exports(now: datetime | None = None) -> list[Path]:
    """For each subscription not yet served this month: the workbook of last month's year up to its end,
    built with the subscriber's current scope (a lost grant means no file), written under
    INSTANCE/exports/, logged, and handed to the mail outbox."""
    now = now or utcnow()
    first, last = _previous_month(now)
    period = f"{first:%Y-%m}"
    folder = Path(current_app.instance_path) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    subs = (
        db.session.execute(
            select(ExportSubscription)
            .where((ExportSubscription.last_period.is_(None)) | (ExportSubscription.last_period != period))
            .order_by(ExportSubscription.id)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    for sub in subs:
        user = sub.user
        if not user.is_active or not user.reaches(sub.venue, _report_roles()):
            continue
        flt = build_filter(user, first=date(first.year, 1, 1), last=last, venue_id=sub.venue_id)
        path = folder / f"acceptance-{sub.venue_id}-{period}-{sub.user_id}.xlsx"
        path.write_bytes(workbook(flt, first.year, now, user.locale or "zh_CN", exported_by=user.name))
        log_export(
            user,
            what="monthly_workbook",
            file_format="xlsx",
            params={"venue": sub.venue_id, "period": period, "scheduled": True},
            now=now,
        )
        sub.last_period = period
        _mail(user, path, period)
        written.append(path)
    db.session.flush()
    return written


def _report_roles():
    from accounts.models import REPORT_ROLES

    return REPORT_ROLES


def _mail(user, path: Path, period: str) -> None:
    """Tell the manager by e-mail that the month's workbook is ready; the file stays on disk and in the log."""
    import notify

    notify.enqueue(
        user,
        "monthly_export",
        {"period": period, "filename": path.name},
        dedupe_key=f"export:{path.name}",
        channels=["email"],
    )


def snapshot_standards(now: datetime | None = None) -> int:
    """Keep today's counts of the standards by status (the dashboard's trend); rerunning rewrites the same row."""
    from reports.workbench.standards import snapshot

    now = now or utcnow()
    row = snapshot(to_local(now).year, now)
    return 1 if row is not None else 0


# What the scheduler should run, and how often: name → (job, seconds between runs), as in bookings.jobs.
# `flask jobs run NAME --now ISO` calls the same functions (registered in culturenet.register_jobs).
JOBS = {
    "rollup_attendance": (rollup_attendance, 300),
    "send_monthly_exports": (send_monthly_exports, 3600),
    "remind_problem_owners": (remind_problem_owners, 3600),
    "snapshot_standards": (snapshot_standards, 3600),
}
