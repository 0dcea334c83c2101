"""`make bench`'s command line: a run that matches no scenario starts nothing and records nothing."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_only_matching_no_scenario_leaves_results_alone():
    results = ROOT / "bench" / "RESULTS.md"
    before = results.read_bytes() if results.exists() else None
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--reuse", "--only", "no-such-scenario"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "no scenario matched --only 'no-such-scenario'" in done.stderr
    assert "gunicorn" not in done.stderr.lower()  # returned before starting a server
    assert (results.read_bytes() if results.exists() else None) == before
