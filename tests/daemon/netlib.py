"""netlib.py -- what the daemon tests share: the real daemon run unprivileged
on 127.0.0.1 with ephemeral ports, a real unbound on a free loopback port
serving the scripted peers' domains, a small PKI made with certtool, client
streams to the daemon and a scripted authoritative server for the daemon's
own dials. No root, no network namespace; stdlib only.

DNS the daemon sees (unbound, local-zone 'example.' static = NXDOMAIN
unless listed):
  *.peer.example     A 127.0.0.1, SRV -> 127.0.0.1:peer_port (Authority)
  *.refused.example  SRV -> 127.0.0.1:closed_port (connect refused)
  *.responder.example  SRV -> the daemon's own s2s port (claims of our names)
  anything else under example.  NXDOMAIN
Each test uses a fresh NAME.peer.example, so streams do not mix.

Usage: a test module calls start(argv[1] = daemon binary, limits={...}),
then stop() at the end; stop() fails on any sanitizer report in the log.
"""
import atexit
import http.client
import itertools
import json
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from peer import NS_DB, NS_SERVER, NS_STREAMS, PROLOG, XmlConn, header  # noqa: E402

BASE = "responder.example"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_PING = "urn:xmpp:ping"
STANZAS = {"{%s}%s" % (NS_SERVER, n) for n in ("iq", "message", "presence")}
SKIP = 77  # meson: test skipped
# s2s_out.h: the one public text for every failed dial
S2S_OUT_FAILED_PUBLIC = "no stream could be established with the remote server"


def tag(ns, name):
    return "{%s}%s" % (ns, name)


def dom(profile):
    """The test domain of a catalog profile."""
    return "%s.%s" % (profile, BASE)


_names = itertools.count(1)


def fresh_peer(label="p"):
    """A peer domain no earlier test used (one outbound stream each)."""
    return "%s%d-%d.peer.example" % (label, os.getpid() % 1000, next(_names))


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _kill(proc):
    """At exit: a helper process still running is killed."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def clear_of_minute_boundary(margin=2.0):
    """The daemon's per-minute limits count in windows aligned to the
    minute (ratelimit.c): a burst counted across a boundary would get a
    second budget, so wait until one is not close."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.1)


def wait_until(pred, seconds, step=0.05):
    end = time.monotonic() + seconds
    while True:
        v = pred()
        if v or time.monotonic() > end:
            return v
        time.sleep(step)


# ---- PKI ----------------------------------------------------------------------

def _certtool(*args):
    subprocess.run(["certtool"] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Pki:
    """A CA of the scripted peers and their leaves (ECDSA: fast)."""

    def __init__(self, d):
        self.d = d
        os.makedirs(d, exist_ok=True)
        self._tmpl("ca", 'cn = "netlib peer CA"\nca\ncert_signing_key\nexpiration_days = 30\n')
        _certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", self.path("ca.key"))
        _certtool("--generate-self-signed", "--load-privkey", self.path("ca.key"),
                  "--template", self.path("ca.tmpl"), "--outfile", self.path("ca.pem"))
        self.ca = self.path("ca.pem")

    def path(self, name):
        return os.path.join(self.d, name)

    def _tmpl(self, name, text):
        with open(self.path(name + ".tmpl"), "w") as f:
            f.write(text)

    def leaf(self, name, dns_names, dates=None, self_signed=False, server_only=False):
        """(cert chain file, key file) for a leaf with both EKUs (serverAuth
        alone with server_only); dates = (activation, expiration) as
        'YYYY-MM-DD hh:mm:ss UTC'."""
        text = 'cn = "%s"\n' % dns_names[0]
        text += "".join('dns_name = "%s"\n' % n for n in dns_names)
        text += "tls_www_server\n" if server_only else "tls_www_server\ntls_www_client\n"
        text += "signing_key\n"
        if dates:
            text += 'activation_date = "%s"\nexpiration_date = "%s"\n' % dates
        else:
            text += "expiration_days = 30\n"
        self._tmpl(name, text)
        key, crt = self.path(name + ".key"), self.path(name + ".pem")
        _certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", key)
        if self_signed:
            _certtool("--generate-self-signed", "--load-privkey", key,
                      "--template", self.path(name + ".tmpl"), "--outfile", crt)
        else:
            _certtool("--generate-certificate", "--load-privkey", key,
                      "--load-ca-certificate", self.ca, "--load-ca-privkey",
                      self.path("ca.key"), "--template", self.path(name + ".tmpl"),
                      "--outfile", crt)
        return crt, key


# ---- unbound ---------------------------------------------------------------------

class Unbound:
    def __init__(self, d, port, peer_port, closed_port, our_port):
        self.d, self.port = d, port
        conf = os.path.join(d, "unbound.conf")
        with open(conf, "w") as f:
            f.write("""server:
    interface: 127.0.0.1
    port: %d
    do-ip6: no
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "%s"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 1
    module-config: "iterator"
    access-control: 127.0.0.0/8 allow
    local-zone: "example." static
    local-zone: "peer.example." redirect
    local-data: "peer.example. 60 IN A 127.0.0.1"
    local-data: "peer.example. 60 IN SRV 0 5 %d peer.example."
    local-zone: "refused.example." redirect
    local-data: "refused.example. 60 IN A 127.0.0.1"
    local-data: "refused.example. 60 IN SRV 0 5 %d refused.example."
    local-zone: "%s." redirect
    local-data: "%s. 60 IN A 127.0.0.1"
    local-data: "%s. 60 IN SRV 0 5 %d %s."
remote-control:
    control-enable: no
""" % (port, d, peer_port, closed_port, BASE, BASE, BASE, our_port, BASE))
        self.log = os.path.join(d, "unbound.log")
        self.proc = subprocess.Popen(["unbound", "-d", "-c", conf],
                                     stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        atexit.register(_kill, self.proc)   # whatever happens to the test
        if not wait_until(lambda: "start of service" in open(self.log).read()
                          or self.proc.poll() is not None, 10) or self.proc.poll() is not None:
            raise RuntimeError("unbound did not start: " + open(self.log).read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)


# ---- the daemon --------------------------------------------------------------------

class Responder:
    def __init__(self, binary, d, ports, resolver_port, trust, limits):
        self.d, self.binary = d, binary
        self.port, self.direct_port, self.http_port, self.c2s_port, self.c2s_direct_port = ports
        st = os.path.join(d, "state")
        subprocess.run([binary, "init", "--base-domain", BASE, "--dir", st,
                        "--port", str(self.port), "--direct-port", str(self.direct_port),
                        "--http-port", str(self.http_port), "--allow-target", "127.0.0.0/8",
                        "--client-port", str(self.c2s_port),
                        "--client-direct-port", str(self.c2s_direct_port),
                        "--trust", trust], check=True, stdout=subprocess.DEVNULL)
        self.conf = os.path.join(st, "responder.conf")
        self.ca = os.path.join(st, "certs", "ca.pem")
        text = open(self.conf).read()
        for key, value in limits.items():
            # "?key": a limit an older daemon may not know (a test run
            # against it to show what it did before): left out there
            optional, key = key.startswith("?"), key.lstrip("?")
            text, n = re.subn(r"(?m)^(\s*%s\s*=\s*)\d+;" % key, r"\g<1>%d;" % value, text)
            if n != 1 and optional:
                print("# limits.%s is unknown to this daemon: left out" % key)
            elif n != 1:
                raise RuntimeError("no limit %s in %s" % (key, self.conf))
        text += '\nresolver = { servers = ( "127.0.0.1:%d" ); };\n' % resolver_port
        with open(self.conf, "w") as f:
            f.write(text)
        self.logfile = os.path.join(d, "responder.log")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.proc = subprocess.Popen([binary, "run", "-c", self.conf, "--debug"],
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(self.logfile, "w"), env=env)
        atexit.register(_kill, self.proc)
        if not wait_until(lambda: " running (config" in self.log()
                          or self.proc.poll() is not None, 15) or self.proc.poll() is not None:
            raise RuntimeError("daemon did not start:\n" + self.log())

    def log(self):
        with open(self.logfile, errors="replace") as f:
            return f.read()

    def wait_log(self, regex, seconds=5):
        """The first match of regex in the log within seconds, or None."""
        return wait_until(lambda: re.search(regex, self.log()), seconds)

    def report(self, remote):
        """GET /api/report/REMOTE as JSON (status, body)."""
        c = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=5)
        c.request("GET", "/api/report/" + remote)
        r = c.getresponse()
        body = r.read().decode()
        c.close()
        try:
            return r.status, json.loads(body)
        except ValueError:
            return r.status, body

    def stop(self):
        """SIGTERM; returns problems (exit status, sanitizer reports)."""
        self.proc.terminate()
        try:
            rc = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "hung"
        problems = []
        if rc != 0:
            problems.append("daemon exit status %s" % rc)
        log = self.log()
        for pat in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if pat in log:
                problems.append("sanitizer report in the daemon log: " + pat)
        return problems


# ---- streams to the daemon (we are the initiating server) -----------------------

class Stream(XmlConn):
    """One connection to the daemon: peer.py's incremental parser, TLS-aware
    reading, every byte received kept (self.all) for exact assertions."""

    def __init__(self, sock):
        super().__init__(sock)
        self.all = b""

    @classmethod
    def connect(cls, port, host="127.0.0.1", source=None):
        """From source (an address of 127/8: all of it is loopback) when given."""
        sock = socket.create_connection((host, port), timeout=5,
                                        source_address=(source, 0) if source else None)
        sock.settimeout(None)
        return cls(sock)

    def feed(self, data):
        self.all += data
        super().feed(data)

    def pump(self, seconds, whole=False):
        """Read what comes within seconds; returns after the first read
        unless whole (then reads for all of seconds, or until closed)."""
        end = time.monotonic() + seconds
        while not self.closed:
            if not self.tls_pending():
                r, _, _ = select.select([self.sock], [], [], max(0.0, end - time.monotonic()))
                if not r:
                    return
            if not self.recv_some() or (not whole and not self.tls_pending()):
                return

    def tls_pending(self):
        """Decrypted bytes waiting in the TLS layer (select() cannot see them)."""
        return isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0

    def restart(self):
        """A new stream on the same connection (after TLS or SASL)."""
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.header = None
        self.elements = []

    def open(self, frm, to, extra=""):
        """Send our header (prolog first); return the daemon's header attrs."""
        self.send(PROLOG + (header(frm, to)[:-1] + extra + ">" if frm else
                            header("", to).replace(" from=''", "")))
        return self.wait_header()

    def wait_header(self, seconds=5):
        end = time.monotonic() + seconds
        while self.header is None and not self.closed and time.monotonic() < end:
            self.pump(0.1)
        return self.header

    def next(self, seconds=5):
        """The next top-level element, in order, or None."""
        return self.wait_for(lambda el: True, seconds)

    def expect(self, ns, name, seconds=5):
        el = self.next(seconds)
        if el is None or el.tag != tag(ns, name):
            raise AssertionError("expected <%s/> (%s), got %s; bytes so far: %r"
                                 % (name, ns, None if el is None else
                                    ET.tostring(el).decode(), self.all[-600:]))
        return el

    def stream_error(self, seconds=5):
        """(condition, text) of the stream error we got, and whether the
        daemon then closed; (None, None) when none came."""
        el = self.wait_for(lambda e: e.tag == tag(NS_STREAMS, "error"), seconds)
        if el is None:
            return None, None
        cond = [c.tag.split("}")[1] for c in el if c.tag != tag(NS_STREAM_ERRORS, "text")]
        text = el.find(tag(NS_STREAM_ERRORS, "text"))
        return ",".join(cond), (text.text or "") if text is not None else ""

    def wait_closed(self, seconds=5):
        end = time.monotonic() + seconds
        while not self.closed and time.monotonic() < end:
            self.pump(0.1)
        return self.closed

    def starttls(self, sni, cert=None):
        """<starttls/>, <proceed/>, TLS as client (presenting cert=(crt, key))."""
        self.send("<starttls xmlns='%s'/>" % NS_TLS)
        self.expect(NS_TLS, "proceed")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if cert:
            ctx.load_cert_chain(*cert)
        self.sock.settimeout(5)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=sni)
        self.sock.settimeout(None)
        self.restart()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def features(s):
    """The daemon's <stream:features/> as {child tag: element}."""
    el = s.expect(NS_STREAMS, "features")
    return {c.tag: c for c in el}


# ---- the scripted remote server (the daemon dials it) ------------------------------

class Peer:
    """One connection the daemon opened to our authoritative server."""

    def __init__(self, sock):
        self.s = Stream(sock)
        self.stanzas = []   # stanzas received once authenticated, in order
        self.headers = []   # the daemon's stream headers, in order
        self.log = []       # what happened, in order (for assertions)


class Authority(threading.Thread):
    """Listens on port as the authoritative server of every *.peer.example.
    Per connection it runs self.script (default: serve()) with the options
    in self.opts; connections are kept in self.peers."""

    def __init__(self, port, pki_cert):
        super().__init__(daemon=True)
        self.cert = pki_cert
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", port))
        self.srv.listen(16)
        self.peers = []
        self.opts = {}
        self.lock = threading.Lock()

    def run(self):
        while self.accept_one():
            pass

    def accept_one(self):
        """Serve one more connection in a thread of its own, with the options
        set now; False once the listener is closed."""
        try:
            sock, _ = self.srv.accept()
        except OSError:
            return False
        p = Peer(sock)
        with self.lock:
            self.peers.append(p)
        threading.Thread(target=self.serve, args=(p, dict(self.opts)), daemon=True).start()
        return True

    def set(self, **opts):
        """Behaviour for the next connections (see serve)."""
        self.opts = opts

    def serve(self, p, o):
        """Options: close_at ('accept'|'header'|'never-speak'), error (stream error
        condition sent after our header), tls (offer STARTTLS, True by
        default), tls_required, starttls ('failure': refuse it; 'garbage':
        proceed, then no TLS), sasl ('success'|'failure'|None: offer
        EXTERNAL), dialback (offer it, True), verify ('valid'|'invalid'|
        'error'|'silent'): our answer to db:verify; result ('valid'|
        'invalid'|'silent'): our answer to the daemon's db:result; cert: (crt, key);
        client_ca: ask for a client certificate and accept only one from this
        CA file (TLS 1.3 refuses it after the client's handshake is over);
        close_after_tls: hang up right after the TLS handshake."""
        s = p.s
        try:
            if o.get("close_at") == "accept":
                s.sock.close()
                p.log.append("closed at accept")
                return
            s.wait_header(5)
            if s.header is None:
                return
            p.headers.append(dict(s.header))
            ours = s.header.get("to", "")
            theirs = s.header.get("from", "")
            if o.get("close_at") == "header":
                s.sock.close()
                p.log.append("closed at header")
                return
            if o.get("close_at") == "never-speak":
                s.wait_closed(15)
                return
            s.send(PROLOG + header(ours, theirs, "auth-%d" % id(p)))
            if o.get("error"):
                s.send("<stream:error><%s xmlns='%s'/><text xmlns='%s'>scripted</text>"
                       "</stream:error></stream:stream>"
                       % (o["error"], NS_STREAM_ERRORS, NS_STREAM_ERRORS))
                p.log.append("sent error")
                s.wait_closed(3)
                return
            tls = o.get("tls", True)
            if tls:
                s.send("<stream:features><starttls xmlns='%s'>%s</starttls></stream:features>"
                       % (NS_TLS, "<required/>" if o.get("tls_required") else ""))
            else:
                self._auth_features(s, o)
            authed = False
            while not s.closed:
                el = s.next(10)
                if el is None:
                    continue
                if el.tag == tag(NS_TLS, "starttls") and o.get("starttls") == "failure":
                    s.send("<failure xmlns='%s'/></stream:stream>" % NS_TLS)
                    s.wait_closed(3)
                    return
                if el.tag == tag(NS_TLS, "starttls"):
                    s.send("<proceed xmlns='%s'/>" % NS_TLS)
                    if o.get("starttls") == "garbage":
                        s.send(b"\x15\x03\x03\x00\x02\x02\x28not a handshake")
                        s.wait_closed(3)
                        return
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    ctx.load_cert_chain(*o.get("cert", self.cert))
                    if o.get("client_ca"):
                        ctx.verify_mode = ssl.CERT_REQUIRED
                        ctx.load_verify_locations(cafile=o["client_ca"])
                    s.sock.settimeout(5)
                    s.sock = ctx.wrap_socket(s.sock, server_side=True)
                    s.sock.settimeout(None)
                    if o.get("close_after_tls"):
                        s.sock.close()
                        p.log.append("closed after tls")
                        return
                    s.restart()
                    p.log.append("tls")
                    s.wait_header(5)
                    if s.header is None:
                        return
                    p.headers.append(dict(s.header))
                    s.send(PROLOG + header(ours, theirs, "auth-tls-%d" % id(p)))
                    self._auth_features(s, o)
                elif el.tag == tag(NS_SASL, "auth"):
                    p.log.append("sasl %s %s" % (el.get("mechanism"), el.text))
                    if o.get("sasl") == "success":
                        s.send("<success xmlns='%s'/>" % NS_SASL)
                        s.restart()
                        s.wait_header(5)
                        if s.header is None:
                            return
                        p.headers.append(dict(s.header))
                        s.send(PROLOG + header(ours, theirs, "auth-sasl-%d" % id(p)) +
                               "<stream:features/>")
                        authed = True
                    else:
                        s.send("<failure xmlns='%s'><not-authorized/></failure>" % NS_SASL)
                elif el.tag == tag(NS_DB, "result") and not el.get("type"):
                    p.log.append("db:result %s" % (el.text or ""))
                    answer = o.get("result", "valid")
                    if answer != "silent":
                        s.send("<db:result from='%s' to='%s' type='%s'/>"
                               % (el.get("to"), el.get("from"), answer))
                    authed = answer == "valid"
                elif el.tag == tag(NS_DB, "verify") and not el.get("type"):
                    p.log.append("db:verify id=%s key=%s" % (el.get("id"), el.text))
                    answer = o.get("verify", "valid")
                    if answer != "silent":
                        s.send("<db:verify from='%s' to='%s' id='%s' type='%s'/>"
                               % (el.get("to"), el.get("from"), el.get("id"), answer))
                elif authed and el.tag in STANZAS:
                    p.stanzas.append(el)
                else:
                    p.log.append("unexpected %s" % el.tag)
        except (OSError, ssl.SSLError) as e:
            p.log.append("error %s" % e)

    @staticmethod
    def _auth_features(s, o):
        s.send("<stream:features>%s%s</stream:features>"
               % ("<mechanisms xmlns='%s'><mechanism>EXTERNAL</mechanism></mechanisms>"
                  % NS_SASL if o.get("sasl") else "",
                  "<dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback>"
                  if o.get("dialback", True) else ""))

    def for_domain(self, domain, seconds=5):
        """The first connection whose first header is from/to domain."""
        def find():
            with self.lock:
                for p in self.peers:
                    if p.headers and p.headers[0].get("to") == domain:
                        return p
            return None
        return wait_until(find, seconds)

    def stanzas_to(self, domain, pred, seconds=5):
        """Stanzas received on connections for domain that satisfy pred."""
        def find():
            with self.lock:
                got = [el for p in self.peers if p.headers and p.headers[0].get("to") == domain
                       for el in p.stanzas if pred(el)]
            return got
        return wait_until(find, seconds)


# ---- one environment per test module ---------------------------------------------

class Env:
    def __init__(self, binary, limits=None):
        for tool in ("unbound", "certtool"):
            if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
                print("SKIP: %s not installed" % tool)
                sys.exit(SKIP)
        os.environ["PATH"] += ":/usr/sbin"
        self.d = tempfile.mkdtemp(prefix="netlib.")
        self.pki = Pki(os.path.join(self.d, "pki"))
        self.peer_cert = self.pki.leaf("peer", ["peer.example", "*.peer.example",
                                                "*.refused.example", "*.nx.example"])
        (s2s, direct, http_port, dns_port, self.peer_port,
         self.closed_port, c2s, c2s_direct) = free_ports(8)
        self.unbound = Unbound(self.d, dns_port, self.peer_port, self.closed_port, s2s)
        self.authority = Authority(self.peer_port, self.peer_cert)
        self.authority.start()
        self.r = Responder(binary, self.d, (s2s, direct, http_port, c2s, c2s_direct), dns_port,
                           self.pki.ca, limits or {})

    def stream(self, direct=False):
        return Stream.connect(self.r.direct_port if direct else self.r.port)

    def stop(self, keep=False):
        problems = self.r.stop()
        self.unbound.stop()
        self.authority.srv.close()
        if problems:
            print("daemon log:\n" + self.r.log()[-6000:])
        if not problems and not keep:
            shutil.rmtree(self.d, ignore_errors=True)
        return problems


def dialback_plain(env, peer, local=None):
    """A plaintext stream to no-tls authenticated by dialback as peer (our
    Authority says valid). Returns the Stream."""
    local = local or dom("no-tls")
    s = env.stream()
    s.open(peer, local)
    features(s)
    s.send("<db:result from='%s' to='%s'>%s</db:result>" % (peer, local, "k" * 64))
    res = s.expect(NS_DB, "result", 10)
    if res.get("type") != "valid":
        raise AssertionError("dialback as %s: %s" % (peer, ET.tostring(res)))
    return s


def tls_open(env, peer, local, cert):
    """A stream from peer to local, STARTTLS presenting cert ((crt, key) or
    None), restarted: returns (stream, the auth features)."""
    s = env.stream()
    s.open(peer, local)
    features(s)
    s.starttls(local, cert)
    s.open(peer, local)
    return s, features(s)


def sasl_session(env, peer, local, cert=None):
    """A TLS stream to local authenticated by SASL EXTERNAL as peer (our
    certificate, or cert). Returns the Stream, ready for stanzas."""
    s, f = tls_open(env, peer, local, cert or env.peer_cert)
    if tag(NS_SASL, "mechanisms") not in f:
        raise AssertionError("EXTERNAL not offered to %s: %s" % (peer, s.all[-300:]))
    s.send("<auth xmlns='%s' mechanism='EXTERNAL'>=</auth>" % NS_SASL)
    s.expect(NS_SASL, "success")
    s.restart()
    s.open(peer, local)
    s.expect(NS_STREAMS, "features")
    return s


def report_cell(env, remote, local, leg, pred=lambda rec: True, seconds=5):
    """The report's latest record of leg ('in'/'out') for (local, remote)
    once pred accepts it (GET /api/report/REMOTE), else AssertionError."""
    last = []

    def find():
        status, j = env.r.report(remote)
        assert status == 200, (status, j)
        cell = [d for d in j["domains"] if d["domain"] == local][0]
        last[:] = [cell]
        rec = cell.get(leg)
        return cell if rec and pred(rec) else None
    cell = wait_until(find, seconds, 0.1)
    if not cell:
        raise AssertionError("report for %s on %s: %s" % (remote, local, json.dumps(last, indent=1)))
    return cell


def run(binary_argv, limits, tests):
    """Start the environment, run each (name, fn(env)), print one line per
    test, stop, exit 0/1."""
    import traceback
    if len(binary_argv) < 2:
        print("usage: %s XMPP-RESPONDER-BINARY" % binary_argv[0])
        sys.exit(2)
    env = Env(binary_argv[1], limits)
    failed = 0
    for name, fn in tests:
        t0 = time.monotonic()
        try:
            fn(env)
            print("ok   %-45s %.2fs" % (name, time.monotonic() - t0))
        except Exception:  # noqa: BLE001 -- report and go on
            failed += 1
            print("FAIL %s" % name)
            traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
    problems = env.stop(keep=failed > 0 or os.environ.get("UNIT_NET_KEEP"))
    for p in problems:
        print("FAIL %s" % p)
    failed += len(problems)
    print("%d of %d failed" % (failed, len(tests)))
    if failed:
        print("(work dir kept: %s)" % env.d)
    sys.exit(1 if failed else 0)
