"""Report pages for managers and staff: dashboard, attendance with the lists behind each number,
targets, venue registry, coverage, the acceptance checklist, exports and the printable report.

Every handler binds the request to the user's report scope through `queries.build_filter` (or
`require_report_scope`), on the server, before reading anything.
"""

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from accounts.auth import require_roles, require_venue_scope
from accounts.models import REPORT_ROLES, Role
from activities.models import CATEGORY_LABELS, Category
from checkin.models import SOURCE_LABELS
from core import nav, transaction
from core.db import reads_replica, utcnow
from core.errors import DomainError, Forbidden, Invalid
from core.extensions import db
from core.forms import show_domain_error
from core.i18n import to_local
from reports import checklist as cl
from reports import exports, freshness, indicators, labels, queries, services, svg
from reports.models import CHECK_STATUS_LABELS, CheckStatus, EvidenceFile, ExportLog, ExportSubscription
from reports.params import parse_date, parse_int, parse_year
from venues.models import KIND_LABELS, Venue, VenueKind
from venues.queries import venues_in_scope

bp = Blueprint("reports", __name__, url_prefix="/reports")
NAV = [  # this package's links in the menus (see core.nav)
    nav.NavEntry("main", 110, "reports.dashboard", _l("Reports"), visible=nav.with_roles(*REPORT_ROLES)),
    nav.NavEntry(
        "staff", 90, "reports.dashboard", _l("Reports and acceptance files"), visible=nav.with_roles(*REPORT_ROLES)
    ),
    nav.NavEntry("start", 10, "reports.dashboard", _l("Reports"), visible=nav.with_roles(Role.manager)),
]


@bp.before_request
def _reporters_only():
    if request.blueprint == "reports.workbench":
        return  # the workbench also admits the people of responsible units (its own guard)
    g.reporter = require_roles(*REPORT_ROLES)


@bp.context_processor
def _freshness() -> dict:
    """数据更新于 on every report page (and the workbench's, a nested blueprint)."""
    if getattr(g, "reporter", None) is None and request.blueprint != "reports.workbench":
        return {}
    return {"fresh": freshness.freshness(utcnow())}


def _venue_id() -> int | None:
    """The venue to report on: `venue` (an id, from links) or `venue_name` (typed in the searchable field),
    resolved among the venues of the user's scope; an unknown name is a clear 400, never a silent 'all'."""
    venue_id = parse_int(request.args.get("venue"), "venue")
    name = (request.args.get("venue_name") or "").strip()
    if venue_id is not None or not name:
        return venue_id
    for v in venues_in_scope(g.reporter, REPORT_ROLES):
        if name in (v.name, v.name_en):
            return v.id
    message = _("No venue of your scope is called “%(name)s”.", name=name[:100])
    raise Invalid(message, fields={"venue_name": [message]})


def _today() -> date:
    return to_local(utcnow()).date()


def _filter(group_by: str | None = None) -> queries.ReportFilter:
    args = request.args
    return queries.build_filter(
        g.reporter,
        first=parse_date(args.get("from"), "from"),
        last=parse_date(args.get("to"), "to"),
        group_by=group_by if group_by is not None else _group_by(),
        venue_id=_venue_id(),
        venue_kind=args.get("kind") or None,
        category=args.get("category") or None,
        today=_today(),
    )


def _year_filter() -> tuple[int, queries.ReportFilter]:
    year = parse_year(request.args.get("year"), _today().year)
    first, last = queries.year_bounds(year)
    flt = queries.build_filter(g.reporter, first=first, last=last, venue_id=_venue_id())
    return year, flt


def _common() -> dict:
    return {
        "district_names": labels.district_names(),
        "kind_label": labels.kind_label,
        "category_label": labels.category_label,
        "export_label": labels.export_label,
        "format_label": labels.format_label,
        "describe_params": labels.describe_params,
        "scope_venues": venues_in_scope(g.reporter, REPORT_ROLES),
        "kind_labels": KIND_LABELS,
        "category_labels": CATEGORY_LABELS,
        "categories": list(Category),
        "venue_kinds": list(VenueKind),
        "status_labels": CHECK_STATUS_LABELS,
        "group_keys": queries.GROUP_KEYS,
    }


def _locale() -> str:
    return str(get_locale() or "zh_CN")


@bp.get("/")
@reads_replica
def dashboard():
    year, flt = _year_filter()
    now = utcnow()
    table = indicators.indicator_table(flt, year, now)
    charts = []
    for key in indicators.ROLLUP_INDICATORS:
        measure, where = indicators.ROLLUP_INDICATORS[key]
        months = queries.monthly(flt, where=where)
        series = [
            (
                f"{year}-{m:02d}",
                months.get(f"{year}-{m:02d}", {}).get(
                    "attendances" if measure == "attendances" else "sessions_held", 0
                ),
            )
            for m in range(1, 13)
        ]
        charts.append((str(indicators.BY_KEY[key].label), svg.bars(series, title=str(indicators.BY_KEY[key].label))))
    totals = queries.attendance(flt)["totals"]
    gaps = indicators.coverage(flt, now)
    behind = [r for r in table if r["on_track"] is False]
    return render_template(
        "reports/dashboard.html",
        year=year,
        flt=flt,
        table=table,
        charts=charts,
        totals=totals,
        gaps=gaps[:15],
        gap_count=len(gaps),
        behind=behind,
        top=freshness.top_activities(flt, freshness.data_time()),
        progress=svg.progress,
        orders=indicators.order_figures(indicators.order_paths(flt), year),
        brands=queries.brand_rows(flt, now),
        **_common(),
    )


def _group_by(default: str = "") -> str:
    """`group_by` as a comma list, or repeated (the form's checkboxes), or both."""
    values = request.args.getlist("group_by")
    return ",".join(values)[:200] if values else default


@bp.get("/attendance")
@reads_replica
def attendance():
    flt = _filter(_group_by("month"))
    report = queries.attendance(flt)
    return render_template("reports/attendance.html", flt=flt, report=report, **_common())


@bp.get("/attendance.<any(csv, xlsx):fmt>")
@reads_replica
def attendance_file(fmt: str):
    flt = _filter()
    report = queries.attendance(flt)
    table = exports.attendance_table(flt, report)
    exports.log_export(g.reporter, what="attendance", file_format=fmt, params=flt.as_params(), rows=len(report["rows"]))
    return _file(table, fmt, f"attendance-{flt.first}-{flt.last}")


def _file(table: exports.Table, fmt: str, name: str) -> Response:
    if fmt == "csv":
        body, mime = exports.to_csv(table), exports.CSV_MIME
    else:
        body, mime = exports.to_xlsx(table), exports.XLSX_MIME
    response = Response(body, mimetype=mime)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@bp.get("/sessions")
@reads_replica
def sessions():
    flt = queries.narrow(_filter(""), request.args.to_dict())
    rows = queries.sessions_behind(flt)
    if request.args.get("format") in ("csv", "xlsx"):
        fmt = request.args["format"]
        table = exports.Table(
            _("Sessions"),
            [
                ("session_id", _("Session ID")),
                ("title", _("Activity")),
                ("venue", _("Venue")),
                ("starts_at", _("Starts")),
                ("category", _("Category")),
                ("is_outreach", _("Outreach")),
                ("bookings", _("Bookings")),
                ("checked_in", _("Checked in")),
                ("walk_ins", _("Walk-ins")),
            ],
            labels.with_names(rows),
        )
        exports.log_export(g.reporter, what="sessions", file_format=fmt, params=flt.as_params(), rows=len(rows))
        return _file(table, fmt, f"sessions-{flt.first}-{flt.last}")
    return render_template("reports/sessions.html", flt=flt, rows=rows, **_common())


@bp.get("/sessions/<int:session_id>/checkins")
@reads_replica
def checkins(session_id: int):
    flt = _filter("")
    rows = queries.checkins_behind(session_id, flt)
    return render_template("reports/checkins.html", session_id=session_id, rows=rows, source_labels=SOURCE_LABELS)


@bp.route("/targets", methods=["GET", "POST"])
def targets():
    year, flt = _year_filter()
    venue = indicators.target_venue(flt)
    status = 200
    if request.method == "POST":
        if venue is None:
            abort(404)
        try:
            for ind in indicators.INDICATORS:
                raw = (request.form.get(ind.key) or "").strip()
                value = parse_int(raw, ind.key, low=0, high=10_000_000) if raw else None
                services.set_target(venue, year=year, indicator=ind.key, value=value, actor=g.reporter)
        except DomainError as err:
            transaction.refused()
            fields = err.extra.get("fields") or {}
            flash(" ".join(m for ms in fields.values() for m in ms) or str(err.message), "error")
            status = err.status
        else:
            flash(_("Targets saved."), "success")
            return redirect(url_for("reports.targets", year=year, venue=venue.id))
    table = indicators.indicator_table(flt, year, utcnow())
    can_edit = venue is not None and g.reporter.reaches(venue, services.TARGET_ROLES)
    return render_template(
        "reports/targets.html",
        year=year,
        venue=venue,
        table=table,
        can_edit=can_edit,
        progress=svg.progress,
        flt=flt,
        **_common(),
    ), status


@bp.get("/registry")
@reads_replica
def registry():
    _year, flt = _year_filter()
    rows = indicators.registry(flt)
    return render_template(
        "reports/registry.html",
        rows=rows,
        totals=indicators.registry_totals(rows),
        flt=flt,
        room_use=freshness.room_use_sentence(freshness.room_use(flt, utcnow())),
        **_common(),
    )


@bp.get("/coverage")
@reads_replica
def coverage():
    year, flt = _year_filter()
    gaps = indicators.coverage(flt, utcnow())
    if request.args.get("format") in ("csv", "xlsx"):
        fmt = request.args["format"]
        table = exports.Table(
            _("Coverage gaps"),
            [
                ("venue", _("Venue")),
                ("district", _("District")),
                ("kind", _("Venue kind")),
                ("sessions_held", _("Sessions held")),
                ("expected", _("Norm so far")),
                ("norm", _("Yearly norm")),
            ],
            labels.with_names(gaps),
        )
        exports.log_export(
            g.reporter, what="coverage", file_format=fmt, params={"year": year, **flt.as_params()}, rows=len(gaps)
        )
        return _file(table, fmt, f"coverage-{year}")
    return render_template(
        "reports/coverage.html",
        year=year,
        flt=flt,
        gaps=gaps,
        map_svg=_coverage_map(flt, gaps),
        **_common(),
    )


def _coverage_map(flt: queries.ReportFilter, gaps: list[dict]):
    """District outlines (kept GeoJSON, see svg.district_map) with names, gap counts and the service points;
    the schematic map of coordinates alone when no outline of these districts is kept."""
    points = indicators.points_on_map(flt, gaps)
    features = svg.load_features(current_app.static_folder)
    names = labels.district_names()
    in_scope = {v.district_code for v in venues_in_scope(g.reporter, REPORT_ROLES)}
    per_district: dict[str, int] = {}
    for gap in gaps:
        per_district[gap["district"]] = per_district.get(gap["district"], 0) + 1
    districts = [
        {
            "code": code,
            "name": name,
            "caption": ngettext("%(num)d gap", "%(num)d gaps", per_district.get(code, 0)),
        }
        for code, name in names.items()
        if code in in_scope
    ]
    title = _("Service points by district; gaps in red")
    if not any(d["code"] in {str(f.get("id")) for f in features} for d in districts):
        return svg.schematic_map(points, title=title)
    n_gaps = sum(1 for p in points if p["gap"])
    legend = {
        "gap": ngettext("Below its norm (%(num)d)", "Below their norm (%(num)d)", n_gaps),
        "ok": ngettext("Meeting its norm (%(num)d)", "Meeting their norm (%(num)d)", len(points) - n_gaps),
        "district": _("District or county (GB/T 2260 outline)"),
    }
    return svg.district_map(features, districts, points, title=title, legend=legend)


@bp.get("/checklist")
@reads_replica
def checklist():
    year, flt = _year_filter()
    return _checklist_page(year, flt)


def _checklist_page(year: int, flt: queries.ReportFilter) -> str:
    result = cl.evaluate(flt, year, utcnow(), _locale())
    venue = result["venue"]
    can_edit = venue is not None and g.reporter.reaches(venue, services.TARGET_ROLES)
    return render_template(
        "reports/checklist.html",
        year=year,
        flt=flt,
        result=result,
        can_edit=can_edit,
        history=cl.history(venue, year),
        statuses=list(CheckStatus),
        **_common(),
    )


@bp.post("/checklist/<row_key>/mark")
def checklist_mark(row_key: str):
    year, flt = _year_filter()
    venue = cl.mark_venue(flt) or abort(404)
    actor = require_venue_scope(venue, services.TARGET_ROLES)
    try:
        cl.set_mark(
            venue,
            year=year,
            row_key=row_key[:20],
            status=request.form.get("status", ""),
            note=request.form.get("note", ""),
            actor=actor,
        )
    except DomainError as err:
        transaction.refused()
        fields = err.extra.get("fields") or {}
        flash(" ".join(m for ms in fields.values() for m in ms) or str(err.message), "error")
    else:
        flash(_("Checklist row saved."), "success")
    return redirect(url_for("reports.checklist", year=year, venue=venue.id))


@bp.post("/checklist/<row_key>/evidence")
def checklist_evidence(row_key: str):
    year, flt = _year_filter()
    venue = cl.mark_venue(flt) or abort(404)
    actor = require_venue_scope(venue, services.TARGET_ROLES)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise cl.BadEvidence(_("Choose a file to attach."))
        data = upload.read(cl.MAX_EVIDENCE_BYTES + 1)
        cl.add_evidence(venue, year=year, row_key=row_key[:20], filename=upload.filename, data=data, actor=actor)
    except DomainError as err:
        transaction.refused()
        flash(str(err.message), "error")
        return _checklist_page(year, flt), err.status
    flash(_("Evidence attached."), "success")
    return redirect(url_for("reports.checklist", year=year, venue=venue.id))


@bp.get("/evidence/<int:evidence_id>")
def evidence(evidence_id: int):
    ev = db.session.get(EvidenceFile, evidence_id) or abort(404)
    venue = db.session.get(Venue, ev.mark.venue_id)
    if not g.reporter.reaches(venue, REPORT_ROLES):
        raise Forbidden()
    path = cl.evidence_path(ev)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=ev.content_type, as_attachment=True, download_name=ev.filename)


@bp.get("/workbook.xlsx")
@reads_replica
def workbook():
    year, flt = _year_filter()
    body = exports.workbook(flt, year, utcnow(), _locale(), exported_by=g.reporter.name)
    exports.log_export(g.reporter, what="workbook", file_format="xlsx", params={"year": year, **flt.as_params()})
    response = Response(body, mimetype=exports.XLSX_MIME)
    response.headers["Content-Disposition"] = f'attachment; filename="acceptance-{year}.xlsx"'
    return response


@bp.get("/print")
@reads_replica
def printable():
    year, flt = _year_filter()
    now = utcnow()
    table = indicators.indicator_table(flt, year, now)
    months = queries.monthly(flt)
    series = [(f"{year}-{m:02d}", months.get(f"{year}-{m:02d}", {}).get("attendances", 0)) for m in range(1, 13)]
    sessions_series = [
        (f"{year}-{m:02d}", months.get(f"{year}-{m:02d}", {}).get("sessions_held", 0)) for m in range(1, 13)
    ]
    checklist, registry = cl.evaluate(flt, year, now, _locale()), indicators.registry(flt)
    common = _common()
    # Last, after every read: once a request has written, its reads leave the replica (core.db.RoutingSession).
    exports.log_export(g.reporter, what="print", file_format="html", params={"year": year, **flt.as_params()})
    return render_template(
        "reports/print.html",
        year=year,
        flt=flt,
        table=table,
        now=now,
        chart_attendance=svg.bars(series, title=_("Attendances by month")),
        chart_sessions=svg.bars(sessions_series, title=_("Sessions held by month")),
        checklist=checklist,
        registry=registry,
        **common,
    )


@bp.route("/exports", methods=["GET", "POST"])
def export_log():
    user = g.reporter
    if request.method == "POST":
        venue = db.session.get(Venue, parse_int(request.form.get("venue"), "venue") or 0) or abort(404)
        try:
            services.subscribe_monthly(user, venue, actor=user)
        except DomainError as err:
            show_domain_error(None, err)  # out of scope is raised again: a 403
        else:
            flash(_("You will receive the workbook every month."), "success")
        return redirect(url_for("reports.export_log"))
    stmt = select(ExportLog).order_by(ExportLog.at.desc()).limit(100)
    if not user.is_admin:
        stmt = stmt.where(ExportLog.actor_id == user.id)
    subs = db.session.execute(select(ExportSubscription).where(ExportSubscription.user_id == user.id)).scalars()
    return render_template(
        "reports/exports.html", entries=db.session.execute(stmt).scalars().all(), subs=list(subs), **_common()
    )


@bp.post("/exports/subscriptions/<int:sub_id>/delete")
def unsubscribe(sub_id: int):
    sub = db.session.get(ExportSubscription, sub_id) or abort(404)
    services.unsubscribe_monthly(sub, actor=g.reporter)
    flash(_("Subscription removed."), "success")
    return redirect(url_for("reports.export_log"))


from reports.workbench.views import bp as workbench_bp  # noqa: E402  (its pages live under /reports/workbench/)

bp.register_blueprint(workbench_bp)
