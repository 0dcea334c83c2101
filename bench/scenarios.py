"""The benchmark scenarios: each real endpoint beside a bare endpoint of the same stack, same run."""

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from bench import load, wrk
from bench.load import Request
from bench.reminders import Reminders
from bench.reports import ReportsAtScale

TABLE_HEAD = [
    "| endpoint | requests | ok | req/s | p50 ms | p99 ms | × `/healthz` | × bare twin |",
    "|---|---|---|---|---|---|---|---|",
]
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))  # each wrk run of a read scenario


def drive(ctx, requests: list[Request], c: int, *, once: bool = False, seconds: float | None = None):
    """One measurement: wrk when it is installed (make bench installs it), else the Python generator."""
    if wrk.available():
        return wrk.run(ctx.host, ctx.port, requests, c, once=once, seconds=seconds or SECONDS)
    return load.run(ctx.host, ctx.port, requests, c, max_seconds=seconds or 60)


def healthz(ctx, c: int):
    """`GET /healthz` (one `SELECT 1` through the same stack) at `c` connections: the yardstick of every ratio."""
    drive(ctx, [Request("GET", "/healthz")], c, seconds=1)  # warm: every worker and thread connected
    return drive(ctx, [Request("GET", "/healthz")], c, seconds=min(SECONDS, 5))


def healthz_again(ctx, c: int, before):
    """`/healthz` once more, after the scenario's runs at this level: the faster of the two is the yardstick, and a
    note says both. wrk's keep-alive connections land on the gunicorn workers as they accept them, and when most
    land on one worker its GIL can halve a measurement; dividing by the faster one never flatters a ratio."""
    after = healthz(ctx, c)
    best = after if after.rps > before.rps else before
    return best, f"{before.rps:,.0f} before, {after.rps:,.0f} after"


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def ratio_rows(name: str, c: int, real, health, bare, target: float, health_note: str = "") -> list[str]:
    """The real row and its ratios; `summary` collects one line per scenario and level for the README."""
    rh = real.rps / health.rps if health.rps else 0
    rb = real.rps / bare.rps if bare.rps else 0
    verdict = "meets" if rh >= target else "MISSES"
    spent = {side: getattr(run, "exhausted", 0) for side, run in (("real", real), ("bare twin", bare))}
    if any(spent.values()):
        # a wrk thread sent its whole share of distinct requests before the end: its req/s is a floor, not a rate
        which = ", ".join(f"{side} {n} thread(s)" for side, n in spent.items() if n)
        verdict += f"; EXHAUSTED ({which}): req/s a floor, give more requests or a shorter BENCH_SECONDS"
    return [
        row(
            f"`GET /healthz`, {c} connections" + (f" (the faster of {health_note})" if health_note else ""), health, 1.0
        ),
        row(f"bare twin, {c} connections", bare, bare.rps / health.rps if health.rps else 0, 1.0),
        row(f"{name}, {c} connections", real, rh, rb),
        f"| **ratio to `/healthz` at {c}** | | | | | | **{rh:.2f}** (target ≥ {target}: {verdict}) | {rb:.2f} |",
    ]


@dataclass
class Context:
    host: str
    port: int
    db_url: str
    quick: bool
    secret: str
    reports_rows: int = 10_000_000
    cache: dict = field(default_factory=dict)

    def n(self, full: int) -> int:
        return max(50, full // 10) if self.quick else full


@dataclass
class Scenario:
    """A real workload and its bare twin at each concurrency; `target` is the ratio the issue asks for."""

    name: str
    real: Callable[[Context, int], list[Request]]
    bare: Callable[[Context, int], list[Request]]
    concurrency: tuple[int, ...]
    target: float
    requests: int = 2000
    verify: Callable[[Context], str] | None = None

    label: str = "real"

    def run(self, ctx: Context) -> list[str]:
        lines = [f"### {self.name}", "", f"({loadavg()} before)", "", *TABLE_HEAD]
        load.run(ctx.host, ctx.port, self.bare(ctx, 100), 4)  # warm-up: templates, pools, caches
        load.run(ctx.host, ctx.port, self.real(ctx, 100), 4)
        for c in self.concurrency:
            n = ctx.n(self.requests)
            health = healthz(ctx, c)
            bare = drive(ctx, self.bare(ctx, n), c)
            real = drive(ctx, self.real(ctx, n), c)
            health, note = healthz_again(ctx, c, health)
            lines += ratio_rows(self.label, c, real, health, bare, self.target, note)
            summarise(
                ctx,
                f"| {self.label} | {c} | {real.rps:,.0f} | {real.p99:.0f} | "
                f"{real.rps / health.rps:.2f} | {real.rps / bare.rps:.2f} | ≥ {self.target} |",
            )
        if self.verify:
            lines += ["", self.verify(ctx)]
        return lines + ["", f"({loadavg()} after)", ""]


def row(name: str, result, to_health: float | None = None, to_bare: float | None = None) -> str:
    ok = sum(n for s, n in result.statuses.items() if isinstance(s, int) and s < 400)
    h = "" if to_health is None else f"{to_health:.2f}"
    b = "" if to_bare is None else f"{to_bare:.2f}"
    return (
        f"| {name} | {result.requests:,} | {ok:,} | {result.rps:,.0f} | {result.p50:.1f} | {result.p99:.1f} "
        f"| {h} | {b} |"
    )


def summarise(ctx, line: str) -> None:
    ctx.cache.setdefault("summary", []).append(line)


def bare_page(ctx: Context, n: int) -> list[Request]:
    return [Request("GET", "/_bench/page")] * n


def bare_insert(ctx: Context, n: int) -> list[Request]:
    return [Request("POST", "/_bench/insert", {"v": str(i)}) for i in range(n)]


def venue_directory(ctx: Context, n: int) -> list[Request]:
    districts = ["211104", "211122", "211102", "211103"]
    return [Request("GET", f"/venues?district={districts[i % 4]}") for i in range(n)]


# --- shared helpers -----------------------------------------------------------------------------


def sql(ctx: Context, query: str, *params) -> list[tuple]:
    import psycopg

    with psycopg.connect(ctx.db_url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def resident_tokens(ctx: Context, count: int = 10_000) -> list[str]:
    """Bearer tokens of the seeder's bulk residents (139…), minted here as accounts/auth.py issue_token does."""
    if "tokens" not in ctx.cache:
        from itsdangerous import URLSafeTimedSerializer

        signer = URLSafeTimedSerializer(ctx.secret, salt="api-token")
        rows = sql(
            ctx, "SELECT id, session_version, locale FROM users WHERE phone LIKE '139%%' ORDER BY id LIMIT %s", count
        )
        ctx.cache["tokens"] = [signer.dumps({"uid": uid, "v": v, "l": locale}) for uid, v, locale in rows]
    return ctx.cache["tokens"]


def settle(ctx: Context, query: str, *params, most: float = 30) -> None:
    """Wait until the requests still in flight when wrk stopped are done: `query` (a count) reads the same twice
    a second apart. The checks after a run read several counts, which must come from a database at rest."""
    import time

    deadline, last = time.monotonic() + most, None
    while time.monotonic() < deadline:
        now = sql(ctx, query, *params)[0][0]
        if now == last:
            return
        last = now
        time.sleep(1)


def prepare_classes(count: int, kind: str, capacity: int = 30) -> list[dict]:
    """Fresh 30-seat first-come activities, made through activities.services in a subprocess (bench.prepare)."""
    import json
    import subprocess
    import sys

    from bench.__main__ import ROOT, env

    out = subprocess.run(
        [sys.executable, "-m", "bench.prepare", "classes", str(count), kind, str(capacity)],
        cwd=ROOT,
        env=env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def status_summary(result: load.Result) -> str:
    return ", ".join(f"{status}: {n}" for status, n in sorted(result.statuses.items(), key=lambda kv: str(kv[0])))


# --- hot sign-up --------------------------------------------------------------------------------


@dataclass
class HotSignup:
    """10,000 residents race POST /api/v1/bookings for `classes` fresh 30-seat first-come units.

    Each concurrency level gets its own fresh units (a resident may hold at most 3 class enrolments).
    Throughput counts every answered request: 201 (seat taken) and 409 `full` are both the expected outcome
    of a hot sign-up. The check afterwards is in SQL: seats taken == capacity and one booking per person.
    """

    name: str
    classes: int
    kind: str  # "course" (a class, enrolled as a whole) or "event" (its one session is booked)
    concurrency: tuple[int, ...] = (8, 32)
    target: float = 0.5
    residents: int = 10_000
    label: str = "booking"
    capacity: int = 30
    connections_seen: int = 0

    def requests(self, ctx: Context, units: list[dict]) -> list[Request]:
        tokens = resident_tokens(ctx, self.residents)[: ctx.n(self.residents)]
        reqs = []
        # Spread over many units, a small seed's residents (600 at --scale 30) each book several units, every
        # (resident, unit) pair once, so wrk does not run out of distinct requests; one hot unit: each resident once.
        pairs = ctx.n(self.residents) if len(units) > 1 else len(tokens)
        for i in range(min(pairs, len(tokens) * len(units))):
            token = tokens[i % len(tokens)]
            unit = units[(i + i // len(tokens)) % len(units)]
            body = {"activity_id": unit["activity_id"]} if self.kind == "course" else {"session_id": unit["session_id"]}
            reqs.append(Request("POST", "/api/v1/bookings", body, {"Authorization": f"Bearer {token}"}))
        return reqs

    def verify(self, ctx: Context, units: list[dict], real) -> str:
        """In SQL: each 201 is one seat taken and one confirmed booking, no unit over capacity, nobody holding two
        active bookings of one unit; a unit asked by more people than it seats is exactly full."""
        ids = [u["activity_id"] for u in units]
        settle(ctx, "SELECT count(*) FROM bookings WHERE activity_id = ANY(%s)", ids)
        seats = sql(ctx, "SELECT activity_id, capacity, seats_taken FROM sessions WHERE activity_id = ANY(%s)", ids)
        confirmed = dict(
            sql(
                ctx,
                "SELECT activity_id, count(*) FROM bookings WHERE activity_id = ANY(%s) "
                "AND status = 'confirmed' GROUP BY activity_id",
                ids,
            )
        )
        doubles = sql(
            ctx,
            "SELECT user_id, unit_key FROM bookings WHERE activity_id = ANY(%s) AND is_active "
            "GROUP BY user_id, unit_key HAVING count(*) > 1",
            ids,
        )
        taken = sum(t for _i, _c, t in seats)
        within = all(t <= c for _i, c, t in seats)
        counted = all(confirmed.get(i, 0) == t for i, _c, t in seats)
        created = real.statuses.get(201, 0)
        hot = len(units) == 1 and real.requests > seats[0][1]
        exact = taken == seats[0][1] if hot else True
        # a request still in flight when wrk's time is up is served but not counted: at most one per connection
        ok = within and counted and not doubles and created <= taken <= created + self.connections_seen and exact
        return (
            f"{'OK' if ok else 'FAILED'}: {len(seats)} unit(s), seats taken {taken:,} of "
            f"{sum(c for _i, c, _t in seats):,} for {created:,} answers 201 counted "
            f"({'exactly full' if hot and exact else 'none over capacity' if within else 'OVER'})"
            f", confirmed bookings match the counters: {counted}, people with two active bookings on one unit: "
            f"{len(doubles)}"
        )

    def run(self, ctx: Context) -> list[str]:
        lines = [f"### {self.name}", "", f"({loadavg()} before)", "", *TABLE_HEAD]
        checks = []
        warm = prepare_classes(1, self.kind)
        load.run(ctx.host, ctx.port, bare_insert(ctx, 100), 4)
        load.run(ctx.host, ctx.port, self.requests(ctx, warm)[-100:], 4)
        for c in self.concurrency:
            units = prepare_classes(self.classes, self.kind, self.capacity)
            reqs = self.requests(ctx, units)
            health = healthz(ctx, c)
            reset_units(ctx, self.classes, self.capacity)
            self.connections_seen = c
            bare = drive(ctx, bare_book(len(reqs), self.classes), c, once=True)
            real = drive(ctx, reqs, c, once=True)
            health, note = healthz_again(ctx, c, health)
            lines += ratio_rows("`POST /api/v1/bookings`", c, real, health, bare, self.target, note)
            summarise(
                ctx,
                f"| {self.label} | {c} | {real.rps:,.0f} | {real.p99:.0f} | {real.rps / health.rps:.2f} | "
                f"{real.rps / bare.rps:.2f} | ≥ {self.target} |",
            )
            checks.append(f"- {c} connections: answers {status_summary(real)}; {self.verify(ctx, units, real)}")
        return lines + ["", *checks, "", f"({loadavg()} after)", ""]


def reset_units(ctx: Context, count: int, capacity: int = 30) -> None:
    """The bare twin's units: `count` rows of bench_units, `capacity` seats each, none taken."""
    import psycopg

    with psycopg.connect(ctx.db_url, autocommit=True) as conn:
        conn.execute("TRUNCATE bench_units")
        conn.execute(
            "INSERT INTO bench_units (id, capacity) SELECT g, %s FROM generate_series(1, %s) g", (capacity, count)
        )


def reset_checkins(ctx: Context) -> None:
    import psycopg

    with psycopg.connect(ctx.db_url, autocommit=True) as conn:
        conn.execute("TRUNCATE bench_checkins")


def bare_book(n: int, units: int) -> list[Request]:
    return [Request("POST", "/_bench/book", {"unit": 1 + i % units}) for i in range(n)]


# --- public pages -------------------------------------------------------------------------------


def activity_list(ctx: Context, n: int) -> list[Request]:
    """The public list, 20 per page, with the filters a resident uses (district, kind, category, age, text)."""
    districts = ["211104", "211122", "211102", "211103"]
    variants = [
        "",
        "?district={d}",
        "?kind=event&district={d}",
        "?category=music",
        "?age=30&kind=event",
        "?q=" + quote("电影"),
        "?district={d}&page=2",
    ]
    return [Request("GET", "/activities" + variants[i % len(variants)].format(d=districts[i % 4])) for i in range(n)]


def uncached(requests: Callable[[Context, int], list[Request]]) -> Callable[[Context, int], list[Request]]:
    """The same requests asking for a fresh rendering (`Cache-Control: no-cache` skips core/cache.py)."""

    def fresh(ctx: Context, n: int) -> list[Request]:
        return [Request(r.method, r.path, r.body, {**r.headers, "Cache-Control": "no-cache"}) for r in requests(ctx, n)]

    return fresh


def activity_page(ctx: Context, n: int) -> list[Request]:
    if "activity_ids" not in ctx.cache:
        ctx.cache["activity_ids"] = [
            r[0] for r in sql(ctx, "SELECT id FROM activities WHERE status = 'published' ORDER BY id LIMIT 500")
        ]
    ids = ctx.cache["activity_ids"]
    return [Request("GET", f"/activities/{ids[i * 7 % len(ids)]}") for i in range(n)]


def activity_page_hot(ctx: Context, n: int) -> list[Request]:
    """The pages residents open on a sign-up morning: the 20 activities on the first page of the list (every
    visitor not signed in; each worker renders each page once per PUBLIC_CACHE_SECONDS). The spread over 500
    activities (`activity_page`) measures the fresh rendering; as a cache test it would be all first visits."""
    if "hot_activity_ids" not in ctx.cache:
        ctx.cache["hot_activity_ids"] = [
            r[0]
            for r in sql(
                ctx,
                "SELECT id FROM activities WHERE status = 'published' AND next_starts_at > now() "
                "ORDER BY next_starts_at, id LIMIT 20",
            )
        ] or [r[0] for r in sql(ctx, "SELECT id FROM activities WHERE status = 'published' ORDER BY id LIMIT 20")]
    ids = ctx.cache["hot_activity_ids"]
    return [Request("GET", f"/activities/{ids[i % len(ids)]}") for i in range(n)]


# --- check-in -----------------------------------------------------------------------------------


@dataclass
class CheckInScans:
    """Scanners at the door: each request checks one confirmed ticket in (POST /api/v1/checkins with the
    admin's bearer token and the ticket's signed QR payload), beside the bare insert, at 8 and 32 scanners;
    target ≥ 0.7. Each level gets a fresh event whose session starts in 30 minutes (the door is open) with
    `tickets` bookings made through bookings.services. Afterwards SQL checks that every ticket was admitted
    exactly once and that each 201 is one row in `checkins`."""

    name: str
    concurrency: tuple[int, ...] = (8, 32)
    target: float = 0.7
    tickets: int = 10_000  # every bulk resident once; at over 1,250 scans/s an 8 s run runs out (and is flagged
    # EXHAUSTED): then BENCH_SECONDS=5
    connections_seen: int = 0

    def prepare(self, ctx: Context) -> dict:
        import json
        import subprocess
        import sys

        from bench.__main__ import ROOT, env

        out = subprocess.run(
            [sys.executable, "-m", "bench.prepare", "checkin", str(ctx.n(self.tickets))],
            cwd=ROOT,
            env=env(),
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return json.loads(out.strip().splitlines()[-1])

    def requests(self, ctx: Context, made: dict, c: int) -> list[Request]:
        from itsdangerous import URLSafeTimedSerializer

        uid, version, locale = made["staff"]
        token = URLSafeTimedSerializer(ctx.secret, salt="api-token").dumps({"uid": uid, "v": version, "l": locale})
        headers = {"Authorization": f"Bearer {token}"}
        return [
            Request(
                "POST",
                "/api/v1/checkins",
                {"payload": p, "session_id": made["session_id"], "device_id": f"bench-{i % c}"},
                headers,
            )
            for i, p in enumerate(made["payloads"])
        ]

    def verify(self, ctx: Context, made: dict, real: load.Result) -> str:
        session_id = made["session_id"]
        settle(ctx, "SELECT count(*) FROM checkins WHERE session_id = %s", session_id)
        booked = sql(ctx, "SELECT count(*) FROM bookings WHERE session_id = %s AND status = 'confirmed'", session_id)[
            0
        ][0]
        rows, tickets, most = sql(
            ctx,
            "SELECT count(*), count(DISTINCT booking_id), COALESCE(max(n), 0) FROM "
            "(SELECT booking_id, count(*) OVER (PARTITION BY booking_id) AS n "
            "FROM checkins WHERE session_id = %s) x",
            session_id,
        )[0]
        marked = sql(
            ctx, "SELECT count(*) FROM bookings WHERE session_id = %s AND checked_in_at IS NOT NULL", session_id
        )[0][0]
        created = real.statuses.get(201, 0)
        # a request still in flight when wrk's time is up is served but not counted: at most one per connection
        ok = rows == tickets == marked and created == real.requests <= rows <= created + self.connections_seen
        ok = ok and most <= 1
        cut = (
            f" (the time limit stopped it after {real.requests} of {len(made['payloads'])} tickets)"
            if real.requests < len(made["payloads"])
            else ""
        )
        return (
            f"{'OK' if ok else 'FAILED'}: {real.requests} tickets scanned{cut}, answers {status_summary(real)}; "
            f"in SQL: {rows} check-in rows for {tickets} distinct bookings (at most {most} per booking), "
            f"{marked} bookings marked checked in, of {booked} confirmed bookings on the session"
        )

    def run(self, ctx: Context) -> list[str]:
        import subprocess

        lines = [f"### {self.name}", "", f"({loadavg()} before)", "", *TABLE_HEAD]
        checks = []
        for c in self.concurrency:
            try:
                made = self.prepare(ctx)
            except subprocess.CalledProcessError as err:
                return lines + ["", f"check-in scenario could not prepare: {err.stderr.strip()[-600:]}", ""]
            reqs = self.requests(ctx, made, c)
            self.connections_seen = c
            health = healthz(ctx, c)
            reset_checkins(ctx)
            bare_reqs = [Request("POST", "/_bench/checkin", {"ticket": f"t{i}"}) for i in range(len(reqs))]
            bare = drive(ctx, bare_reqs, c, once=True)
            real = drive(ctx, reqs, c, once=True)
            health, note = healthz_again(ctx, c, health)
            lines += ratio_rows("`POST /api/v1/checkins`", c, real, health, bare, self.target, note)
            summarise(
                ctx,
                f"| check-in (distinct tickets) | {c} | {real.rps:,.0f} | {real.p99:.0f} | "
                f"{real.rps / health.rps:.2f} | {real.rps / bare.rps:.2f} | ≥ {self.target} |",
            )
            checks.append(f"- {c} scanners: {self.verify(ctx, made, real)}")
        return lines + ["", *checks, "", f"({loadavg()} after)", ""]


def has_checkin_api() -> bool:
    from importlib.util import find_spec

    return find_spec("checkin.api") is not None


# --- registry -----------------------------------------------------------------------------------
# bench/__main__.py runs every entry in order and `--only` picks by name (comma-separated substrings). An entry is
# a Scenario (real vs bare, same run) or any object with `name` and `run(ctx) -> list of markdown lines`.

SCENARIOS: list = [
    HotSignup(
        "Booking spread over many sessions: 10,000 residents book 50 fresh 200-seat events, 200 each, every "
        "request succeeds (POST /api/v1/bookings) vs a bare conditional UPDATE + INSERT on as many units",
        classes=50,
        kind="event",
        residents=10_000,
        capacity=200,
        label="booking, spread (every request succeeds)",
    ),
    HotSignup(
        "Hot sign-up: 10,000 residents race for one 30-seat session (POST /api/v1/bookings: 30 seated, the rest "
        "refused `full`) vs a bare conditional UPDATE + INSERT on one 30-seat unit",
        classes=1,
        kind="event",
        target=0.9,
        label="booking, one hot 30-seat session (refusals)",
    ),
    Scenario(
        "Public activity list (GET /activities with filters, 20 per page), from the cache, vs a bare Jinja page",
        activity_list,
        bare_page,
        (8, 32),
        0.9,
        label="activity list, cached",
    ),
    Scenario(
        "Public activity list, every request rendered afresh (Cache-Control: no-cache) vs a bare Jinja page",
        uncached(activity_list),
        bare_page,
        (8, 32),
        0.5,
        label="activity list, fresh",
    ),
    Scenario(
        "Activity page (GET /activities/{id}, the 20 on the list's first page, not signed in), from the cache, "
        "vs a bare Jinja page reading 20 rows",
        activity_page_hot,
        bare_page,
        (8, 32),
        0.9,
        label="activity page, cached",
    ),
    Scenario(
        "Activity page (500 activities), every request rendered afresh (Cache-Control: no-cache) vs a bare Jinja page",
        uncached(activity_page),
        bare_page,
        (8, 32),
        0.5,
        label="activity page, fresh",
    ),
    Scenario(
        "Public venue directory (GET /venues?district=…) vs a bare Jinja page reading 20 rows",
        venue_directory,
        bare_page,
        (8, 32),
        0.6,
        label="venue directory, cached",
    ),
    ReportsAtScale(
        "Reports: each dashboard query at 10 million check-ins (reports.queries / reports.indicators) "
        "vs the same aggregate in raw SQL on the roll-up"
    ),
    Reminders(
        "Reminders: enqueue for 100,000 bookings, and dispatch through the twilio client to a fake Twilio "
        "(loopback) vs bare twins"
    ),
]
if has_checkin_api():
    SCENARIOS.insert(
        2,
        CheckInScans(
            "Check-in: scans of distinct tickets (POST /api/v1/checkins) at 8 and 32 scanners vs a bare unique insert"
        ),
    )
