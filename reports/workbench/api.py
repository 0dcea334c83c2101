"""The standards in the API (API.md): the three-level tree with statuses and the pass rate, and setting the
status of a manual standard. Registered on the reports API blueprint (reports/api.py imports this module)."""

from datetime import date
from typing import Literal

from flask_babel import get_locale
from flask_login import current_user
from pydantic import Field

from core.api import OutSchema, Schema
from core.db import reads_replica, utcnow
from core.errors import Forbidden
from core.i18n import localized, to_local
from reports.api import api
from reports.workbench import standards as ws
from reports.workbench import units as wu
from reports.workbench.report_tables import text

ERRORS = (401, 403, 404, 409, 422)


class StandardsQuery(Schema):
    year: int | None = Field(default=None, ge=2000, le=2100)


class StatusIn(Schema):
    status: Literal["met", "on_track", "at_risk", "not_applicable"]
    note: str = Field(min_length=1, max_length=1000)


class StandardOut(OutSchema):
    number: str
    text: str
    status: str
    source: str
    responsible: list[str]
    deadline: date
    evidence_count: int


class IndicatorOut(OutSchema):
    number: str
    title: str
    standards: list[StandardOut]


class TaskOut(OutSchema):
    number: str
    title: str
    indicators: list[IndicatorOut]


class CountsOut(OutSchema):
    met: int
    on_track: int
    at_risk: int
    not_applicable: int


class StandardsOut(OutSchema):
    year: int
    tasks: list[TaskOut]
    counts: CountsOut
    pass_rate: float | None
    required_rate: float
    more_needed: int


class StatusOut(OutSchema):
    number: str
    status: str
    note: str
    set_at: str


def _person():
    if not wu.is_workbench_user(current_user):
        raise Forbidden()
    return current_user._get_current_object()


def _year(value: int | None) -> int:
    return value or to_local(utcnow()).year


def _standard_out(e: ws.Evaluated, locale: str) -> dict:
    return {
        "number": e.standard.number,
        "text": text(e.standard, "text", locale),
        "status": e.status.value,
        "source": e.source,
        "responsible": [localized(u) for u in e.units],
        "deadline": e.deadline,
        "evidence_count": e.evidence_count,
    }


@api.endpoint(
    "/reports/standards",
    query=StandardsQuery,
    response=StandardsOut,
    errors=ERRORS,
    summary="The year's tasks, indicators and acceptance standards with statuses and the pass rate",
)
@reads_replica
def standard_list(params: StandardsQuery):
    _person()
    year = _year(params.year)
    locale = str(get_locale() or "zh_CN")
    evaluated = ws.evaluate(year, utcnow())
    figures = ws.pass_figures(evaluated)
    tasks = [
        {
            "number": t["number"],
            "title": t["title_en"] if locale.startswith("en") and t["title_en"] else t["title"],
            "indicators": [
                {
                    "number": i["number"],
                    "title": i["title_en"] if locale.startswith("en") and i["title_en"] else i["title"],
                    "standards": [_standard_out(e, locale) for e in i["standards"]],
                }
                for i in t["indicators"]
            ],
        }
        for t in ws.tree(evaluated)
    ]
    return {
        "year": year,
        "tasks": tasks,
        "counts": figures["counts"],
        "pass_rate": figures["pass_rate"],
        "required_rate": figures["required_rate"],
        "more_needed": figures["more_needed"],
    }


class StatusQuery(Schema):
    year: int | None = Field(default=None, ge=2000, le=2100)


@api.endpoint(
    "/reports/standards/<number>/status",
    "POST",
    body=StatusIn,
    query=StatusQuery,
    response=StatusOut,
    errors=ERRORS,
    summary="Set a manual standard's status with a note (a computed one is refused)",
)
def standard_status(number: str, data: StatusIn, params: StatusQuery):
    person = _person()
    standard = ws.get_standard(_year(params.year), number)
    change = ws.set_status(standard, status=data.status, note=data.note, actor=person)
    return {
        "number": standard.number,
        "status": change.new_status,
        "note": change.note,
        "set_at": change.at.isoformat(),
    }
