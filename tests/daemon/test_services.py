#!/usr/bin/python3
"""test_services.py -- what the daemon answers an authenticated peer
(responder/service/services.c through the router): ping from the exact JID
addressed, disco#info, version, echo and commands, presence, errors for
what it does not serve, silence for results and errors, and the per-domain
rate limit. Replies arrive on the daemon's own stream to the peer (our
scripted Authority). Usage: test_services.py XMPP-RESPONDER."""
import sys
import time

from netlib import (NS_PING, NS_SERVER, NS_STANZAS, clear_of_minute_boundary, dialback_plain,
                    dom, fresh_peer, run, tag)

NOTLS = dom("no-tls")
PINGS_PER_MINUTE = 3
LIMITS = {"ping_per_minute": PINGS_PER_MINUTE}
DISCO = "http://jabber.org/protocol/disco#info"
VERSION = "jabber:iq:version"


def session(env):
    peer = fresh_peer()
    return peer, dialback_plain(env, peer)


def reply_to(env, peer, sid, seconds=5):
    got = env.authority.stanzas_to(peer, lambda e: e.get("id") == sid, seconds)
    assert got, "no reply to %s; daemon log tail:\n%s" % (sid, env.r.log()[-2000:])
    assert len(got) == 1, got
    return got[0]


def nothing_for(env, peer, sid, seconds=0.5):
    time.sleep(seconds)
    got = env.authority.stanzas_to(peer, lambda e: e.get("id") == sid, 0)
    assert not got, got


def t_ping_from_exact_jid(env):
    peer, s = session(env)
    for i, to in enumerate((NOTLS, "echo@" + NOTLS, "echo@%s/res" % NOTLS)):
        s.send("<iq type='get' id='ping%d' from='u@%s/r' to='%s'><ping xmlns='%s'/></iq>"
               % (i, peer, to, NS_PING))
        el = reply_to(env, peer, "ping%d" % i)
        assert el.tag == tag(NS_SERVER, "iq") and el.get("type") == "result", el.attrib
        assert el.get("from") == to and el.get("to") == "u@%s/r" % peer, el.attrib
        assert len(el) == 0, "a pong has no payload"


def t_disco_info(env):
    peer, s = session(env)
    s.send("<iq type='get' id='d1' from='%s' to='%s'><query xmlns='%s' node='n1'/></iq>"
           % (peer, NOTLS, DISCO))
    el = reply_to(env, peer, "d1")
    q = el.find(tag(DISCO, "query"))
    assert q is not None and q.get("node") == "n1"
    ident = q.find(tag(DISCO, "identity"))
    assert (ident.get("category"), ident.get("type")) == ("server", "im"), ident.attrib
    assert ident.get("name") == "xmpp-responder test domain: no-tls", ident.attrib
    feats = [f.get("var") for f in q.findall(tag(DISCO, "feature"))]
    assert feats == [DISCO, NS_PING, VERSION], feats
    form = q.find(tag("jabber:x:data", "x"))
    fields = {f.get("var"): f.find(tag("jabber:x:data", "value")).text for f in form}
    assert fields["FORM_TYPE"] == "urn:xmpp:responder:profile:0"
    assert fields["profile"] == "no-tls", fields
    # the echo contact is an account
    s.send("<iq type='get' id='d2' from='%s' to='echo@%s'><query xmlns='%s'/></iq>"
           % (peer, NOTLS, DISCO))
    ident = reply_to(env, peer, "d2").find(tag(DISCO, "query")).find(tag(DISCO, "identity"))
    assert (ident.get("category"), ident.get("type")) == ("account", "registered")


def t_version(env):
    peer, s = session(env)
    s.send("<iq type='get' id='v1' from='%s' to='%s'><query xmlns='%s'/></iq>"
           % (peer, NOTLS, VERSION))
    q = reply_to(env, peer, "v1").find(tag(VERSION, "query"))
    assert q.find(tag(VERSION, "name")).text == "xmpp-responder"
    assert q.find(tag(VERSION, "version")).text
    # not from a user: service-unavailable
    s.send("<iq type='get' id='v2' from='%s' to='echo@%s'><query xmlns='%s'/></iq>"
           % (peer, NOTLS, VERSION))
    assert error_condition(reply_to(env, peer, "v2")) == ("cancel", "service-unavailable")


def error_condition(el):
    assert el.get("type") == "error", el.attrib
    err = el.find(tag(NS_SERVER, "error"))
    conds = [c.tag for c in err if c.tag.startswith("{%s}" % NS_STANZAS)]
    return err.get("type"), conds[0].split("}")[1]


def t_unknown_iq(env):
    peer, s = session(env)
    s.send("<iq type='get' id='u1' from='%s' to='%s'><query xmlns='urn:unknown'/></iq>"
           % (peer, NOTLS))
    el = reply_to(env, peer, "u1")
    assert el.get("from") == NOTLS and el.get("to") == peer
    assert error_condition(el) == ("cancel", "service-unavailable")
    s.send("<iq type='set' id='u2' from='%s' to='%s'><ping xmlns='%s'/></iq>" % (peer, NOTLS, NS_PING))
    assert error_condition(reply_to(env, peer, "u2")) == ("cancel", "service-unavailable")


def t_echo(env):
    peer, s = session(env)
    s.send("<message type='chat' id='m1' from='u@%s/r' to='echo@%s'><body>hello &amp; bye</body>"
           "<thread>t1</thread></message>" % (peer, NOTLS))
    el = reply_to(env, peer, "m1")
    assert el.tag == tag(NS_SERVER, "message") and el.get("type") == "chat"
    assert el.get("from") == "echo@" + NOTLS and el.get("to") == "u@%s/r" % peer, el.attrib
    assert el.find(tag(NS_SERVER, "body")).text == "hello & bye"
    assert el.find(tag(NS_SERVER, "thread")).text == "t1"
    s.send("<message id='m2' from='%s' to='echo@%s'><body> HELP </body></message>" % (peer, NOTLS))
    body = reply_to(env, peer, "m2").find(tag(NS_SERVER, "body")).text
    assert body.startswith("This is the echo contact of %s" % NOTLS), body
    # someone else than echo: error
    s.send("<message id='m3' from='%s' to='bob@%s'><body>x</body></message>" % (peer, NOTLS))
    assert error_condition(reply_to(env, peer, "m3")) == ("cancel", "service-unavailable")


def t_never_answered(env):
    """Results, errors, groupchat/headline messages and bodiless messages
    get no reply (no loops between responders)."""
    peer, s = session(env)
    s.send("<iq type='result' id='n1' from='%s' to='%s'/>" % (peer, NOTLS))
    s.send("<iq type='error' id='n2' from='%s' to='%s'><error type='cancel'>"
           "<service-unavailable xmlns='%s'/></error></iq>" % (peer, NOTLS, NS_STANZAS))
    s.send("<message type='error' id='n3' from='%s' to='echo@%s'><body>x</body></message>"
           % (peer, NOTLS))
    s.send("<message type='headline' id='n4' from='%s' to='echo@%s'><body>x</body></message>"
           % (peer, NOTLS))
    s.send("<message id='n5' from='%s' to='echo@%s'><active xmlns='http://jabber.org/protocol/"
           "chatstates'/></message>" % (peer, NOTLS))
    s.send("<iq type='get' id='n6' from='%s' to='%s'><ping xmlns='%s'/></iq>" % (peer, NOTLS, NS_PING))
    reply_to(env, peer, "n6")   # the stream works, and what came before got nothing
    for sid in ("n1", "n2", "n3", "n4", "n5"):
        nothing_for(env, peer, sid, 0)


def t_presence(env):
    peer, s = session(env)
    s.send("<presence type='probe' id='pr1' from='u@%s/r' to='echo@%s'/>" % (peer, NOTLS))
    got = env.authority.stanzas_to(peer, lambda e: e.tag == tag(NS_SERVER, "presence"))
    assert got and got[0].get("from") == "echo@" + NOTLS and got[0].get("to") == "u@" + peer
    status = got[0].find(tag(NS_SERVER, "status")).text
    assert status.startswith("no-tls: "), status


def t_ping_rate_limit(env):
    """ping_per_minute replies per remote domain; the rest are dropped
    silently (no error: an error is a reply too), logged once."""
    peer, s = session(env)
    clear_of_minute_boundary()
    n = PINGS_PER_MINUTE + 3
    for i in range(n):
        s.send("<iq type='get' id='rl%d' from='%s' to='%s'><ping xmlns='%s'/></iq>"
               % (i, peer, NOTLS, NS_PING))
    reply_to(env, peer, "rl%d" % (PINGS_PER_MINUTE - 1))
    time.sleep(0.5)
    got = env.authority.stanzas_to(peer, lambda e: e.get("id", "").startswith("rl"), 0)
    assert sorted(e.get("id") for e in got) == ["rl%d" % i for i in range(PINGS_PER_MINUTE)], \
        [e.get("id") for e in got]
    assert all(e.get("type") == "result" for e in got)
    assert env.r.wait_log(r"remote=%s event=rate-limited more than %d ping replies"
                          % (peer.replace(".", r"\."), PINGS_PER_MINUTE))
    # another domain has its own budget
    other, s2 = session(env)
    s2.send("<iq type='get' id='o1' from='%s' to='%s'><ping xmlns='%s'/></iq>" % (other, NOTLS, NS_PING))
    reply_to(env, other, "o1")


TESTS = [(n, f) for n, f in sorted(globals().items()) if n.startswith("t_")]

if __name__ == "__main__":
    run(sys.argv, LIMITS, TESTS)
