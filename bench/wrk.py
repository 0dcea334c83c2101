"""Drive an HTTP scenario with wrk (a C load generator), so the generator is not what limits the figures.

Each run writes its requests (method, path, JSON body, headers) to a file, one a line, and a Lua
script that reads them into a table: wrk thread t of T sends requests t, t+T, t+2T … over its keep-alive
connections for the run's fixed duration; with `once=True` (every request is distinct — a booking of a
resident for a session, a ticket scanned — so none may be sent twice) a thread whose share is sent sends only
fillers (`GET /_bench/noop`, 204, not counted, 20 ms apart) until the end, and is reported `exhausted` (then
req/s undercounts: give more requests or a shorter run); without it, it wraps around (reads). The script
counts the answers by status in each thread and `done` prints them with the throughput and latency
percentiles as one JSON line, which `run` returns as a `load.Result`-like object.

wrk is the Debian package `wrk`; `make bench` installs it when it is missing.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.load import Request

LUA = r"""
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(args[2])
  once = args[3] == "1"
  reqs = {}
  local n = 0
  for line in io.lines(args[1]) do
    n = n + 1
    if (n - 1) % nthreads == tid then
      local method, path, body, auth = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
      local headers = {}
      for pair in auth:gmatch("[^\31]+") do
        local name, value = pair:match("^([^:]+): (.*)$")
        if name then headers[name] = value end
      end
      if body ~= "" then
        headers["Content-Type"] = "application/json"
      else
        body = nil
      end
      for k, v in pairs(extra_headers) do headers[k] = v end
      table.insert(reqs, wrk.format(method, path, headers, body))
    end
  end
  sent, answered, fillers, statuses = 0, 0, 0, {}
  filler = wrk.format("GET", "/_bench/noop")
end

function request()
  sent = sent + 1
  if once and sent > #reqs then
    -- this thread's share is sent: a connection still asking gets a filler (204, not counted) until the
    -- run ends (wrk -d), never a second copy of a booking or a scan; `done` reports such a thread as exhausted.
    fillers = fillers + 1

    return filler
  end
  local i = ((sent - 1) % #reqs) + 1
  return reqs[i]
end

function delay()
  -- a connection with nothing left to send waits between fillers instead of spinning on them
  if once and sent > #reqs then return 20 end
  return 0
end

function response(status, headers, body)
  if status == 204 then return end
  answered = answered + 1
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  local exhausted = 0
  for _, t in ipairs(threads) do
    if t:get("fillers") > 0 then exhausted = exhausted + 1 end
    local s = t:get("statuses")
    for k, v in pairs(s) do counts[tostring(k)] = (counts[tostring(k)] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(counts) do table.insert(parts, string.format('"%s": %d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "seconds": %.6f, "statuses": {%s}, "errors": %d, "exhausted": %d, '
    .. '"p50": %.3f, "p90": %.3f, "p99": %.3f, "max": %.3f}\n',
    summary.requests, summary.duration / 1e6, table.concat(parts, ", "),
    e.connect + e.read + e.write + e.timeout, exhausted,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
"""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    statuses: Counter
    p50: float
    p90: float
    p99: float
    errors: int
    exhausted: int = 0  # wrk threads that sent all their distinct requests before the end (then fillers)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if str(s).isdigit() and int(s) < 400)


def available() -> bool:
    return shutil.which("wrk") is not None


def run(
    host: str,
    port: int,
    requests: list[Request],
    connections: int,
    *,
    seconds: float = 8,
    once: bool = False,
    threads: int = 2,
    headers: dict | None = None,
) -> WrkResult:
    """Send `requests` over `connections` keep-alive connections for at most `seconds` (wrk -d)."""
    threads = max(1, min(threads, connections, len(requests)))
    extra = "{" + ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in (headers or {}).items()) + "}"
    with tempfile.TemporaryDirectory(prefix="culturenet-wrk-") as tmp:
        data, script = Path(tmp, "requests.tsv"), Path(tmp, "script.lua")
        with data.open("w", encoding="utf-8") as out:
            for r in requests:
                body = json.dumps(r.body, separators=(",", ":")) if r.body is not None else ""
                headers = "\x1f".join(f"{k}: {v}" for k, v in r.headers.items())  # every header of the request
                out.write(f"{r.method}\t{r.path}\t{body}\t{headers}\n")
        script.write_text(f"extra_headers = {extra}\n" + LUA, encoding="utf-8")
        proc = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "-s",
                str(script),
                f"http://{host}:{port}/",
                "--",
                str(data),
                str(threads),
                "1" if once else "0",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        )
    match = re.search(r"^WRKJSON (.*)$", proc.stdout, re.M)
    if os.environ.get("BENCH_WRK_DEBUG"):
        print(proc.stderr[-2000:])
    if not match:
        raise RuntimeError(f"wrk gave no figures: {proc.stdout[-400:]} {proc.stderr[-400:]}")
    out = json.loads(match.group(1))
    statuses = Counter({int(k): v for k, v in out["statuses"].items()})
    if out["errors"]:
        statuses["error"] += out["errors"]
    # wrk counts a request in `requests` when its answer is read; the statuses seen by `response` match it.
    return WrkResult(
        requests=sum(v for k, v in statuses.items() if k != "error"),
        seconds=out["seconds"],
        statuses=statuses,
        p50=out["p50"],
        p90=out["p90"],
        p99=out["p99"],
        errors=out["errors"],
        exhausted=out["exhausted"],
    )
