"""`make audit`: pip-audit over the installed environment, bounded in time, with a plain verdict.

Exit 1 when a dependency has a known vulnerability. When the vulnerability database cannot be reached
(no network, or PyPI's JSON API has no record of the installed versions, as on a local mirror), say so
clearly — how many dependencies could not be audited — and exit 0, or 2 with AUDIT_STRICT=1.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

TIMEOUT = int(os.environ.get("AUDIT_TIMEOUT", "300"))


def main() -> int:
    strict = os.environ.get("AUDIT_STRICT") == "1"
    exe = Path(sys.executable).parent / "pip-audit"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        cmd = [
            str(exe),
            "--skip-editable",
            "--progress-spinner",
            "off",
            "--timeout",
            "15",
            "--format",
            "json",
            "--output",
            str(report),
            *sys.argv[1:],
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
        except FileNotFoundError:
            print("audit: pip-audit is not installed (pip install '.[dev]')")
            return 2
        except subprocess.TimeoutExpired:
            print(f"audit: UNVERIFIED — pip-audit did not finish in {TIMEOUT} s (vulnerability database unreachable?)")
            return 2 if strict else 0
        if not report.exists():
            print(f"audit: UNVERIFIED — pip-audit failed (exit {proc.returncode}):\n{proc.stderr.strip()[-2000:]}")
            return 2 if strict else 0
        data = json.loads(report.read_text() or "{}")
    deps = data.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if d.get("skip_reason")]
    audited = len(deps) - len(skipped)
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    print(f"audit: {audited} of {len(deps)} dependencies audited, {len(vulnerable)} with known vulnerabilities")
    if skipped:
        print(
            f"audit: UNVERIFIED — {len(skipped)} dependencies could not be audited (the vulnerability database "
            f"has no record of these versions or could not be reached), e.g. {skipped[0]['name']}: "
            f"{skipped[0]['skip_reason']}"
        )
    if vulnerable:
        return 1
    return 2 if strict and skipped else 0


if __name__ == "__main__":
    sys.exit(main())
