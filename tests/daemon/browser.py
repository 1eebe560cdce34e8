"""browser.py -- one headless Chromium driven over the DevTools protocol on
a pipe (--remote-debugging-pipe: fd 3 in, fd 4 out, NUL-terminated JSON), so
one browser start serves every page and width of a test. Stdlib only.

    with Browser(tmpdir) as b:
        shot = b.visit("http://127.0.0.1:PORT/", 390, "out.png")
        shot["scroll_width"], shot["csp_violations"], shot["eval"]

The pages carry no script and their CSP allows none; what the test evaluates
runs through DevTools (Runtime.evaluate), which a page's CSP does not
govern, and a securitypolicyviolation listener is installed the same way
before any page script could run."""

import base64
import fcntl
import json
import os
import select
import subprocess
import time

CHROMIUM = "/usr/bin/chromium"

# Installed in every document before it loads: collects CSP violations.
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


class BrowserError(Exception):
    pass


class Browser:
    def __init__(self, tmpdir, timeout=30):
        self.timeout = timeout
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def fds():  # the child's fd 3 reads our commands, fd 4 answers
            r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)  # r and w are above 4: neither is overwritten
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
             "--disable-extensions", "--mute-audio", "--remote-debugging-pipe",
             "--user-data-dir=" + os.path.join(tmpdir, "chrome-profile"),
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(tmpdir, "chrome.err"), "w"),
            preexec_fn=fds, close_fds=False)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._id = 0
        self.events = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        for m in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.call(m, session=True)
        self.call("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_CSP},
                  session=True)

    # ---- the protocol ------------------------------------------------------

    def _read_message(self, deadline):
        while b"\0" not in self._buf:
            left = deadline - time.time()
            if left <= 0:
                raise BrowserError("no answer from chromium in time")
            r, _, _ = select.select([self._from_chrome], [], [], left)
            if r:
                data = os.read(self._from_chrome, 1 << 16)
                if not data:
                    raise BrowserError("chromium closed its pipe")
                self._buf += data
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=False):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + self.timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self._id:
                if "error" in m:
                    raise BrowserError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, deadline):
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read_message(deadline))

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True},
                      session=True)
        if "exceptionDetails" in r:
            raise BrowserError("evaluate %s: %s" % (expr[:60], r["exceptionDetails"]))
        return r["result"].get("value")

    # ---- a page at a width -----------------------------------------------------

    def visit(self, url, width, png=None, probe="null", height=900):
        """Load url in a window width px wide (a phone below 500 px), then:
        the page's scroll width, the window's inner width, CSP violations,
        console/log messages about security, the value of the JavaScript
        expression probe, and (png) a full-page screenshot."""
        mobile = width < 500
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1,
                   "mobile": mobile}, session=True)
        self.events = [e for e in self.events if e.get("method") != "Page.loadEventFired"]
        self.call("Page.navigate", {"url": url}, session=True)
        self.wait_event("Page.loadEventFired", time.time() + self.timeout)
        info = self.evaluate(
            "JSON.stringify({sw: document.scrollingElement.scrollWidth,"
            " iw: window.innerWidth, h: document.scrollingElement.scrollHeight,"
            " csp: window.__csp || [], sheets: document.styleSheets.length,"
            " rules: Array.from(document.styleSheets).reduce("
            "   function (n, s) { try { return n + s.cssRules.length; }"
            "                     catch (e) { return n; } }, 0),"
            " probe: (%s)})" % probe)
        info = json.loads(info)
        security = [e["params"]["entry"]["text"] for e in self.events
                    if e.get("method") == "Log.entryAdded"
                    and ("Content Security Policy" in e["params"]["entry"]["text"]
                         or e["params"]["entry"].get("source") == "security")]
        self.events = [e for e in self.events if e.get("method") != "Log.entryAdded"]
        out = {"scroll_width": info["sw"], "inner_width": info["iw"],
               "height": info["h"], "csp_violations": info["csp"] + security,
               "stylesheets": info["sheets"], "css_rules": info["rules"],
               "eval": info["probe"], "png": None}
        if png:
            full = min(max(info["h"], height), 12000)
            self.call("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": full, "deviceScaleFactor": 1,
                       "mobile": mobile}, session=True)
            shot = self.call("Page.captureScreenshot",
                             {"format": "png", "optimizeForSpeed": True}, session=True)
            with open(png, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
            out["png"] = png
        return out

    def capture(self, png, width, height, scale=1):
        """Screenshot the top-left width x height px of the current page."""
        shot = self.call("Page.captureScreenshot",
                         {"format": "png", "clip": {"x": 0, "y": 0, "width": width,
                                                    "height": height, "scale": scale}},
                         session=True)
        with open(png, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    def close(self):
        try:
            self.call("Browser.close")
        except (BrowserError, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
