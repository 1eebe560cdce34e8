"""daemonlib.py -- an unprivileged xmpp-responder for the daemon suite's
tests: `init` into a temporary directory with ephemeral loopback ports, the
limits a test asks for, DNS sent to a loopback port nothing answers (so no
lookup leaves the machine), `run`, and a bounded stop. No root, no network
namespace.

    with Daemon(RESPONDER, limits={"probe_timeout": 2}) as d:
        d.http_port, d.state, d.log()

Also the TAP-like checks the Python tests print (ok - / not ok -)."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BASE = "unit.test"


class Checks:
    """ok/not ok lines and a summary; exit status 1 when any failed."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, desc, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok - " + desc)
        else:
            self.failed += 1
            print("not ok - " + desc + (": " + detail if detail else ""))
        sys.stdout.flush()
        return cond

    def done(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def read_all(sock):
    """Everything the other side sends until it closes (or resets, or the
    socket's timeout passes); then the socket is closed."""
    data = b""
    try:
        while True:
            try:
                b = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not b:
                break
            data += b
    finally:
        sock.close()
    return data


def free_port():
    """A loopback TCP port nothing listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dead_udp_port():
    """A loopback UDP port with nothing behind it: queries there fail fast."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def set_limit(conf, name, value):
    """Set limits.NAME in the config init wrote (it lists every limit)."""
    with open(conf) as f:
        text = f.read()
    new, n = re.subn(r"(?m)^(\s*%s\s*=\s*)\d+;" % re.escape(name),
                     r"\g<1>%d;" % value, text)
    if n != 1:
        raise RuntimeError("no limit %s in %s" % (name, conf))
    with open(conf, "w") as f:
        f.write(new)


class Daemon:
    """A running responder; stop() (or leaving the with block) ends it."""

    def __init__(self, responder, limits=None, attempts=3, edit=None):
        """edit(conf_path): a change to the config init wrote, before run."""
        self.responder = os.path.abspath(responder)
        self.edit = edit
        self.dir = tempfile.mkdtemp(prefix="rs-unit-")
        self.proc = None
        last = ""
        for _ in range(attempts):
            if self._start(limits or {}):
                return
            last = self.log()
            self.stop()
        self.cleanup()
        raise RuntimeError("the daemon did not start:\n" + last[-2000:])

    def _start(self, limits):
        self.state = os.path.join(self.dir, "s")
        shutil.rmtree(self.state, ignore_errors=True)
        self.s2s_port, self.direct_port, self.http_port = (
            free_port(), free_port(), free_port())
        subprocess.run([self.responder, "init", "--base-domain", BASE,
                        "--dir", self.state, "--port", str(self.s2s_port),
                        "--direct-port", str(self.direct_port),
                        "--http-port", str(self.http_port), "--client-port", "0"],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
        self.conf = os.path.join(self.state, "responder.conf")
        for name, value in limits.items():
            set_limit(self.conf, name, value)
        if self.edit:
            self.edit(self.conf)
        with open(self.conf, "a") as f:
            f.write('resolver = { servers = ( "127.0.0.1:%d" ); };\n'
                    % dead_udp_port())
        self.log_path = os.path.join(self.dir, "run.log")
        return self.run()

    def run(self, mode="w"):
        """Run the daemon on the config as it is (again, after stop(): the
        state stays, the log is appended with mode "a"); True once it serves."""
        self.proc = subprocess.Popen(
            [self.responder, "run", "-c", self.conf],
            stdout=open(self.log_path, mode), stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            if self.serving():
                return True
            time.sleep(0.05)
        return False

    def serving(self):
        try:
            with socket.create_connection(("127.0.0.1", self.http_port), 1):
                pass
        except OSError:
            return False
        return os.path.exists(os.path.join(self.state, "control.sock"))

    def domains(self):
        """The test domains of the config, in order."""
        with open(self.conf) as f:
            return re.findall(r'name = "([^"]+)"', f.read())

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except (OSError, AttributeError):
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM and wait; the exit status (None if it had to be killed)."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = None
        self.proc = None
        return rc

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_checks(self, checks, *steps):
        """Each step(self) in turn, then: still running, SIGTERM ends it with
        status 0; cleaned up whatever happened. The test's exit status."""
        t0 = time.time()
        try:
            for step in steps:
                step(self)
            checks.check("the daemon is still running", self.alive())
        finally:
            rc = self.stop()
            self.cleanup()
        checks.check("SIGTERM: exit status 0 (got %s)" % rc, rc == 0)
        print("# %.1f s" % (time.time() - t0))
        return checks.done()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        self.cleanup()
