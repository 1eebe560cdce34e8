"""flood.py -- the flood peer of hostile_load.py: it authenticates by dialback
as a domain whose server it also is (answering the daemon's db:verify and
db:result with 'valid'), then sends pings with huge ids and never reads the
daemon's replies, which the daemon sends on its own outbound stream to that
server."""
import asyncio
import os
import ssl
import time
import xml.etree.ElementTree as ET

from streamlib import (NS_DIALBACK, NS_STREAMS, NS_TLS, PROLOG, XmlStream, close_writer,
                       connect, header, stream_error_text, tag)


class FloodServer:
    """The flood domain's server: answers every db:verify and db:result with
    'valid', and stops reading the stream that carries the daemon's replies
    once the flood peer is authenticated."""

    def __init__(self, run, tls_ctx):
        self.run = run
        self.tls_ctx = tls_ctx
        self.flood_authenticated = asyncio.Event()

    async def handle(self, reader, writer):
        a, st = self.run.args, self.run.stats["flood"]
        xs = XmlStream(reader)
        answered_result = False
        tls = False
        try:
            while not self.run.stopping():
                if answered_result and self.flood_authenticated.is_set():
                    break
                try:
                    ev = await xs.next(max(0.1, min(1.0, self.run.left())))
                except asyncio.TimeoutError:
                    continue
                if ev is None:
                    st["outbound_closed"] = True
                    return
                if ev[0] == "header":
                    starttls = ("<starttls xmlns='%s'/>" % NS_TLS) if self.tls_ctx and not tls else ""
                    writer.write(("<?xml version='1.0'?><stream:stream xmlns='jabber:server'"
                                  " xmlns:stream='%s' xmlns:db='%s' from='%s' to='%s' id='%s'"
                                  " version='1.0'><stream:features>%s<dialback xmlns="
                                  "'urn:xmpp:features:dialback'/></stream:features>"
                                  % (NS_STREAMS, NS_DIALBACK, a.flood_domain, ev[1].get("from", ""),
                                     os.urandom(8).hex(), starttls)).encode())
                    continue
                el = ev[1]
                if el.tag == tag(NS_TLS, "starttls") and self.tls_ctx:
                    writer.write(("<proceed xmlns='%s'/>" % NS_TLS).encode())
                    await writer.drain()
                    await asyncio.wait_for(writer.start_tls(self.tls_ctx), 10)
                    tls = True
                    xs.restart()
                elif el.tag == tag(NS_DIALBACK, "verify"):
                    writer.write(("<db:verify from='%s' to='%s' id='%s' type='valid'/>"
                                  % (el.get("to"), el.get("from"), el.get("id"))).encode())
                elif el.tag == tag(NS_DIALBACK, "result"):
                    writer.write(("<db:result from='%s' to='%s' type='valid'/>"
                                  % (el.get("to"), el.get("from"))).encode())
                    answered_result = True
                elif el.tag == tag(NS_STREAMS, "error"):
                    st["outbound_condition"] = stream_error_text(el)
            if answered_result:
                # never read again: the daemon's replies pile up on its side
                st["listener_reading_stopped"] = True
                while not self.run.stopping():
                    await asyncio.sleep(min(1.0, max(0.05, self.run.left())))
        except (OSError, asyncio.TimeoutError, ssl.SSLError, ET.ParseError):
            st["outbound_closed"] = True
        finally:
            await close_writer(writer)


async def flood(run, server):
    a, st = run.args, run.stats["flood"]
    try:
        reader, writer = await connect(a.host, a.port, a.flood_source)
    except (OSError, asyncio.TimeoutError) as e:
        st["auth_error"] = "cannot connect: %s" % e
        return
    xs = XmlStream(reader)
    try:
        writer.write(PROLOG + header(a.flood_domain, a.to))
        tls = False
        while True:
            ev = await xs.next(15)
            if ev is None:
                st["auth_error"] = "daemon closed the stream before dialback"
                return
            if ev[0] == "header":
                continue
            el = ev[1]
            if el.tag == tag(NS_STREAMS, "error"):
                st["auth_error"] = "stream error " + stream_error_text(el)
                return
            if el.tag == tag(NS_STREAMS, "features"):
                if not tls and el.find(tag(NS_TLS, "starttls")) is not None:
                    writer.write(("<starttls xmlns='%s'/>" % NS_TLS).encode())
                    el = await xs.stanza(15)
                    if el is None or el.tag != tag(NS_TLS, "proceed"):
                        st["auth_error"] = "no <proceed/> to STARTTLS"
                        return
                    ctx = ssl.create_default_context()
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                    await asyncio.wait_for(writer.start_tls(ctx, server_hostname=a.to), 10)
                    xs.restart()
                    tls = True
                    writer.write(PROLOG + header(a.flood_domain, a.to))
                    continue
                writer.write(("<db:result from='%s' to='%s'>%s</db:result>"
                              % (a.flood_domain, a.to, os.urandom(32).hex())).encode())
                continue
            if el.tag == tag(NS_DIALBACK, "result"):
                if el.get("type") != "valid":
                    st["auth_error"] = "dialback answered type=%s" % el.get("type")
                    return
                break
        st["authenticated"] = True
        server.flood_authenticated.set()
        watch = asyncio.ensure_future(xs.next(max(0.1, run.left())))
        filler = "x" * a.flood_id_bytes
        for i in range(a.flood_pings):
            if run.stopping() or watch.done():
                break
            writer.write(("<iq type='get' id='%d-%s' from='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
                          % (i, filler, a.flood_domain, a.to)).encode())
            st["pings_sent"] += 1
            st["bytes_sent"] += a.flood_id_bytes + 120
            began = time.monotonic()
            done, _ = await asyncio.wait([asyncio.ensure_future(writer.drain()), watch],
                                         timeout=max(0.05, run.left()),
                                         return_when=asyncio.FIRST_COMPLETED)
            st["send_stalled_s"] = round(max(st["send_stalled_s"], time.monotonic() - began), 2)
            if watch in done:
                break
        if not watch.done():
            await asyncio.wait([watch], timeout=max(0.0, run.left()))
        if watch.done() and not watch.cancelled():
            exc = watch.exception()
            ev = None if exc else watch.result()
            if ev is None or exc:
                st["inbound_closed"] = True
            elif ev[0] == "stanza" and ev[1].tag == tag(NS_STREAMS, "error"):
                st["inbound_closed"] = True
                st["inbound_condition"] = stream_error_text(ev[1])
        else:
            watch.cancel()
    except (OSError, asyncio.TimeoutError, ssl.SSLError, ET.ParseError) as e:
        if not st["authenticated"]:
            st["auth_error"] = st["auth_error"] or "%s: %s" % (type(e).__name__, e)
        else:
            st["inbound_closed"] = True
    finally:
        await close_writer(writer)
