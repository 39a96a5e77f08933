"""A weak connection (DESIGN.md §7, issue 21 item 2): the report form, My tasks and the national dashboard in
Chromium with a Slow 3G profile, as deployed (gunicorn, static files collected and compressed by WhiteNoise).

- The profile: Chrome DevTools' "Slow 3G" through the DevTools protocol (Network.emulateNetworkConditions:
  400 kbit/s down and up, 400 ms round trip), set on the page's target and, once the form's service worker
  runs, on the worker's own target too (its fetches are not the page's).
- Bytes: counted on the wire by a small TCP proxy between Chromium and gunicorn (everything the server sent,
  headers included): it sees the service worker's own fetches too, which the page's DevTools events do not.
- First visit: a new browser context (empty HTTP cache, no service worker), signed in by copying the cookies of
  a login made in another context (the login page's stylesheet and scripts would otherwise be in the cache).
  Repeat visit: the same page again, in the same context. Time: navigation to the `load` event (deferred
  scripts have run); bytes: until the network is idle (the worker's install and the form's keep-page included).
- "The form opens offline": after the first visit, the context goes offline and the form's address is opened.
- The floor: a bare Django page (bench/floorsite `page/`) of the same HTML size as ours, no stylesheet, no
  script, on the same profile and proxy: what the HTML alone costs. Its time is the row's floor; the goals of
  §7 are absolute (≤ 50 KB and ≤ 2.5 s first, ≤ 10 KB repeat, the form ≤ 5 KB).

Usable alone: `python -m bench.weak BASE FLOOR_BASE PASSWORD` against running servers; bench/run.py calls
weak_rows() with its own gunicorn (`--only weak`).
"""

import json
import socket
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400 * 1000 / 8, "uploadThroughput": 400 * 1000 / 8}
PAGES = [
    # (label, user, address, bytes on first visit, on repeat)
    ("the report form", "commune", "/reports/submit/", 50_000, 5_000),
    ("My tasks", "commune", "/tasks/mine/", 50_000, 10_000),
    ("the national dashboard", "steering", "/dashboard/", 50_000, 10_000),
]
FIRST_SECONDS = 2.5


class CountingProxy:
    """A TCP proxy to 127.0.0.1:target that counts the bytes the server sends."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.down = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source, sink, count):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if count:
                    with self.lock:
                        self.down += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def reset(self):
        with self.lock:
            self.down = 0

    def close(self):
        self.listener.close()


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        try:
            yield browser
        finally:
            browser.close()


def signed_in_state(browser, base, username, password):
    context = browser.new_context(base_url=base)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-submit")
    page.wait_for_selector("[data-testid=whoami]")
    state = context.storage_state()
    context.close()
    return state


def visit(page, proxy, address):
    """(bytes the server sent, seconds to the load event, the HTML's size) of one navigation."""
    proxy.reset()
    started = time.perf_counter()
    response = page.goto(address, wait_until="load")
    seconds = time.perf_counter() - started
    page.wait_for_load_state("networkidle")
    html = len(response.body()) if response is not None else 0
    return proxy.down, seconds, html


def throttled_page(context):
    page = context.new_page()
    page.set_default_timeout(60_000)
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.emulateNetworkConditions", SLOW_3G)
    return page


def throttle_service_workers(browser_session, done):
    """The same profile on every service worker's own target: its fetches (the form's page, network first) are
    not the page's, and the page's emulation does not slow them. Messages through Target.sendMessageToTarget
    (a session that is not flattened), since Playwright's browser session sends to the browser only."""
    for target in browser_session.send("Target.getTargets")["targetInfos"]:
        if target["type"] != "service_worker" or target["targetId"] in done:
            continue
        session = browser_session.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": False})
        for number, (method, params) in enumerate(
            [("Network.enable", {}), ("Network.emulateNetworkConditions", SLOW_3G)], start=1
        ):
            message = json.dumps({"id": number, "method": method, "params": params})
            browser_session.send("Target.sendMessageToTarget", {"sessionId": session["sessionId"], "message": message})
        done.add(target["targetId"])
    return done


def measure(base, floor_base, password):
    """One dict per page: first and repeat visits (bytes, seconds), the floor's, and the form offline."""
    ours, floor = CountingProxy(int(base.rsplit(":", 1)[1])), CountingProxy(int(floor_base.rsplit(":", 1)[1]))
    results = []
    try:
        with chromium() as browser:
            browser_session = browser.new_browser_cdp_session()
            throttled_workers = set()
            states = {}
            for label, user, address, first_goal, repeat_goal in PAGES:
                if user not in states:
                    states[user] = signed_in_state(browser, f"http://127.0.0.1:{ours.port}", user, password)
                context = browser.new_context(base_url=f"http://127.0.0.1:{ours.port}", storage_state=states[user])
                page = throttled_page(context)
                first = visit(page, ours, address)
                result = {"label": label, "first": first, "first_goal": first_goal, "repeat_goal": repeat_goal}
                if address == "/reports/submit/":
                    page.wait_for_selector("form[data-offline-ready=cached]")
                    throttle_service_workers(browser_session, throttled_workers)
                    result["workers_throttled"] = len(throttled_workers)
                result["repeat"] = visit(page, ours, address)
                if address == "/reports/submit/":
                    context.set_offline(True)
                    try:
                        page.goto(address)
                        result["offline"] = page.locator("form[data-offline-user]").count() == 1
                    except Exception:  # the form did not open: that is the measurement
                        result["offline"] = False
                context.close()
                floor_context = browser.new_context(base_url=f"http://127.0.0.1:{floor.port}")
                floor_page = throttled_page(floor_context)
                result["floor"] = visit(floor_page, floor, f"/page/?bytes={first[2]}")
                floor_context.close()
                results.append(result)
    finally:
        ours.close()
        floor.close()
    return results


def weak_rows(row, base, floor_base, password):
    if not Path(CHROMIUM).exists():
        row(
            "Slow 3G rows",
            None,
            None,
            "needs Chromium",
            False,
            "",
            f"{CHROMIUM} is missing: apt-get install -y chromium",
        )
        return
    for result in measure(base, floor_base, password):
        label = result["label"]
        first_bytes, first_seconds, html = result["first"]
        repeat_bytes, repeat_seconds, _html = result["repeat"]
        floor_bytes, floor_seconds, _floor_html = result["floor"]
        row(
            f"Slow 3G, {label}: first visit, transferred",
            first_bytes / 1000,
            floor_bytes / 1000,
            f"≤ {result['first_goal'] // 1000} KB",
            first_bytes <= result["first_goal"],
            "KB",
            f"HTML {html:,} bytes uncompressed; floor: a bare page of that size",
        )
        row(
            f"Slow 3G, {label}: first visit, loaded",
            first_seconds,
            floor_seconds,
            f"≤ {FIRST_SECONDS} s",
            first_seconds <= FIRST_SECONDS,
            "s",
        )
        offline = result.get("offline")
        row(
            f"Slow 3G, {label}: repeat visit, transferred" + ("; opens offline" if offline is not None else ""),
            repeat_bytes / 1000,
            floor_bytes / 1000,
            f"≤ {result['repeat_goal'] // 1000} KB" + (", and opens with no connection" if offline is not None else ""),
            repeat_bytes <= result["repeat_goal"] and offline is not False,
            "KB",
            f"loaded in {repeat_seconds:.2f} s"
            + (f"; service workers throttled: {result['workers_throttled']}" if "workers_throttled" in result else "")
            + ("" if offline is None else f"; opens with no connection after one visit: {'yes' if offline else 'no'}"),
        )
        if offline is not None:
            # Shown on its own line too (1 yes, 0 no); judged in the row above, since every judged row of the
            # table is a ratio to a floor and a bare page has no offline to compare with.
            row(
                "Slow 3G, the report form opens with no connection after one visit (1 yes, 0 no)",
                1 if offline else 0,
                None,
                "judged with the repeat visit",
                None,
                "",
                "yes" if offline else "no",
            )


if __name__ == "__main__":
    base, floor_base, password = sys.argv[1:4]
    for result in measure(base, floor_base, password):
        print(result)
