"""A real HTTP receiver on loopback for the webhook tests: records what arrives and answers
what the test scripts (a status per request, then 200), optionally slowly or at length."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self) -> None:
        self.received: list[dict] = []
        self.answers: list[int] = []  # statuses to answer, in turn; then `default`
        self.default = 200
        self.delay = 0.0
        self.body = b"thanks"
        self.location = ""
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode()
                with receiver.lock:
                    receiver.received.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                    status = receiver.answers.pop(0) if receiver.answers else receiver.default
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                try:
                    self.wfile.write(receiver.body)
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def payloads(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.received]

    def types(self) -> list[str]:
        return [p["type"] for p in self.payloads()]
