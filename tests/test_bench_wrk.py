"""bench/wrk.py against a small local server: the counts its Lua script reports come back in their own fields
(a run whose distinct requests ran out is `exhausted`, which makes its req/s a floor, and is told apart from
transport errors), and a request of a `once` run is never sent twice."""

import threading
from collections import Counter

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request as WsgiRequest
from werkzeug.wrappers import Response

from bench import wrk
from bench.load import Request
from tests import dbs


@pytest.fixture
def server():
    if not wrk.available():
        if dbs.CI:
            pytest.fail("CI=true needs wrk (make browser-deps installs the Debian package)")
        pytest.skip("wrk is not installed")
    seen: Counter = Counter()

    @WsgiRequest.application
    def app(request):
        if request.path == "/_bench/noop":
            return Response(status=204)
        seen[request.full_path] += 1
        return Response("ok")

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port, seen
    httpd.shutdown()


def test_a_once_run_that_runs_out_is_exhausted_not_in_error_and_sends_each_request_once(server):
    port, seen = server
    requests = [Request("GET", f"/item/{i}") for i in range(40)]
    result = wrk.run("127.0.0.1", port, requests, 2, seconds=1, once=True, threads=2)
    # wrk leaves out of its counts an answer still being read when a connection stops: at most one a connection
    assert 40 - 2 <= result.requests == result.statuses[200] <= len(seen) <= 40
    assert result.exhausted == 2 and result.errors == 0 and "error" not in result.statuses
    assert set(seen.values()) == {1}


def test_a_read_run_wraps_around_and_is_not_exhausted(server):
    port, seen = server
    result = wrk.run("127.0.0.1", port, [Request("GET", "/page")], 2, seconds=1, threads=2)
    assert result.exhausted == 0 and result.errors == 0
    assert result.requests > 40 and 0 <= seen["/page?"] - result.requests <= 2
