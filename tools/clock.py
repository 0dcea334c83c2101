"""Run a command under a shifted wall clock: `python tools/clock.py SHIFT -- COMMAND...`.

SHIFT is an offset from now (`+1d`, `+400d`, `+3y`, `-2h`, `+90m`) or a local time of day in the network's
zone (`03:00`, `22:30`: the next time the clock reads that in Asia/Shanghai), or `random` for one of the
shifts CI draws from. The offset is computed once here and handed down in CULTURENET_CLOCK_OFFSET, so the
command and every Python process it starts run at the same shifted time (see shifted_clock/sitecustomize.py).
"""

import os
import random
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

NETWORK_ZONE = ZoneInfo("Asia/Shanghai")
CI_SHIFTS = ["+1d", "+400d", "+3y", "03:00", "22:30"]
UNITS = {"m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}


def offset_seconds(shift: str, now: datetime) -> float:
    if match := re.fullmatch(r"([+-])(\d+)([mhdy])", shift):
        sign = 1 if match[1] == "+" else -1
        return sign * int(match[2]) * UNITS[match[3]]
    if match := re.fullmatch(r"(\d{1,2}):(\d{2})", shift):
        local = now.astimezone(NETWORK_ZONE)
        target = local.replace(hour=int(match[1]), minute=int(match[2]), second=0, microsecond=0)
        if target <= local:
            target += timedelta(days=1)
        return (target - local).total_seconds()
    raise SystemExit(f"clock: cannot read the shift {shift!r} (try +1d, +400d, +3y, 03:00, 22:30)")


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        raise SystemExit(__doc__)
    shift = random.choice(CI_SHIFTS) if argv[0] == "random" else argv[0]
    now = datetime.now(UTC)
    offset = offset_seconds(shift, now)
    shifted = (now + timedelta(seconds=offset)).astimezone(NETWORK_ZONE)
    print(
        f"clock: running under a shifted clock, {shift} -> {shifted:%Y-%m-%d %H:%M} Asia/Shanghai "
        f"(replay with SHIFT={shift})",
        flush=True,
    )
    env = dict(os.environ, CULTURENET_CLOCK_OFFSET=str(offset), CULTURENET_CLOCK_SHIFT=shift)
    here = str(Path(__file__).resolve().parent / "shifted_clock")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    os.execvpe(argv[2], argv[2:], env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
