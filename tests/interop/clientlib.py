"""clientlib.py -- what the slixmpp helpers (client.py, pinger.py,
../load/honest_pinger.py) share: the login options, a bounded login wait and
a bounded disconnect."""
import asyncio


def add_login_args(ap):
    """The options every helper logs in with (a user on the peer's c2s port)."""
    ap.add_argument("--jid", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--host", required=True, help="c2s address of the server")
    ap.add_argument("--port", type=int, default=5222)
    ap.add_argument("--ca", required=True, help="CA file the server's certificate chains to")


def disconnect(loop, client):
    """Log out, waiting at most 3 s: the verdict is already printed."""
    try:
        loop.run_until_complete(asyncio.wait_for(client.disconnect(wait=1), 3))
    except (asyncio.TimeoutError, OSError):
        pass


def wait_login(loop, client, seconds):
    """Wait for client.ready (None on session, else a reason); prints the
    LOGIN line the scripts look for. True when logged in."""
    try:
        why = loop.run_until_complete(asyncio.wait_for(client.ready, seconds))
    except asyncio.TimeoutError:
        why = "no session within %gs" % seconds
    if why is not None:
        print("LOGIN failed: %s" % why)
        return False
    print("LOGIN ok as %s" % client.boundjid, flush=True)
    return True
