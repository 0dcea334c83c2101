"""notify imports none of the domains (they call it, never the other way round)."""

import ast
from pathlib import Path

NOTIFY = Path(__file__).resolve().parents[2] / "notify"
DOMAINS = {"venues", "activities", "bookings", "orders", "reports"}


def test_notify_imports_no_domain_package():
    found = set()
    for path in NOTIFY.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module.split(".")[0])
    assert "accounts" in found and not found & DOMAINS
