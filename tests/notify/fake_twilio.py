"""A fake Twilio REST API on 127.0.0.1 that the real `twilio` client talks to (TWILIO_API_BASE).

It implements what notify uses: create a message (POST .../Messages.json) and list messages
(GET .../Messages.json?To=&From=). Scripted failures: `fail_next(status, code, times)` answers the next
`times` creates with that error; numbers in `invalid_numbers` get Twilio's 400 error 21211.
"""

import base64
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # a listen backlog like a real API's: many sender threads connect at once


class FakeTwilio:
    def __init__(self, *, delay: float = 0.0):
        self.messages: list[dict] = []
        self.requests = 0
        self.delay = delay
        self.invalid_numbers: set[str] = set()
        self._failures: list[tuple[int, int]] = []
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakeTwilio":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, status: int, code: int = 20500, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([(status, code)] * times)

    def bodies(self) -> list[str]:
        with self._lock:
            return [m["body"] for m in self.messages]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self._send(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    return False
                return True

            def do_POST(self):  # noqa: N802
                fake.requests += 1
                if not self._authorised() or not self.path.endswith("/Messages.json"):
                    return
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if len(raw) < length:  # the client died mid-request (a killed dispatcher): as Twilio, create nothing
                    self.close_connection = True
                    return
                form = {k: v[0] for k, v in parse_qs(raw.decode(errors="replace")).items()}
                if fake.delay:
                    time.sleep(fake.delay)
                with fake._lock:
                    failure = fake._failures.pop(0) if fake._failures else None
                if failure:
                    status, code = failure
                    return self._send(
                        status,
                        {"code": code, "message": f"scripted failure {status}", "more_info": "", "status": status},
                    )
                if form.get("To") in fake.invalid_numbers:
                    return self._send(
                        400,
                        {
                            "code": 21211,
                            "message": f"The 'To' number {form['To']} is not a valid phone number.",
                            "more_info": "",
                            "status": 400,
                        },
                    )
                with fake._lock:
                    message = {
                        "sid": f"SM{next(fake._sids):032x}",
                        "account_sid": ACCOUNT_SID,
                        "to": form.get("To"),
                        "from": form.get("From"),
                        "body": form.get("Body"),
                        "status": "queued",
                        "status_callback": form.get("StatusCallback"),
                        "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
                        "date_sent": None,
                        "direction": "outbound-api",
                        "num_segments": "1",
                        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/x.json",
                    }
                    fake.messages.append(message)
                self._send(201, message)

            def do_GET(self):  # noqa: N802
                if not self._authorised():
                    return
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                with fake._lock:
                    found = [
                        m
                        for m in fake.messages
                        if m["to"] == query.get("To", m["to"]) and m["from"] == query.get("From", m["from"])
                    ]
                self._send(
                    200,
                    {
                        "messages": list(reversed(found)),
                        "end": len(found),
                        "first_page_uri": "",
                        "next_page_uri": None,
                        "page": 0,
                        "page_size": 50,
                        "previous_page_uri": None,
                        "start": 0,
                        "uri": self.path,
                    },
                )

        return Handler
