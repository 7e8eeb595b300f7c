#!/usr/bin/env python3
"""Drive the web console of `queuectl dev` in headless Chromium over the DevTools protocol.

Starts `queuectl dev` on a free port with a fresh store, starts Chromium with a fresh profile,
and, as a person would: logs in, sees the overview counts change after an enqueue, opens a
failed task and presses Replay, checks that a <script>-like payload shows as text, and sends a
chat message, waiting for the bot's Korean reply and then the worker's result.

With --screenshots DIR it also saves console-overview.png, console-task.png and
console-chat.png there (scripts/console-screenshots.sh puts them into docs/img/).

Python standard library only: a minimal WebSocket client (RFC 6455, text frames) is below.
Environment: QUEUECTL (default target/debug/queuectl), CHROMIUM (default: chromium on PATH).
"""

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

TOKEN = "browser-test-token"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def say(msg):
    print(f"browser-test: {msg}", flush=True)


class Failed(Exception):
    pass


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: masked text frames out, text in."""

    def __init__(self, url):
        assert url.startswith("ws://"), url
        hostport, _, path = url[len("ws://"):].partition("/")
        host, _, port = hostport.partition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise Failed("websocket handshake: connection closed")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise Failed(f"websocket handshake refused: {head[:200]!r}")

    def _exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise Failed("websocket closed")
            out += chunk
        return out

    def send(self, text):
        data = text.encode()
        header = bytes([0x81])
        n = len(data)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + masked)

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._exact(8))[0]
            payload = self._exact(n)
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise Failed("websocket closed by the browser")
            if opcode in (0x9, 0xA):  # ping/pong: not sent by DevTools in practice
                continue
            message += payload
            if b0 & 0x80:
                return message.decode()


class Page:
    """One browser tab over DevTools."""

    def __init__(self, ws_url):
        self.ws = WebSocket(ws_url)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise Failed(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise Failed(f"javascript error in {expr!r}: {r['exceptionDetails']}")
        return r.get("result", {}).get("value")

    def wait(self, expr, what, timeout=30):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                last = self.eval(expr)
                if last:
                    return last
            except Failed as e:  # the page may be navigating
                last = str(e)
            time.sleep(0.2)
        url = self.eval("location.href")
        text = self.eval("document.body ? document.body.innerText.slice(0, 1500) : ''")
        raise Failed(f"timed out waiting for {what} (last: {last!r}) at {url}:\n{text}")

    def goto(self, url):
        self.call("Page.navigate", url=url)
        self.wait("document.readyState === 'complete' && location.href !== 'about:blank'", f"{url} to load")

    def click(self, selector):
        """Click like a person: the element's own click(); then wait for the next page."""
        marker = f"m{time.time_ns()}"
        self.eval(f"window.__marker = '{marker}'")
        found = self.eval(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return false; e.click(); return true; }})()")
        if not found:
            raise Failed(f"nothing to click at {selector}")
        self.wait(f"window.__marker !== '{marker}' && document.readyState === 'complete'", f"the page after clicking {selector}")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        say(f"saved {os.path.relpath(path, ROOT)}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, body=None, token=None):
    req = urllib.request.Request(url, data=body)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=10) as r:
        return r.status, r.read().decode()


def enqueue(base, kind, payload):
    status, body = http(
        f"{base}/v1/tasks",
        json.dumps({"class": "light", "kind": kind, "payload": payload}).encode(),
        TOKEN,
    )
    assert status == 201 or status == 200, (status, body)
    return json.loads(body)["id"]


def count(page, key):
    return int(page.eval(f"document.querySelector('[data-count=\"{key}\"]').textContent"))


def run(page, base, shots):
    say("log in")
    page.goto(f"{base}/ui")
    page.wait("location.pathname === '/ui/login'", "the login form")
    page.eval(f"document.querySelector('input[name=token]').value = {json.dumps(TOKEN)}")
    page.click("form.login button")
    page.wait("document.querySelector('h1') && document.querySelector('h1').textContent === 'Overview'", "the overview")

    say("the overview counts change after an enqueue")
    done_before = count(page, "light-done")
    enqueue(base, "echo", {"hello": "console"})
    page.wait(
        f"fetch('/ui?every=0').then(r => r.text()).then(t => {{ const d = new DOMParser().parseFromString(t, 'text/html'); return Number(d.querySelector('[data-count=\"light-done\"]').textContent) > {done_before}; }})",
        "light done to grow",
    )
    page.goto(f"{base}/ui?every=0")
    assert count(page, "light-done") == done_before + 1, "overview shows the finished task"

    say("a failed task, opened and replayed")
    failing = enqueue(base, "no-such-kind", {"text": "this kind has no handler"})
    page.wait(
        f"fetch('/ui/tasks/{failing}').then(r => r.text()).then(t => t.includes('id=\"task-state\">failed'))",
        "the task to fail",
    )
    page.goto(f"{base}/ui?every=0")
    assert count(page, "light-failed") >= 1
    page.click("a[data-count='light-failed']")
    page.click(f"a.task[href='/ui/tasks/{failing}']")
    assert page.eval("document.getElementById('task-state').textContent") == "failed"
    assert "no handler" in page.eval("document.querySelector('pre.error').textContent")
    if shots:
        page.screenshot(os.path.join(shots, "console-task.png"))
    page.click("form[action$='/replay'] button")
    replayed = page.wait("document.getElementById('replayed') && document.getElementById('replayed').textContent", "the replay answer")
    page.click("#replayed")
    assert page.eval("document.getElementById('task-state').textContent") in ("pending", "running", "failed")
    say(f"replayed {failing} as {replayed}")

    say("task data shows as text")
    xss = enqueue(base, "no-such-kind", {"text": "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>"})
    page.goto(f"{base}/ui/tasks/{xss}")
    assert page.eval("window.__xss === undefined"), "a payload ran as script"
    assert page.eval("document.getElementById('envelope').textContent.includes('<script>window.__xss=2</script>')")
    assert page.eval("document.querySelectorAll('main img, main script').length === 0")

    say("the dev chat: reply, then result")
    page.goto(f"{base}/ui/chat")
    page.eval("document.getElementById('text').value = '서버 상태 확인해줘'")
    page.click("#send")
    page.wait("document.querySelector('#log li.system') && document.querySelector('#log li.system').textContent.includes('classified light')", "the classification")
    page.wait("document.querySelectorAll('#log li.bot').length >= 1", "the bot's reply")
    reply = page.eval("document.querySelector('#log li.bot').textContent")
    assert any("\uac00" <= c <= "\ud7a3" for c in reply), f"the reply is Korean: {reply!r}"
    page.wait("document.querySelectorAll('#log li.bot').length >= 2", "the result notification", timeout=60)
    result = page.eval("document.querySelectorAll('#log li.bot')[1].textContent")
    assert "서버 상태 확인해줘" in result, f"the result names the request: {result!r}"
    if shots:
        page.eval("document.getElementById('text').value = '매일 아침 9시에 뉴스 요약해줘'")
        page.click("#send")
        page.wait("document.querySelectorAll('#log li.bot').length >= 3", "the schedule reply")
        page.screenshot(os.path.join(shots, "console-chat.png"))
        page.goto(f"{base}/ui?every=0")
        page.screenshot(os.path.join(shots, "console-overview.png"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--screenshots", metavar="DIR", help="also save PNG screenshots into DIR")
    args = ap.parse_args()
    shots = os.path.abspath(args.screenshots) if args.screenshots else None
    if shots:
        os.makedirs(shots, exist_ok=True)

    queuectl = os.environ.get("QUEUECTL", os.path.join(ROOT, "target", "debug", "queuectl"))
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("browser-test: no chromium on PATH (scripts/install-test-tools.sh installs it)")
    if not os.access(queuectl, os.X_OK):
        raise SystemExit(f"browser-test: {queuectl} is missing: run `cargo build -p queuectl` first")

    work = tempfile.mkdtemp(prefix="bucketq-browser-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    procs = []
    env = dict(os.environ, INGRESS_API_TOKEN=TOKEN, RUST_LOG="warn")
    dev_log = open(os.path.join(work, "dev.log"), "w")
    try:
        dev = subprocess.Popen(
            [queuectl, "--store", os.path.join(work, "store"), "dev", "--listen", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdout=dev_log, stderr=subprocess.STDOUT,
        )
        procs.append(dev)
        deadline = time.time() + 30
        while True:
            try:
                if http(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if dev.poll() is not None or time.time() > deadline:
                raise Failed("queuectl dev did not come up")
            time.sleep(0.2)

        browser = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars",
             "--window-size=1100,760", f"--user-data-dir={os.path.join(work, 'profile')}",
             "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        procs.append(browser)
        ws_browser = None
        deadline = time.time() + 30
        while ws_browser is None:
            line = browser.stderr.readline()
            if "DevTools listening on " in line:
                ws_browser = line.split("DevTools listening on ", 1)[1].strip()
            elif (not line and browser.poll() is not None) or time.time() > deadline:
                raise Failed("chromium did not start its DevTools endpoint")
        devtools = ws_browser.split("/devtools/")[0].replace("ws://", "http://")
        targets = json.loads(http(f"{devtools}/json/list")[1])
        page_ws = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        page = Page(page_ws)
        page.call("Page.enable")
        page.call("Emulation.setDeviceMetricsOverride", width=1100, height=760, deviceScaleFactor=1, mobile=False)
        run(page, base, shots)
        say("passed")
    except (Failed, AssertionError) as e:
        dev_log.flush()
        with open(os.path.join(work, "dev.log")) as f:
            tail = f.read()[-3000:]
        print(f"browser-test: FAILED: {e}\n--- queuectl dev log (tail) ---\n{tail}", file=sys.stderr)
        sys.exit(1)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
        dev_log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
