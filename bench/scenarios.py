"""The benchmark scenarios: each real endpoint beside a bare endpoint of the same stack, same run."""

from collections.abc import Callable
from dataclasses import dataclass, field

from bench import load
from bench.load import Request

TABLE_HEAD = ["| endpoint | requests | ok | req/s | p50 ms | p99 ms |", "|---|---|---|---|---|---|"]


@dataclass
class Context:
    host: str
    port: int
    db_url: str
    quick: bool
    secret: str
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

    def run(self, ctx: Context) -> list[str]:
        lines = [f"### {self.name}", "", *TABLE_HEAD]
        load.run(ctx.host, ctx.port, self.bare(ctx, 100), 4)  # warm-up: templates, pools, caches
        load.run(ctx.host, ctx.port, self.real(ctx, 100), 4)
        for c in self.concurrency:
            n = ctx.n(self.requests)
            bare = load.run(ctx.host, ctx.port, self.bare(ctx, n), c)
            real = load.run(ctx.host, ctx.port, self.real(ctx, n), c)
            ratio = real.rps / bare.rps if bare.rps else 0
            verdict = "meets" if ratio >= self.target else "MISSES"
            lines += [row(f"bare, {c} clients", bare), row(f"real, {c} clients", real),
                      f"| **ratio at {c} clients** | | | **{ratio:.2f}** | target ≥ {self.target} ({verdict}) | |"]
        if self.verify:
            lines += ["", self.verify(ctx)]
        return lines + [""]


def row(name: str, result: load.Result) -> str:
    ok = sum(n for s, n in result.statuses.items() if isinstance(s, int) and s < 400)
    return f"| {name} | {result.requests} | {ok} | {result.rps:,.0f} | {result.p50:.1f} | {result.p99:.1f} |"


def bare_page(ctx: Context, n: int) -> list[Request]:
    return [Request("GET", "/_bench/page")] * n


def bare_insert(ctx: Context, n: int) -> list[Request]:
    return [Request("POST", "/_bench/insert", {"v": str(i)}) for i in range(n)]


def venue_directory(ctx: Context, n: int) -> list[Request]:
    districts = ["dawa", "panshan", "shuangtaizi", "xinglongtai"]
    return [Request("GET", f"/venues?district={districts[i % 4]}") for i in range(n)]


SCENARIOS: list[Scenario] = [
    Scenario("Public venue directory (GET /venues?district=…) vs a bare Jinja page reading 20 rows",
             venue_directory, bare_page, (8, 32), 0.6),
]
