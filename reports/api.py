"""JSON API of the reports (docs/api.md): attendance, indicators, coverage, the checklist."""

from datetime import date
from typing import Any

from flask_babel import get_locale
from pydantic import ConfigDict, Field

from accounts.auth import require_roles
from accounts.models import REPORT_ROLES
from core.api import ApiBlueprint, OutSchema, Schema
from core.db import reads_replica, utcnow
from core.i18n import to_local
from reports import checklist as cl
from reports import indicators, queries

api = ApiBlueprint("reports_api", __name__, tag="reports")
ERRORS = (401, 403, 404, 422)


class AttendanceQuery(Schema):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    group_by: str = Field(default="", max_length=200)
    venue: int | None = Field(default=None, ge=1, le=2**31 - 1)
    kind: str | None = Field(default=None, max_length=20)
    category: str | None = Field(default=None, max_length=20)


class YearQuery(Schema):
    year: int | None = Field(default=None, ge=2000, le=2100)
    venue: int | None = Field(default=None, ge=1, le=2**31 - 1)


class AttendanceOut(OutSchema):
    rows: list[dict[str, Any]]
    totals: dict[str, Any]


class IndicatorOut(OutSchema):
    indicator: str
    label: str
    target: int | None
    actual: int
    progress: float | None
    projection: int | None
    on_track: bool | None


class IndicatorList(OutSchema):
    items: list[IndicatorOut]
    year: int


class GapOut(OutSchema):
    venue_id: int
    venue: str
    kind: str
    district: str
    sessions_held: int
    norm: int
    expected: int
    none: bool


class CoverageOut(OutSchema):
    year: int
    items: list[GapOut]


class ChecklistRowOut(OutSchema):
    key: str
    number: str
    indicator: str
    explanation: str
    evidence_required: str
    status: str
    detail: str
    source: str
    evidence_files: int


class ChecklistOut(OutSchema):
    year: int
    rows: list[ChecklistRowOut]
    met: int
    applicable: int
    pass_rate: float | None
    required: float


def _reporter():
    return require_roles(*REPORT_ROLES)


def _today() -> date:
    return to_local(utcnow()).date()


def _year_filter(params: YearQuery) -> tuple[int, queries.ReportFilter]:
    year = params.year or _today().year
    first, last = queries.year_bounds(year)
    return year, queries.build_filter(_reporter(), first=first, last=last, venue_id=params.venue)


@api.endpoint(
    "/reports/attendance",
    query=AttendanceQuery,
    response=AttendanceOut,
    errors=ERRORS,
    summary="Sessions held, attendances, bookings, no-shows and walk-ins, grouped",
)
@reads_replica
def attendance(params: AttendanceQuery):
    flt = queries.build_filter(
        _reporter(),
        first=params.from_,
        last=params.to,
        group_by=params.group_by,
        venue_id=params.venue,
        venue_kind=params.kind,
        category=params.category,
        today=_today(),
    )
    return queries.attendance(flt)


@api.endpoint(
    "/reports/indicators",
    query=YearQuery,
    response=IndicatorList,
    errors=ERRORS,
    summary="Each acceptance indicator's target and actual value for a year",
)
@reads_replica
def indicator_list(params: YearQuery):
    year, flt = _year_filter(params)
    return {"items": indicators.indicator_table(flt, year, utcnow()), "year": year}


@api.endpoint(
    "/reports/coverage",
    query=YearQuery,
    response=CoverageOut,
    errors=ERRORS,
    summary="Stations and community centres with no session or fewer than their norm",
)
@reads_replica
def coverage(params: YearQuery):
    year, flt = _year_filter(params)
    return {"year": year, "items": indicators.coverage(flt, utcnow())}


@api.endpoint(
    "/reports/checklist",
    query=YearQuery,
    response=ChecklistOut,
    errors=ERRORS,
    summary="The acceptance checklist with each row's status and the pass rate",
)
@reads_replica
def checklist(params: YearQuery):
    year, flt = _year_filter(params)
    result = cl.evaluate(flt, year, utcnow(), str(get_locale() or "zh_CN"))
    rows = [{**r, "status": str(r["status"]), "evidence_files": len(r["evidence"])} for r in result["rows"]]
    return {**result, "rows": rows, "year": year}


from reports.workbench import api as _workbench_api  # noqa: E402,F401  (the standards endpoints)
