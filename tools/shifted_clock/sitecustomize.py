"""Starts every Python process of a test run at the real time plus CULTURENET_CLOCK_OFFSET seconds.

`tools/clock.py` puts this folder on PYTHONPATH, so the test runner and every process it starts (servers,
schedulers, workers) agree on one shifted wall clock. The clock keeps ticking and sleeps, timeouts and
monotonic time are untouched (time-machine only moves the wall clock)."""

import os

_offset = os.environ.get("CULTURENET_CLOCK_OFFSET")
if _offset:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
    time.time()  # a travelling clock starts ticking at its first reading: read it now, not when a test first asks
