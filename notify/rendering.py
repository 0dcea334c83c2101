"""Message templates: templates/notify/messages/<kind>.html with blocks `sms`, `subject` and `body`.

Rendered in the recipient's language (flask_babel.force_locale) with StrictUndefined, so a missing
variable raises instead of sending a message with a hole in it. The files end in .html only so that
the catalogue extraction finds them; they are rendered as plain text (no HTML escaping).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import jinja2
from flask import current_app
from flask_babel import force_locale

from core.config import BASE_DIR
from core.i18n import to_local

TEMPLATE_DIR = "notify/messages"
DT_TAG = "$dt"
TICKET_TAG = "$ticket"  # {"$ticket": ["B", 12]}: the short code of booking 12, made when rendered (SQL cannot sign)


class TemplateProblem(Exception):
    """A template that does not exist, or a context that lacks one of its variables."""


@dataclass
class Rendered:
    sms: str
    subject: str
    body: str
    event: dict | None = field(default=None)


def template_names() -> list[str]:
    """Every message kind there is a template for."""
    folder = BASE_DIR / "templates" / TEMPLATE_DIR
    return sorted(p.stem for p in folder.glob("*.html") if not p.name.startswith("_"))


def encode_context(value):
    """JSON-safe copy of a context: aware datetimes are kept as tagged ISO strings."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a message context: pass an aware datetime")
        return {DT_TAG: value.astimezone(UTC).isoformat()}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): encode_context(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode_context(v) for v in value]
    return value


def decode_context(value):
    if isinstance(value, dict):
        if set(value) == {DT_TAG}:
            return datetime.fromisoformat(value[DT_TAG])
        if set(value) == {TICKET_TAG}:
            from core.tickets import code_for

            kind, object_id = value[TICKET_TAG]
            return code_for(int(object_id), str(kind))
        return {k: decode_context(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_context(v) for v in value]
    return value


def when(value: datetime, locale: str | None = None) -> str:
    """A short local date and time for messages: '11月30日 14:00' or 'Mon 30 Nov 14:00'."""
    local = to_local(value)
    if (locale or _current_locale()).startswith("zh"):
        return f"{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def hm(value: datetime) -> str:
    return f"{to_local(value):%H:%M}"


def _current_locale() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "zh_CN")


def _environment() -> jinja2.Environment:
    env = current_app.extensions.get("culturenet.notify_env")
    if env is None:
        env = current_app.jinja_env.overlay(undefined=jinja2.StrictUndefined, autoescape=False)
        env.filters["when"] = when
        env.filters["hm"] = hm
        current_app.extensions["culturenet.notify_env"] = env
    return env


def render(template: str, context: dict, locale: str) -> Rendered:
    """Render the three parts of a message kind in `locale`; raises TemplateProblem."""
    env = _environment()
    try:
        tmpl = env.get_template(f"{TEMPLATE_DIR}/{Path(template).name}.html")
    except jinja2.TemplateNotFound as exc:
        raise TemplateProblem(f"no template {template!r}") from exc
    values = decode_context(context)
    try:
        with force_locale(locale):
            ctx = tmpl.new_context(values)
            parts = {name: _squash("".join(tmpl.blocks[name](ctx)), name) for name in ("sms", "subject", "body")}
    except jinja2.UndefinedError as exc:
        raise TemplateProblem(f"template {template!r}: {exc.message}") from exc
    except KeyError as exc:
        raise TemplateProblem(f"template {template!r} lacks block {exc}") from exc
    event = values.get("event") if isinstance(values.get("event"), dict) else None
    return Rendered(sms=parts["sms"], subject=parts["subject"], body=parts["body"], event=event)


def _squash(text: str, part: str) -> str:
    """SMS and subject are one line; the body keeps its paragraphs but not the template's indentation."""
    if part in {"sms", "subject"}:
        return " ".join(text.split())
    lines = [line.strip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
