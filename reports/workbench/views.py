"""The workbench pages under /reports/workbench/: the leading group's dashboard, the standards with their
statuses and history, the responsible units, the problem ledger, the archive and the documents.

Report staff and the people of responsible units may enter; every list is cut to what the person sees
(units.sees). Handlers: load, authorise, validate, one service call, commit, respond.
"""

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from core.db import reads_replica, utcnow
from core.errors import DomainError, Forbidden, Unauthenticated
from core.extensions import db
from core.forms import show_domain_error
from core.i18n import to_local
from reports import exports
from reports.params import parse_date, parse_int, parse_year
from reports.workbench import archive, problems, selfcheck
from reports.workbench import queries as wq
from reports.workbench import standards as ws
from reports.workbench import units as wu
from reports.workbench.models import (
    ARCHIVE_LABELS,
    PROBLEM_STATUS_LABELS,
    STATUS_LABELS,
    UNIT_KIND_LABELS,
    ArchiveCategory,
    ProblemStatus,
    ResponsibleUnit,
    StandardStatus,
    UnitKind,
    UnitMember,
)

bp = Blueprint("workbench", __name__, url_prefix="/workbench")


@bp.before_request
def _workbench_people_only():
    from flask_login import current_user

    if not current_user.is_authenticated:
        raise Unauthenticated()
    if not wu.is_workbench_user(current_user):
        raise Forbidden()
    g.reporter = current_user._get_current_object()


def _year() -> int:
    return parse_year(request.args.get("year"), to_local(utcnow()).year)


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def _common(year: int) -> dict:
    return {
        "year": year,
        "status_labels": STATUS_LABELS,
        "problem_labels": PROBLEM_STATUS_LABELS,
        "archive_labels": ARCHIVE_LABELS,
        "unit_kind_labels": UNIT_KIND_LABELS,
        "statuses": list(StandardStatus),
        "problem_statuses": list(ProblemStatus),
        "categories": list(ArchiveCategory),
        "unit_kinds": list(UnitKind),
    }


def _failed(err: DomainError, endpoint: str, **values):
    show_domain_error(None, err)  # rolls back; a refused caller is raised again (403)
    return redirect(url_for(endpoint, **values))


@bp.get("/")
@reads_replica
def dashboard():
    year = _year()
    return render_template(
        "reports/workbench/dashboard.html", **wq.dashboard(g.reporter, year, utcnow()), **_common(year)
    )


@bp.get("/standards")
@reads_replica
def standards():
    year = _year()
    page = wq.standards_page(g.reporter, year, utcnow(), unit_id=parse_int(request.args.get("unit"), "unit"))
    return render_template("reports/workbench/standards.html", **page, **_common(year))


@bp.get("/standards/<number>")
@reads_replica
def standard(number: str):
    year = _year()
    return render_template(
        "reports/workbench/standard.html", **wq.standard_page(g.reporter, year, number, utcnow()), **_common(year)
    )


@bp.post("/standards/<number>/status")
def standard_status(number: str):
    year = _year()
    standard = ws.get_standard(year, number)
    try:
        ws.set_status(
            standard, status=request.form.get("status", ""), note=request.form.get("note", ""), actor=g.reporter
        )
    except DomainError as err:
        return _failed(err, "reports.workbench.standard", number=standard.number, year=year)
    flash(_("Status saved."), "success")
    return redirect(url_for("reports.workbench.standard", number=standard.number, year=year))


@bp.get("/units")
@reads_replica
def units():
    year = _year()
    return render_template("reports/workbench/units.html", **wq.units_page(g.reporter), **_common(year))


def _unit_form() -> dict:
    return {
        "name": request.form.get("name", ""),
        "name_en": request.form.get("name_en", ""),
        "kind": request.form.get("kind", ""),
        "venue_id": parse_int(request.form.get("venue_id"), "venue_id"),
    }


@bp.post("/units")
def unit_create():
    try:
        wu.save_unit(None, data=_unit_form(), actor=g.reporter)
    except DomainError as err:
        return _failed(err, "reports.workbench.units")
    flash(_("Unit saved."), "success")
    return redirect(url_for("reports.workbench.units"))


@bp.post("/units/<int:unit_id>")
def unit_update(unit_id: int):
    unit = db.session.get(ResponsibleUnit, unit_id) or abort(404)
    try:
        wu.save_unit(unit, data=_unit_form(), actor=g.reporter)
    except DomainError as err:
        return _failed(err, "reports.workbench.units")
    flash(_("Unit saved."), "success")
    return redirect(url_for("reports.workbench.units"))


@bp.post("/units/<int:unit_id>/members")
def member_add(unit_id: int):
    unit = db.session.get(ResponsibleUnit, unit_id) or abort(404)
    try:
        wu.add_member(unit, login=request.form.get("login", ""), actor=g.reporter)
    except DomainError as err:
        return _failed(err, "reports.workbench.units")
    flash(_("Member added."), "success")
    return redirect(url_for("reports.workbench.units"))


@bp.post("/units/members/<int:member_id>/delete")
def member_remove(member_id: int):
    member = db.session.get(UnitMember, member_id) or abort(404)
    wu.remove_member(member, actor=g.reporter)
    flash(_("Member removed."), "success")
    return redirect(url_for("reports.workbench.units"))


@bp.get("/problems")
@reads_replica
def problem_list():
    year = _year()
    return render_template("reports/workbench/problems.html", **wq.problems_page(g.reporter, year), **_common(year))


def _problem_form() -> dict:
    form = request.form
    return {
        "text": form.get("text", ""),
        "measure": form.get("measure", ""),
        "unit_id": parse_int(form.get("unit_id"), "unit_id"),
        "owner": form.get("owner", ""),
        "due_on": parse_date(form.get("due_on"), "due_on"),
        "status": form.get("status", ""),
        "standards": form.get("standards", "").replace("，", ",").split(","),
    }


@bp.post("/problems")
def problem_create():
    year = _year()
    try:
        problems.save_problem(None, year=year, data=_problem_form(), actor=g.reporter)
    except DomainError as err:
        return _failed(err, "reports.workbench.problem_list", year=year)
    flash(_("Problem recorded."), "success")
    return redirect(url_for("reports.workbench.problem_list", year=year))


@bp.post("/problems/<int:problem_id>")
def problem_update(problem_id: int):
    problem = problems.get_visible(problem_id, g.reporter)
    try:
        problems.save_problem(problem, year=problem.year, data=_problem_form(), actor=g.reporter)
    except DomainError as err:
        return _failed(err, "reports.workbench.problem_list", year=problem.year)
    flash(_("Problem saved."), "success")
    return redirect(url_for("reports.workbench.problem_list", year=problem.year))


def _search() -> dict:
    args = request.args
    return {
        "q": args.get("q", "")[:200],
        "category": args.get("category", ""),
        "unit_id": parse_int(args.get("unit"), "unit"),
        "standard": args.get("standard", "")[:20],
    }


@bp.get("/archive")
@reads_replica
def archive_list():
    year = _year()
    search = _search()
    return render_template(
        "reports/workbench/archive.html",
        docs=archive.search(g.reporter, year, **search),
        search=search,
        units=wu.visible_units(g.reporter),
        **_common(year),
    )


@bp.post("/archive")
def archive_add():
    year = _year()
    form = request.form
    try:
        files = [(f.filename, f.read(archive.MAX_BYTES + 1)) for f in request.files.getlist("files") if f.filename]
        archive.add_document(
            year=year,
            data={
                "category": form.get("category", ""),
                "held_on": parse_date(form.get("held_on"), "held_on"),
                "unit_id": parse_int(form.get("unit_id"), "unit_id"),
                "title": form.get("title", ""),
                "description": form.get("description", ""),
                "standards": form.get("standards", "").replace("，", ",").split(","),
            },
            files=files,
            actor=g.reporter,
        )
    except DomainError as err:
        return _failed(err, "reports.workbench.archive_list", year=year)
    flash(_("Record filed."), "success")
    return redirect(url_for("reports.workbench.archive_list", year=year))


@bp.get("/archive/files/<int:file_id>")
def archive_file(file_id: int):
    f = archive.get_visible_file(file_id, g.reporter)
    path = archive.file_path(f)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=f.content_type, as_attachment=True, download_name=f.filename)


@bp.get("/archive.zip")
@reads_replica
def archive_zip():
    year = _year()
    search = _search()
    docs = archive.search(g.reporter, year, **search)
    body = archive.export_zip(docs, year)
    exports.log_export(g.reporter, what="archive", file_format="zip", params={"year": year, **search}, rows=len(docs))
    response = Response(body, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="archive-{year}.zip"'
    return response


@bp.get("/selfcheck.docx")
@reads_replica
def selfcheck_docx():
    year = _year()
    body = selfcheck.build(g.reporter, year, utcnow(), _locale())
    exports.log_export(g.reporter, what="selfcheck", file_format="docx", params={"year": year})
    response = Response(body, mimetype=selfcheck.DOCX_MIME)
    response.headers["Content-Disposition"] = f'attachment; filename="selfcheck-{year}.docx"'
    return response
