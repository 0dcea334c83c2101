"""A small closed-loop HTTP load generator: N concurrent clients over keep-alive connections.

Clients are threads spread over several processes (so the generator is not bound by one GIL); each
sends the next request as soon as the previous answer arrives. It reports throughput and latency
percentiles. Loopback only; every run is bounded in requests and time.
"""

import http.client
import json
import multiprocessing as mp
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    path: str
    body: dict | None = None
    headers: dict = field(default_factory=dict)


@dataclass
class Result:
    requests: int
    seconds: float
    statuses: Counter
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0

    @property
    def p99(self) -> float:
        return self.pct(0.99)


def _client(host, port, requests, out, deadline):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    latencies, statuses = [], Counter()
    for req in requests:
        if time.monotonic() > deadline:
            break
        body = json.dumps(req.body) if req.body is not None else None
        headers = {"Content-Type": "application/json", **req.headers} if body else dict(req.headers)
        started = time.perf_counter()
        try:
            conn.request(req.method, req.path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            statuses[response.status] += 1
        except (OSError, http.client.HTTPException):
            statuses["error"] += 1
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
        latencies.append((time.perf_counter() - started) * 1000)
    conn.close()
    out.append((latencies, statuses))


def _process(host, port, batches, deadline, queue):
    out: list = []
    threads = [threading.Thread(target=_client, args=(host, port, batch, out, deadline)) for batch in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(out)


def run(
    host: str, port: int, requests: list[Request], concurrency: int, *, max_seconds: float = 60, processes: int = 2
) -> Result:
    """Send `requests` with `concurrency` clients (request i goes to client i % concurrency)."""
    per_client = [requests[i::concurrency] for i in range(concurrency)]
    per_process = [per_client[p::processes] for p in range(processes)]
    queue: mp.Queue = mp.Queue()
    deadline = time.monotonic() + max_seconds
    started = time.perf_counter()
    procs = [
        mp.Process(target=_process, args=(host, port, batches, deadline, queue)) for batches in per_process if batches
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    seconds = time.perf_counter() - started
    latencies, statuses = [], Counter()
    for out in results:
        for lat, st in out:
            latencies.extend(lat)
            statuses.update(st)
    return Result(len(latencies), seconds, statuses, latencies)
