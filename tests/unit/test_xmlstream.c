/* test_xmlstream.c -- the XML stream layer: a realistic s2s stream fed whole,
 * split at every byte and byte by byte; stream restarts; size and depth
 * limits; everything XMPP forbids (DTD, entities, comments, PIs); errors. */
#include "check.h"
#include "xmlstream.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- a recorder for the callbacks ---- */

typedef struct rec {
    rs_xmlstream *xs;
    char log[131072];    /* one line per callback */
    int events;          /* callbacks so far */
    int errors;          /* on_error calls */
    xmlstream_error last_error; /* condition of the last on_error */
    const char *restart_on; /* restart inside on_element of this name */
    bool release_on_header; /* xmlstream_release_soon inside on_header */
} rec;

static void rec_line(rec *r, const char *fmt, ...)
{
    size_t used = strlen(r->log);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->log + used, sizeof r->log - used, fmt, ap);
    va_end(ap);
    r->events++;
}

static void on_header(void *ud, const xmlstream_header *h)
{
    rec *r = ud;
    rec_line(ud, "H to=%s from=%s id=%s version=%s ns=%s db=%d\n", h->to, h->from,
             h->id, h->version, h->default_ns, h->has_dialback_ns);
    if (r->release_on_header)
        xmlstream_release_soon(r->xs);
}

static void on_element(void *ud, xmlNodePtr el)
{
    rec *r = ud;
    char *s = xmlstream_serialize(el, NULL);
    rec_line(r, "E %s\n", s ? s : "(null)");
    free(s);
    if (r->restart_on && strcmp((const char *)el->name, r->restart_on) == 0)
        xmlstream_restart(r->xs);
}

static void on_close(void *ud)
{
    rec_line(ud, "C\n");
}

static void on_error(void *ud, xmlstream_error error, const char *text)
{
    rec *r = ud;
    r->errors++;
    r->last_error = error;
    rec_line(r, "X %s\n", xmlstream_error_condition(error));
    CHECK(text != NULL && text[0] != '\0');
}

static const xmlstream_callbacks callbacks = {
    .on_header = on_header, .on_element = on_element, .on_close = on_close, .on_error = on_error};

static void rec_init(rec *r, const xmlstream_limits *limits)
{
    memset(r, 0, sizeof *r);
    r->xs = xmlstream_new(limits, &callbacks, r);
    CHECK(r->xs != NULL);
}

static int feed(rec *r, const char *s)
{
    return xmlstream_feed(r->xs, s, strlen(s));
}

/* ---- the realistic stream ---- */

#define HEADER                                                              \
    "<?xml version='1.0'?>"                                                 \
    "<stream:stream xmlns='jabber:server' "                                 \
    "xmlns:stream='http://etherx.jabber.org/streams' "                      \
    "xmlns:db='jabber:server:dialback' to='le-tlsserver.responder.example' " \
    "from='op.example' id='s2s-1' version='1.0'>"

/* Each part ends exactly where one callback is due (events) or is
 * whitespace between them (no event). */
static const struct part {
    const char *text;
    int events;
} parts[] = {
    {HEADER, 1},
    {"\n  ", 0},
    {"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
     "<required/></starttls><dialback xmlns='urn:xmpp:features:dialback'/>"
     "</stream:features>", 1},
    {"\n", 0},
    {"<db:result from='op.example' to='le-tlsserver.responder.example'>"
     "b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3"
     "</db:result>", 1},
    {" ", 0},
    {"<iq type=\"get\" id='p1' from='op.example' to='le-tlsserver.responder.example'>"
     "<ping xmlns='urn:xmpp:ping'/></iq>", 1},
    {"\r\n\t", 0},
    {"<presence type='probe' xml:lang='en' from='op.example' to='echo@valid.responder.example'/>", 1},
    {"<message type='chat' from='alice@op.example/x' to='echo@valid.responder.example'>"
     "<body>Hi &amp; &lt;bye&gt; &#x263A; <![CDATA[<raw>]]></body>"
     "<thread>t-1</thread></message>", 1},
    {"\n", 0},
    {"</stream:stream>", 1},
};
#define NPARTS (sizeof parts / sizeof parts[0])

static const char expected_log[] =
    "H to=le-tlsserver.responder.example from=op.example id=s2s-1 version=1.0 "
    "ns=jabber:server db=1\n"
    "E <stream:features xmlns:stream=\"http://etherx.jabber.org/streams\">"
    "<starttls xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"><required/></starttls>"
    "<dialback xmlns=\"urn:xmpp:features:dialback\"/></stream:features>\n"
    "E <db:result xmlns:db=\"jabber:server:dialback\" from=\"op.example\" "
    "to=\"le-tlsserver.responder.example\">"
    "b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3"
    "</db:result>\n"
    "E <iq xmlns=\"jabber:server\" type=\"get\" id=\"p1\" from=\"op.example\" "
    "to=\"le-tlsserver.responder.example\"><ping xmlns=\"urn:xmpp:ping\"/></iq>\n"
    "E <presence xmlns=\"jabber:server\" type=\"probe\" xml:lang=\"en\" "
    "from=\"op.example\" to=\"echo@valid.responder.example\"/>\n"
    "E <message xmlns=\"jabber:server\" type=\"chat\" from=\"alice@op.example/x\" "
    "to=\"echo@valid.responder.example\"><body>Hi &amp; &lt;bye&gt; \xe2\x98\xba "
    "&lt;raw&gt;</body><thread>t-1</thread></message>\n"
    "C\n";

static char stream_text[4096];
static size_t event_end[NPARTS]; /* input offset after which event i is due */
static size_t n_events;

static void build_stream(void)
{
    size_t off = 0;
    stream_text[0] = '\0';
    for (size_t i = 0; i < NPARTS; i++) {
        strcat(stream_text, parts[i].text);
        off += strlen(parts[i].text);
        if (parts[i].events)
            event_end[n_events++] = off;
    }
}

/* Events that must have fired once the first `fed` bytes are in. */
static int events_due(size_t fed)
{
    int n = 0;
    for (size_t i = 0; i < n_events; i++)
        n += event_end[i] <= fed;
    return n;
}

static void test_stream_whole(void)
{
    rec r;
    rec_init(&r, NULL);
    CHECK(feed(&r, stream_text) == 0);
    CHECK_STR(r.log, expected_log);
    CHECK(r.errors == 0);
    /* After the close nothing more is read, not even garbage. */
    CHECK(feed(&r, "<garbage") == 0);
    CHECK(r.events == (int)n_events);
    xmlstream_free(r.xs);
}

static void test_stream_split(void)
{
    size_t len = strlen(stream_text);
    int bad_log = 0, late = 0;
    for (size_t cut = 0; cut <= len; cut++) {
        rec r;
        rec_init(&r, NULL);
        xmlstream_feed(r.xs, stream_text, cut);
        /* A stanza is delivered as soon as its closing '>' was fed. */
        late += r.events != events_due(cut);
        xmlstream_feed(r.xs, stream_text + cut, len - cut);
        bad_log += strcmp(r.log, expected_log) != 0;
        xmlstream_free(r.xs);
    }
    CHECK(bad_log == 0);
    CHECK(late == 0);
}

static void test_stream_bytewise(void)
{
    size_t len = strlen(stream_text);
    rec r;
    rec_init(&r, NULL);
    int late = 0;
    for (size_t i = 0; i < len; i++) {
        CHECK(xmlstream_feed(r.xs, stream_text + i, 1) == 0);
        late += r.events != events_due(i + 1);
    }
    CHECK(late == 0);
    CHECK_STR(r.log, expected_log);
    xmlstream_free(r.xs);
}

/* A child of a stanza serializes with the namespace it inherits. */
static void on_element_child(void *ud, xmlNodePtr el)
{
    char **out = ud;
    for (xmlNodePtr c = el->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !*out)
            *out = xmlstream_serialize(c, NULL);
}

static void test_serialize_child(void)
{
    char *child = NULL;
    xmlstream_callbacks cb = {.on_element = on_element_child};
    rs_xmlstream *xs = xmlstream_new(NULL, &cb, &child);
    const char *in = HEADER "<message><body a='&quot;&apos;'>x</body></message>";
    CHECK(xmlstream_feed(xs, in, strlen(in)) == 0);
    CHECK_STR(child, "<body xmlns=\"jabber:server\" a=\"&quot;'\">x</body>");
    free(child);
    xmlstream_free(xs);
}

static void test_header_fields(void)
{
    rec r;
    rec_init(&r, NULL);
    /* No XML declaration, no dialback, streams namespace as the default. */
    CHECK(feed(&r, "<stream xmlns='http://etherx.jabber.org/streams' to='A.example'>") == 0);
    CHECK_STR(r.log, "H to=A.example from= id= version= "
                     "ns=http://etherx.jabber.org/streams db=0\n");
    xmlstream_free(r.xs);

    rec_init(&r, NULL);
    char big[1200];
    snprintf(big, sizeof big, "<stream:stream xmlns:stream='" "http://etherx.jabber.org/streams'"
             " to='%01030d'>", 0);
    CHECK(feed(&r, big) == -1);
    CHECK(r.errors == 1 && r.last_error == XMLSTREAM_ERR_BAD_FORMAT);
    xmlstream_free(r.xs);
}

/* ---- restart ---- */

static void test_restart_in_callback(void)
{
    rec r;
    rec_init(&r, NULL);
    r.restart_on = "proceed";
    /* Whatever follows <proceed/> in the same chunk is discarded, even junk. */
    CHECK(feed(&r, HEADER "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
                          "<iq><<<not xml at all") == 0);
    CHECK(r.events == 2 && r.errors == 0);
    CHECK(feed(&r, HEADER) == 0);
    CHECK(feed(&r, "<iq type='result' id='x'/>") == 0);
    CHECK(r.errors == 0);
    CHECK(strstr(r.log, "E <proceed xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"/>\n"
                        "H to=le-tlsserver") != NULL);
    CHECK(strstr(r.log, "E <iq xmlns=\"jabber:server\" type=\"result\" id=\"x\"/>\n") != NULL);
    CHECK(r.events == 4);
    xmlstream_free(r.xs);
}

static void test_restart_outside(void)
{
    rec r;
    rec_init(&r, NULL);
    CHECK(feed(&r, HEADER "<iq><query") == 0);
    xmlstream_restart(r.xs); /* half a stanza is simply forgotten */
    CHECK(feed(&r, HEADER "<iq type='get' id='2'/>") == 0);
    CHECK(r.events == 3 && r.errors == 0);
    xmlstream_free(r.xs);

    /* After an error, xmlstream_restart makes the stream usable again. */
    rec_init(&r, NULL);
    CHECK(feed(&r, HEADER "<a></b>") == -1);
    xmlstream_restart(r.xs);
    CHECK(feed(&r, HEADER "<a/>") == 0);
    CHECK(r.events == 4 && r.errors == 1);
    xmlstream_free(r.xs);
}

/* ---- limits ---- */

static char *nested(unsigned levels)
{
    char *s = malloc(levels * 8 + 1);
    size_t o = 0;
    for (unsigned i = 0; i < levels; i++)
        o += (size_t)sprintf(s + o, "<a>");
    for (unsigned i = 0; i < levels; i++)
        o += (size_t)sprintf(s + o, "</a>");
    return s;
}

static void check_depth(unsigned max, unsigned levels, bool ok)
{
    xmlstream_limits lim = {.max_depth = max};
    rec r;
    rec_init(&r, &lim);
    char *s = nested(levels);
    CHECK(feed(&r, HEADER) == 0);
    CHECK(feed(&r, s) == (ok ? 0 : -1));
    CHECK(r.errors == (ok ? 0 : 1));
    CHECK(r.events == 2);
    if (!ok)
        CHECK(r.last_error == XMLSTREAM_ERR_POLICY_VIOLATION);
    free(s);
    xmlstream_free(r.xs);
}

static void test_depth(void)
{
    check_depth(3, 3, true);
    check_depth(3, 4, false);
    check_depth(0, 32, true); /* 0 means the default, 32 */
    check_depth(0, 33, false);
}

/* Two stanzas of exactly `size` bytes and a small one, fed whole or byte by
 * byte. A stanza's size counts from the end of the previous item (here the
 * header or the previous stanza) to its own closing '>'. Shape 0 is an
 * element with text, shape 1 an empty element with a long attribute. */
static void check_size(size_t size, int shape, bool ok, bool bytewise)
{
    xmlstream_limits lim = {.max_stanza_bytes = 1000};
    rec r;
    rec_init(&r, &lim);
    CHECK(feed(&r, HEADER) == 0);
    char one[1100], s[2300];
    const char *open = shape ? "<m a='" : "<m>", *close = shape ? "'/>" : "</m>";
    size_t fill = size - strlen(open) - strlen(close);
    strcpy(one, open);
    memset(one + strlen(open), 'x', fill);
    strcpy(one + strlen(open) + fill, close);
    CHECK(strlen(one) == size);
    snprintf(s, sizeof s, "%s%s<n/>", one, one);
    int rc = 0;
    if (bytewise)
        for (size_t i = 0; s[i] && rc == 0; i++)
            rc = xmlstream_feed(r.xs, s + i, 1);
    else
        rc = feed(&r, s);
    CHECK(rc == (ok ? 0 : -1));
    CHECK(r.events == (ok ? 4 : 2));
    CHECK(r.errors == (ok ? 0 : 1));
    if (!ok)
        CHECK(r.last_error == XMLSTREAM_ERR_POLICY_VIOLATION);
    xmlstream_free(r.xs);
}

static void test_size(void)
{
    for (int shape = 0; shape < 2; shape++) {
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            check_size(1000, shape, true, bytewise);
            check_size(999, shape, true, bytewise);
            check_size(1001, shape, false, bytewise);
        }
    }
}

/* A 10 MB attribute value or text node, fed 16 KiB at a time, is refused
 * as soon as the default 256 KiB are exceeded. */
static void check_huge(const char *opening, size_t total, bool ok)
{
    rec r;
    rec_init(&r, NULL);
    CHECK(feed(&r, HEADER) == 0);
    CHECK(feed(&r, opening) == 0);
    char piece[16384];
    memset(piece, 'a', sizeof piece);
    size_t fed = strlen(opening);
    int rc = 0;
    while (fed < total && rc == 0) {
        size_t n = total - fed < sizeof piece ? total - fed : sizeof piece;
        rc = xmlstream_feed(r.xs, piece, n);
        fed += n;
    }
    if (ok) {
        rc = feed(&r, opening[1] == 'm' ? "'/>" : "</body>");
        CHECK(rc == 0 && r.events == 2 && r.errors == 0);
    } else {
        CHECK(rc == -1);
        CHECK(fed <= 256 * 1024 + sizeof piece);
        CHECK(r.errors == 1 && r.last_error == XMLSTREAM_ERR_POLICY_VIOLATION);
        CHECK(xmlstream_feed(r.xs, piece, sizeof piece) == -1);
        CHECK(r.errors == 1 && r.events == 2);
    }
    xmlstream_free(r.xs);
}

static void test_huge(void)
{
    check_huge("<message to='", 10u * 1024 * 1024, false);
    check_huge("<body>", 10u * 1024 * 1024, false);
    check_huge("<message to='", 250u * 1024, true);
    check_huge("<body>", 250u * 1024, true);
}

/* Whitespace keepalives over hours never add up to a "stanza". */
static void test_keepalives(void)
{
    xmlstream_limits lim = {.max_stanza_bytes = 1000};
    rec r;
    rec_init(&r, &lim);
    CHECK(feed(&r, HEADER) == 0);
    int rc = 0;
    for (int i = 0; i < 5000 && rc == 0; i++)
        rc = feed(&r, " ");
    CHECK(rc == 0);
    CHECK(feed(&r, "<iq/>") == 0);
    CHECK(r.events == 2 && r.errors == 0);
    xmlstream_free(r.xs);
}

/* ---- forbidden and broken input ---- */

/* Feed `text` (after a stream header if with_header) and expect exactly one
 * error with `want`, both whole and byte by byte. */
static void check_error(const char *text, bool with_header, xmlstream_error want)
{
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        rec r;
        rec_init(&r, NULL);
        if (with_header)
            CHECK(feed(&r, HEADER) == 0);
        int rc = 0;
        if (bytewise)
            for (size_t i = 0; text[i] && rc == 0; i++)
                rc = xmlstream_feed(r.xs, text + i, 1);
        else
            rc = feed(&r, text);
        CHECK(rc == -1);
        CHECK(r.errors == 1);
        if (r.last_error != want)
            fprintf(stderr, "  input: %s -> %s\n", text, xmlstream_error_condition(r.last_error));
        CHECK(r.last_error == want);
        int events = r.events;
        CHECK(feed(&r, "<iq/></stream:stream>") == -1);
        CHECK(r.events == events);
        xmlstream_free(r.xs);
    }
}

static const char billion_laughs[] =
    "<?xml version='1.0'?>"
    "<!DOCTYPE lolz [<!ENTITY lol 'lol'>"
    "<!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
    "<!ENTITY lol2 '&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;'>"
    "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>"
    "<!ENTITY lol4 '&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;'>"
    "<!ENTITY lol5 '&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;'>"
    "<!ENTITY lol6 '&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;'>"
    "<!ENTITY lol7 '&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;'>"
    "<!ENTITY lol8 '&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;'>"
    "<!ENTITY lol9 '&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;'>"
    "]>"
    "<stream:stream xmlns='jabber:server' "
    "xmlns:stream='http://etherx.jabber.org/streams'>"
    "<message><body>&lol9;</body></message>";

static void test_restricted(void)
{
    check_error(billion_laughs, false, XMLSTREAM_ERR_RESTRICTED_XML);
    /* Refused at the DOCTYPE: no header, no stanza, nothing expanded. */
    rec r;
    rec_init(&r, NULL);
    CHECK(feed(&r, billion_laughs) == -1);
    CHECK_STR(r.log, "X restricted-xml\n");
    xmlstream_free(r.xs);

    check_error("<!DOCTYPE stream:stream SYSTEM 'http://127.0.0.1:1/x.dtd'>"
                "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>",
                false, XMLSTREAM_ERR_RESTRICTED_XML);
    check_error("<message><body>&undefined;</body></message>", true,
                XMLSTREAM_ERR_RESTRICTED_XML);
    check_error("<message to='&undefined;'/>", true, XMLSTREAM_ERR_RESTRICTED_XML);
    check_error("<!-- a comment --><iq/>", true, XMLSTREAM_ERR_RESTRICTED_XML);
    check_error("<iq><!-- inside --></iq>", true, XMLSTREAM_ERR_RESTRICTED_XML);
    check_error("<!-- before the header -->" HEADER, false, XMLSTREAM_ERR_RESTRICTED_XML);
    check_error("<?php echo 1; ?>", true, XMLSTREAM_ERR_RESTRICTED_XML);
    check_error("<iq><?target data?></iq>", true, XMLSTREAM_ERR_RESTRICTED_XML);
}

static void test_malformed(void)
{
    check_error("<iq><query></iq>", true, XMLSTREAM_ERR_NOT_WELL_FORMED);
    check_error("<iq a='1' a='2'/>", true, XMLSTREAM_ERR_NOT_WELL_FORMED);
    check_error("<x:iq/>", true, XMLSTREAM_ERR_NOT_WELL_FORMED); /* unbound prefix */
    check_error("<iq>\xff\xfe</iq>", true, XMLSTREAM_ERR_NOT_WELL_FORMED);
    check_error("</stream:stream2>", true, XMLSTREAM_ERR_NOT_WELL_FORMED);
    check_error("hello<iq/>", true, XMLSTREAM_ERR_BAD_FORMAT);
    check_error("<stream:stream xmlns:stream='jabber:client'>", false,
                XMLSTREAM_ERR_INVALID_NAMESPACE);
    check_error("<stream xmlns='jabber:server'>", false, XMLSTREAM_ERR_INVALID_NAMESPACE);
    check_error("<html><body/></html>", false, XMLSTREAM_ERR_INVALID_NAMESPACE);
    check_error("<stream:features xmlns:stream='http://etherx.jabber.org/streams'>",
                false, XMLSTREAM_ERR_BAD_FORMAT);
}

/* XMPP is UTF-8 only: neither a BOM nor a declaration switches encodings. */
static void test_encoding(void)
{
    static const char utf16[] = "\xfe\xff\0<\0s\0t\0r\0e\0a\0m\0>";
    rec r;
    rec_init(&r, NULL);
    CHECK(xmlstream_feed(r.xs, utf16, sizeof utf16 - 1) == -1);
    CHECK(r.errors == 1 && r.last_error == XMLSTREAM_ERR_NOT_WELL_FORMED);
    xmlstream_free(r.xs);
    /* Latin-1 declared, but the byte is read as (broken) UTF-8. */
    check_error("<?xml version='1.0' encoding='ISO-8859-1'?>"
                "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                "to='caf\xe9'>", false, XMLSTREAM_ERR_NOT_WELL_FORMED);
}

/* Several problems in one chunk still give one on_error. */
static void test_error_once(void)
{
    rec r;
    rec_init(&r, NULL);
    CHECK(feed(&r, HEADER "<iq/><!-- c --><?pi?>&x;</oops>") == -1);
    CHECK(r.errors == 1 && r.last_error == XMLSTREAM_ERR_RESTRICTED_XML);
    CHECK(r.events == 3); /* header, <iq/>, the error */
    CHECK(feed(&r, "<iq/>") == -1);
    CHECK(r.events == 3 && r.errors == 1);
    xmlstream_free(r.xs);
}

static void test_helpers(void)
{
    char *e = xmlstream_escape("a&b<c>d\"e'f");
    CHECK_STR(e, "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    free(e);
    e = xmlstream_escape("");
    CHECK_STR(e, "");
    free(e);
    CHECK_STR(xmlstream_error_condition(XMLSTREAM_ERR_NOT_WELL_FORMED), "not-well-formed");
    CHECK_STR(xmlstream_error_condition(XMLSTREAM_ERR_RESTRICTED_XML), "restricted-xml");
    CHECK_STR(xmlstream_error_condition(XMLSTREAM_ERR_POLICY_VIOLATION), "policy-violation");
    CHECK_STR(xmlstream_error_condition(XMLSTREAM_ERR_INVALID_NAMESPACE), "invalid-namespace");
    CHECK_STR(xmlstream_error_condition(XMLSTREAM_ERR_BAD_FORMAT), "bad-format");
}

/* Between stanzas an idle stream's parser can be released
 * (xmlstream_release) and the next bytes re-create it from the header: the
 * header's namespace prefixes still resolve, the owner hears the header
 * once, and the size limit counts the stanza alone, not the replayed
 * header. */
static void test_dormant(void)
{
    xmlstream_limits lim = {.max_stanza_bytes = 300, .max_depth = 8};
    rec r;
    rec_init(&r, &lim);
    CHECK(!xmlstream_release(r.xs)); /* no header yet */
    CHECK(feed(&r, HEADER) == 0);
    CHECK(!xmlstream_dormant(r.xs));
    CHECK(xmlstream_release(r.xs) && xmlstream_dormant(r.xs));
    CHECK(feed(&r, "<db:result from='op.example' to='le-tlsserver.responder.example'>"
                   "k1</db:result>") == 0);
    CHECK(!xmlstream_dormant(r.xs)); /* re-created by the bytes */
    CHECK(xmlstream_release(r.xs));
    /* 250 bytes: within 300 only if the replayed header is not counted */
    char big[400];
    snprintf(big, sizeof big, "<message to='a@b.example'><body>%0*d</body></message>",
             250 - 49, 0);
    CHECK(strlen(big) == 250);
    CHECK(feed(&r, big) == 0);
    CHECK(xmlstream_release(r.xs));
    /* a keepalive libxml2 has not judged yet goes with the parser */
    CHECK(feed(&r, "<presence from='op.example'/>\n \t") == 0);
    CHECK(xmlstream_release(r.xs));
    CHECK(feed(&r, " \n") == 0 && xmlstream_release(r.xs));
    CHECK(feed(&r, "<db:verify from='op.example' to='le-tlsserver.responder.example' "
                   "id='s'>k2</db:ver") == 0);
    CHECK(!xmlstream_release(r.xs)); /* a stanza half read keeps its parser */
    CHECK(feed(&r, "ify></stream:stream>") == 0);
    CHECK(r.errors == 0);
    CHECK(strstr(r.log, "H to=le-tlsserver.responder.example") == r.log);
    CHECK(strstr(r.log + 1, "H to=") == NULL); /* the header was heard once */
    CHECK(strstr(r.log, "E <db:result xmlns:db=\"jabber:server:dialback\" "
                        "from=\"op.example\"") != NULL);
    CHECK(strstr(r.log, "E <db:verify xmlns:db=\"jabber:server:dialback\"") != NULL);
    CHECK(strstr(r.log, "<body>0000") != NULL);
    CHECK(strstr(r.log, "E <presence xmlns=\"jabber:server\" from=\"op.example\"/>") != NULL);
    CHECK(strstr(r.log, "\nC\n") != NULL);
    xmlstream_free(r.xs);

    /* after a release, an oversized stanza is still refused */
    rec_init(&r, &lim);
    CHECK(feed(&r, HEADER) == 0 && xmlstream_release(r.xs));
    snprintf(big, sizeof big, "<message to='a@b.example'><body>%0*d</body></message>",
             350 - 49, 0);
    CHECK(feed(&r, big) == -1 && r.last_error == XMLSTREAM_ERR_POLICY_VIOLATION);
    xmlstream_free(r.xs);

    /* a released stream's end tag closes it without a parser; anything
     * else, a near miss included, wakes the parser, which judges it */
    rec_init(&r, &lim);
    CHECK(feed(&r, HEADER) == 0 && xmlstream_release(r.xs));
    CHECK(feed(&r, " \n</stream:stream >\n") == 0);
    CHECK(xmlstream_dormant(r.xs) && strstr(r.log, "\nC\n") != NULL && r.errors == 0);
    CHECK(feed(&r, "<presence/>") == 0 && r.errors == 0); /* closed: not read */
    xmlstream_free(r.xs);
    rec_init(&r, &lim);
    CHECK(feed(&r, HEADER) == 0 && xmlstream_release(r.xs));
    CHECK(feed(&r, "</stream:streams>") == -1 && !xmlstream_dormant(r.xs));
    CHECK(r.errors == 1 && strstr(r.log, "\nC\n") == NULL);
    xmlstream_free(r.xs);
    rec_init(&r, &lim);
    CHECK(feed(&r, "<s:stream xmlns:s='http://etherx.jabber.org/streams' "
                   "xmlns='jabber:server' to='a.example' version='1.0'>") == 0);
    CHECK(xmlstream_release(r.xs));
    CHECK(feed(&r, "</stream:stream>") == -1 && r.errors == 1); /* not its name */
    xmlstream_free(r.xs);
    rec_init(&r, &lim);
    CHECK(feed(&r, "<s:stream xmlns:s='http://etherx.jabber.org/streams' "
                   "xmlns='jabber:server' to='a.example' version='1.0'>") == 0);
    CHECK(xmlstream_release(r.xs));
    CHECK(feed(&r, "</s:stream>") == 0 && r.errors == 0 && strstr(r.log, "\nC\n"));
    xmlstream_free(r.xs);

    /* asked inside a callback (a stream that has just authenticated), the
     * release waits for the feed to end, and happens between stanzas only */
    rec_init(&r, &lim);
    r.release_on_header = true;
    CHECK(feed(&r, HEADER) == 0 && xmlstream_dormant(r.xs));
    CHECK(feed(&r, "<presence/>") == 0 && !xmlstream_dormant(r.xs));
    xmlstream_free(r.xs);
    rec_init(&r, &lim);
    r.release_on_header = true;
    CHECK(feed(&r, HEADER "<message to='a@b.example'><bo") == 0);
    CHECK(!xmlstream_dormant(r.xs)); /* mid-stanza: kept */
    r.release_on_header = false;
    CHECK(feed(&r, "dy>x</body></message>") == 0 && strstr(r.log, "<body>x</body>"));
    xmlstream_release_soon(r.xs); /* outside a feed: at once */
    CHECK(xmlstream_dormant(r.xs));
    xmlstream_free(r.xs);
}

/* ---- what one element may hold (issue 21) ---- */

/* n attributes (or namespace declarations) on one element after the
 * header, fed whole and byte by byte: refused past max_attributes, and
 * the refusal names the limit. */
static void check_attributes(unsigned n, bool ns, bool ok)
{
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        xmlstream_limits lim = {.max_attributes = 8, .max_namespaces = 16};
        rec r;
        rec_init(&r, &lim);
        CHECK(feed(&r, HEADER) == 0);
        char s[1024] = "<m";
        for (unsigned i = 0; i < n; i++)
            snprintf(s + strlen(s), sizeof s - strlen(s),
                     ns ? " xmlns:p%u=\"u:%u\"" : " a%u='x\">%u'", i, i);
        strcat(s, "/>");
        int rc = 0;
        if (bytewise)
            for (size_t i = 0; s[i] && rc == 0; i++)
                rc = xmlstream_feed(r.xs, s + i, 1);
        else
            rc = feed(&r, s);
        CHECK(rc == (ok ? 0 : -1));
        CHECK(r.errors == (ok ? 0 : 1));
        CHECK(r.events == 2);
        CHECK(xmlstream_limit_broken(r.xs) ==
              (ok ? XMLSTREAM_LIMIT_NONE : XMLSTREAM_LIMIT_ATTRIBUTES));
        xmlstream_free(r.xs);
    }
}

static void test_attributes(void)
{
    check_attributes(8, false, true);
    check_attributes(9, false, false);
    check_attributes(8, true, true);
    check_attributes(9, true, false);
    /* the header counts too: its 6 and 5 more are over 8 */
    xmlstream_limits lim = {.max_attributes = 8};
    rec r;
    rec_init(&r, &lim);
    CHECK(feed(&r, "<stream:stream xmlns='jabber:server' xmlns:stream="
                   "'http://etherx.jabber.org/streams' to='a' from='b' id='c' version='1.0' "
                   "x1='1' x2='2' x3='3' x4='4' x5='5'>") == -1);
    CHECK(r.events == 1 && xmlstream_limit_broken(r.xs) == XMLSTREAM_LIMIT_ATTRIBUTES);
    xmlstream_free(r.xs);
    /* quotes where no start tag is (text, CDATA, end tags, the XML
     * declaration) count for nothing: 40 of each */
    rec_init(&r, &lim);
    char body[2048] = "<?xml version='1.0' encoding='UTF-8'?>" HEADER;
    strcpy(body, HEADER);
    strcat(body, "<message><body>");
    for (int i = 0; i < 40; i++)
        strcat(body, "'\"");
    strcat(body, "<![CDATA[");
    for (int i = 0; i < 40; i++)
        strcat(body, "<a b='c'>]");
    strcat(body, "]]></body></message>");
    CHECK(feed(&r, body) == 0);
    CHECK(r.errors == 0 && r.events == 2);
    CHECK(strstr(r.log, "''\"'\"") == NULL); /* serialized escaped, but whole */
    xmlstream_free(r.xs);
}

/* Namespace declarations in scope inside one stanza: nested ones add up,
 * siblings' do not. */
static void test_namespaces(void)
{
    xmlstream_limits lim = {.max_namespaces = 4};
    rec r;
    rec_init(&r, &lim);
    CHECK(feed(&r, HEADER) == 0);
    CHECK(feed(&r, "<m xmlns:a='1' xmlns:b='2'><x xmlns:c='3'/><y xmlns:c='3' xmlns:d='4'/>"
                   "<z xmlns:e='5' xmlns:f='6'/></m>") == 0);
    CHECK(r.errors == 0 && r.events == 2);
    CHECK(feed(&r, "<m xmlns:a='1' xmlns:b='2'><x xmlns:c='3'><y xmlns:d='4' xmlns:e='5'/>"
                   "</x></m>") == -1);
    CHECK(xmlstream_limit_broken(r.xs) == XMLSTREAM_LIMIT_NAMESPACES);
    xmlstream_free(r.xs);
}

/* Before authentication: no child elements, but a peer's stream error has
 * its condition and text; afterwards (xmlstream_set_limits) children and a
 * larger size are fine. */
static void test_leaf_stanzas(void)
{
    xmlstream_limits lim = {.max_stanza_bytes = 400, .leaf_stanzas = true};
    rec r;
    rec_init(&r, &lim);
    CHECK(feed(&r, HEADER) == 0);
    CHECK(feed(&r, "<db:result from='a' to='b'>key</db:result><starttls xmlns='"
                   "urn:ietf:params:xml:ns:xmpp-tls'/>") == 0);
    CHECK(r.events == 3 && r.errors == 0);
    CHECK(feed(&r, "<iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>") == -1);
    CHECK(xmlstream_limit_broken(r.xs) == XMLSTREAM_LIMIT_LEAF);
    xmlstream_free(r.xs);

    rec_init(&r, &lim);
    CHECK(feed(&r, HEADER) == 0);
    CHECK(feed(&r, "<stream:error><host-gone xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                   "</stream:error>") == 0);
    CHECK(r.errors == 0 && strstr(r.log, "host-gone"));
    xmlstream_limits authed = {.max_stanza_bytes = 2000};
    xmlstream_set_limits(r.xs, &authed);
    char big[1500] = "<iq type='get'><ping xmlns='urn:xmpp:ping'>";
    memset(big + strlen(big), ' ', 1000);
    big[1043] = '\0';
    strcat(big, "</ping></iq>");
    CHECK(feed(&r, big) == 0);
    CHECK(r.errors == 0 && r.events == 3);
    xmlstream_free(r.xs);
}

/* on_open refuses a top-level element at its start tag: nothing of it, nor
 * anything after it, reaches the owner. */
static int opens;
static bool refuse_iq(void *ud, const xmlChar *name, const xmlChar *ns)
{
    (void)ud;
    opens++;
    CHECK(ns != NULL && strcmp((const char *)ns, "jabber:server") == 0);
    return strcmp((const char *)name, "iq") != 0;
}

static void test_on_open(void)
{
    xmlstream_callbacks cb = callbacks;
    cb.on_open = refuse_iq;
    rec r;
    memset(&r, 0, sizeof r);
    r.xs = xmlstream_new(NULL, &cb, &r);
    opens = 0;
    CHECK(feed(&r, HEADER) == 0);
    CHECK(feed(&r, "<presence/><iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>"
                   "<message/></stream:stream>") == 0);
    CHECK(opens == 2);
    CHECK(r.events == 2 && strstr(r.log, "presence") && !strstr(r.log, "message"));
    CHECK(!strstr(r.log, "\nC\n"));
    CHECK(feed(&r, "<message/>") == 0 && r.events == 2);
    xmlstream_free(r.xs);
}

/* Text in many pieces (entities, character references, CDATA) is one text
 * node with all of it, in order. */
static void test_text_pieces(void)
{
    rec r;
    rec_init(&r, NULL);
    CHECK(feed(&r, HEADER) == 0);
    static const char piece[] = "a&amp;b&#x41;<![CDATA[c]]>";
    char *s = malloc(4000 * (sizeof piece - 1) + 64), *end = s;
    end += sprintf(end, "<message><body>");
    for (int i = 0; i < 4000; i++)
        end += sprintf(end, "%s", piece);
    sprintf(end, "<x/>tail&lt;</body></message>");
    CHECK(feed(&r, s) == 0);
    free(s);
    CHECK(r.errors == 0 && r.events == 2);
    const char *body = strstr(r.log, "<body>");
    CHECK(body && strncmp(body + 6, "a&amp;bAca&amp;bAc", 18) == 0);
    CHECK(strstr(r.log, "a&amp;bAc<x/>tail&lt;</body>") != NULL);
    size_t pieces = 0;
    for (const char *p = body; p && (p = strstr(p, "a&amp;bAc")); p++)
        pieces++;
    CHECK(pieces == 4000);
    xmlstream_free(r.xs);
}

int main(void)
{
    build_stream();
    test_stream_whole();
    test_stream_split();
    test_stream_bytewise();
    test_serialize_child();
    test_header_fields();
    test_restart_in_callback();
    test_restart_outside();
    test_depth();
    test_size();
    test_huge();
    test_keepalives();
    test_restricted();
    test_malformed();
    test_encoding();
    test_error_once();
    test_helpers();
    test_dormant();
    test_attributes();
    test_namespaces();
    test_leaf_stanzas();
    test_on_open();
    test_text_pieces();
    return check_done();
}
