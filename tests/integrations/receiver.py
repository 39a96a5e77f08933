"""A local HTTP receiver of webhooks for the tests, on a loopback address that is not the portal's own
(127.0.0.2: the tests' ALLOWED_HOSTS name 127.0.0.1 and localhost). It records every request; `answers` is
the list of statuses to give, in order (the last one repeats); `hold` makes it wait, before answering,
until the test releases it, and `arrived` tells the test a request is in."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.2"


class Receiver:
    def __init__(self, answers=(200,), *, hold=False):
        self.requests: list[dict] = []
        self.answers = list(answers)
        self.arrived = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body.decode()})
                receiver.arrived.set()
                receiver.release.wait(60)
                index = min(len(receiver.requests), len(receiver.answers)) - 1
                try:
                    self.send_response(receiver.answers[index])
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(b"ok" if receiver.answers[index] < 300 else b"not now")
                except OSError:  # the sender is gone (a killed worker)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://{HOST}:{self.server.server_port}/hooks/plan02"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)
