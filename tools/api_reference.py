"""The README's JSON API reference, generated from the code: every error code and every /api/v1 endpoint.

    .venv/bin/python -m tools.api_reference           # print both tables
    .venv/bin/python -m tools.api_reference --write   # rewrite them in README.md, between their markers
    .venv/bin/python -m tools.api_reference --check   # exit 1 when README.md disagrees with the code

Error codes come from every `DomainError` subclass (its `code` and `status`), every literal
`code="…"` passed when raising one, and the HTTP-level codes of `core.errors`. Endpoints come from
the same operations that generate `/api/v1/openapi.json`. tests/test_api_reference.py runs the check.
"""

import ast
import importlib
import pkgutil
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PACKAGES = (
    "core",
    "accounts",
    "venues",
    "activities",
    "bookings",
    "rooms",
    "checkin",
    "orders",
    "notify",
    "reports",
    "resources",
    "catalogue",
    "volunteers",
    "feedback",
)
BLOCKS = ("api-error-codes", "api-endpoints")


def import_all() -> None:
    """Import every module of the app's packages, so every DomainError subclass is defined."""
    for name in PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            importlib.import_module(info.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _package(module: str) -> str:
    return module.split(".")[0]


def error_codes() -> dict[str, dict[str, set]]:
    """{code: {"statuses": {409, …}, "where": {"bookings", …}}} for every code the API can answer with."""
    from core.errors import HTTP_CODES, DomainError

    import_all()
    codes: dict[str, dict[str, set]] = {}

    def add(code: str, status, where: str) -> None:
        entry = codes.setdefault(code, {"statuses": set(), "where": set()})
        entry["statuses"].add(str(status))
        entry["where"].add(where)

    by_name: dict[str, type] = {"DomainError": DomainError}
    for cls in _subclasses(DomainError):
        if not cls.__module__.startswith(PACKAGES):
            continue
        by_name.setdefault(cls.__name__, cls)
        add(cls.code, cls.status, _package(cls.__module__))
    for status, (code, _message) in HTTP_CODES.items():
        add(code, status, "core")
    for code, status, where in _literal_codes(by_name):
        add(code, status, where)
    return dict(sorted(codes.items()))


def _literal_codes(by_name: dict[str, type]):
    """Codes written at a raise site (`DomainError(…, code="x", status=…)`) or given to `error_response`."""
    for name in PACKAGES:
        for path in sorted((ROOT / name).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                keywords = {k.arg: k.value for k in node.keywords if isinstance(k.value, ast.Constant)}
                if func in by_name and isinstance(keywords.get("code"), ast.Constant):
                    status = keywords["status"].value if "status" in keywords else by_name[func].status
                    yield keywords["code"].value, status, _package(module)
                elif (
                    func == "error_response"
                    and len(node.args) >= 2
                    and all(isinstance(a, ast.Constant) for a in node.args[:2])
                ):
                    yield node.args[1].value, node.args[0].value, "core"
                elif (
                    func == "get"
                    and getattr(node.func.value, "id", "") == "HTTP_CODES"
                    and len(node.args) == 2
                    and isinstance(node.args[1], ast.Tuple)
                    and isinstance(node.args[1].elts[0], ast.Constant)
                ):
                    yield node.args[1].elts[0].value, "other", "core"  # HTTP_CODES.get(status, (…))


def endpoints() -> list[tuple[str, str, str]]:
    """(method, path, summary) of every /api/v1 operation, as the served OpenAPI document has them."""
    from core.api import openapi_document

    doc = openapi_document()
    return [(method.upper(), path, op["summary"]) for path, ops in doc["paths"].items() for method, op in ops.items()]


def render_codes(codes: dict[str, dict[str, set]]) -> str:
    def order(status: str):
        return (not status.isdigit(), status)

    lines = ["| code | HTTP status | raised in |", "|---|---|---|"]
    for code, entry in codes.items():
        lines.append(
            f"| `{code}` | {', '.join(sorted(entry['statuses'], key=order))} | {', '.join(sorted(entry['where']))} |"
        )
    return "\n".join(lines)


def render_endpoints(ops: list[tuple[str, str, str]]) -> str:
    lines = ["| method | path | what |", "|---|---|---|"]
    for method, path, summary in ops:
        lines.append(f"| {method} | `{path}` | {summary.replace('|', '/')} |")
    return "\n".join(lines)


def generated() -> dict[str, str]:
    """The two README blocks as the code says they should read (needs an app context)."""
    return {"api-error-codes": render_codes(error_codes()), "api-endpoints": render_endpoints(endpoints())}


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- {name}:start[^>]*-->\n)(.*?)(\n<!-- {name}:end -->)", re.S)


def readme_blocks(text: str) -> dict[str, str | None]:
    found = {}
    for name in BLOCKS:
        match = _pattern(name).search(text)
        found[name] = match.group(2) if match else None
    return found


def rewrite(text: str, blocks: dict[str, str]) -> str:
    for name, body in blocks.items():
        text, n = _pattern(name).subn(lambda m, body=body: m.group(1) + body + m.group(3), text)
        if n != 1:
            raise SystemExit(f"README.md needs exactly one <!-- {name}:start --> … <!-- {name}:end --> block")
    return text


def main(argv: list[str]) -> int:
    from wsgi import app

    with app.app_context():
        blocks = generated()
    text = README.read_text(encoding="utf-8")
    if "--write" in argv:
        README.write_text(rewrite(text, blocks), encoding="utf-8")
        return 0
    if "--check" in argv:
        stale = [name for name, body in readme_blocks(text).items() if body != blocks[name]]
        if stale:
            print(f"README.md is out of date ({', '.join(stale)}): run python -m tools.api_reference --write")
            return 1
        return 0
    print("\n\n".join(blocks.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
