/* xmlshapes.c -- CPU per MiB of each input shape through the XML stream layer
 * (responder/xml/xmlstream.c: libxml2's push parser and the stanza trees built
 * from it), beside plain text. A hostile peer picks the shape that costs the
 * most per byte; every shape must stay within a small factor of plain text.
 *
 * Each shape is a generator of stanzas no larger than the stanza limit, as
 * a peer would send them, fed in 4 KiB reads like a socket's; the figure is
 * process CPU time (CLOCK_PROCESS_CPUTIME_ID) per MiB fed, over at least
 * --seconds of work per shape. Shapes at a limit are fed at the limit (the
 * worst a peer may send); a shape over a limit is refused, and its figure
 * is what refusing it cost.
 *
 * Beside each, libxml2's own share: the same bytes through a SAX2 push
 * parser whose callbacks do nothing (the floor no tree building can go
 * under).
 *
 * Usage: xmlshapes [--seconds S] [--stanza-bytes N] [--shape NAME]
 * Prints one line per shape and "RESULT shape=ms_per_mib ..." at the end. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>

#include "xmlstream.h"

#define READ_SIZE 4096

typedef struct gen {
    char *buf;  /* the stanza */
    size_t len; /* bytes in it */
    size_t cap; /* its allocation */
} gen;

static void gen_add(gen *g, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(g->buf + g->len, g->cap - g->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            abort();
        if ((size_t)n < g->cap - g->len) {
            g->len += (size_t)n;
            return;
        }
        g->cap = (g->cap + (size_t)n) * 2;
        if (!(g->buf = realloc(g->buf, g->cap)))
            abort();
    }
}

/* Each shape fills g with one stanza of about size bytes. */
typedef void (*shape_fn)(gen *g, size_t size, const xmlstream_limits *l);

static void shape_plain(gen *g, size_t size, const xmlstream_limits *l)
{
    (void)l;
    gen_add(g, "<message to='echo@valid.responder.example' type='chat' id='m1'><body>");
    while (g->len + 64 < size)
        gen_add(g, "The quick brown fox jumps over the lazy dog, again and again. ");
    gen_add(g, "</body></message>");
}

/* One element per stanza, as many attributes as allowed. */
static void shape_attributes(gen *g, size_t size, const xmlstream_limits *l)
{
    (void)size;
    gen_add(g, "<message");
    for (unsigned i = 0; i < l->max_attributes; i++)
        gen_add(g, " a%u='v'", i);
    gen_add(g, "/>");
}

/* Attributes over the limit, in one element as large as a stanza may be:
 * the attack of issue 21 (24,000 attributes). */
static void shape_attributes_over(gen *g, size_t size, const xmlstream_limits *l)
{
    (void)l;
    gen_add(g, "<message");
    for (unsigned i = 0; g->len + 16 < size; i++)
        gen_add(g, " a%u='v'", i);
    gen_add(g, "/>");
}

/* Namespace declarations nested to the in-scope limit, then many small
 * children: each looks its namespace up through all of them. */
static void shape_namespaces(gen *g, size_t size, const xmlstream_limits *l)
{
    unsigned per = l->max_namespaces / 4 ? l->max_namespaces / 4 : 1, open = 0, n = 0;
    gen_add(g, "<message>");
    for (; open < 4 && n + per <= l->max_namespaces; open++) {
        gen_add(g, "<x");
        for (unsigned i = 0; i < per; i++, n++)
            gen_add(g, " xmlns:p%u='urn:x:%u'", n, n);
        gen_add(g, ">");
    }
    while (g->len + 32 < size)
        gen_add(g, "<a/><p0:b/>");
    for (; open > 0; open--)
        gen_add(g, "</x>");
    gen_add(g, "</message>");
}

/* Namespace declarations over the limit in one element. */
static void shape_namespaces_over(gen *g, size_t size, const xmlstream_limits *l)
{
    (void)l;
    gen_add(g, "<message");
    for (unsigned i = 0; g->len + 40 < size; i++)
        gen_add(g, " xmlns:p%u='u%u'", i, i);
    gen_add(g, "/>");
}

/* Prefixed attributes at the limit: each one's namespace is looked up. */
static void shape_prefixed_attributes(gen *g, size_t size, const xmlstream_limits *l)
{
    (void)size;
    gen_add(g, "<message xmlns:p='urn:x'");
    for (unsigned i = 1; i < l->max_attributes; i++)
        gen_add(g, " p:a%u='v'", i);
    gen_add(g, "/>");
}

static void shape_entities(gen *g, size_t size, const xmlstream_limits *l)
{
    (void)l;
    gen_add(g, "<message><body>");
    while (g->len + 32 < size)
        gen_add(g, "&amp;&lt;&gt;&quot;&apos;");
    gen_add(g, "</body></message>");
}

static void shape_charrefs(gen *g, size_t size, const xmlstream_limits *l)
{
    (void)l;
    gen_add(g, "<message><body>");
    while (g->len + 32 < size)
        gen_add(g, "&#65;&#x42;&#x263A;");
    gen_add(g, "</body></message>");
}

/* Text broken into many pieces: text and entities alternating. */
static void shape_text_pieces(gen *g, size_t size, const xmlstream_limits *l)
{
    (void)l;
    gen_add(g, "<message><body>");
    while (g->len + 32 < size)
        gen_add(g, "a&amp;b&lt;c");
    gen_add(g, "</body></message>");
}

static void shape_cdata_pieces(gen *g, size_t size, const xmlstream_limits *l)
{
    (void)l;
    gen_add(g, "<message><body>");
    while (g->len + 32 < size)
        gen_add(g, "a<![CDATA[b]]>");
    gen_add(g, "</body></message>");
}

static void shape_small_elements(gen *g, size_t size, const xmlstream_limits *l)
{
    (void)l;
    gen_add(g, "<message>");
    while (g->len + 32 < size)
        gen_add(g, "<a/>");
    gen_add(g, "</message>");
}

/* Nested to the depth limit, again and again. */
static void shape_deep(gen *g, size_t size, const xmlstream_limits *l)
{
    gen_add(g, "<message>");
    while (g->len + 8 * l->max_depth < size) {
        for (unsigned i = 1; i < l->max_depth; i++)
            gen_add(g, "<a>");
        for (unsigned i = 1; i < l->max_depth; i++)
            gen_add(g, "</a>");
    }
    gen_add(g, "</message>");
}

/* Long element and attribute names. */
static void shape_long_names(gen *g, size_t size, const xmlstream_limits *l)
{
    (void)l;
    size_t name = size / 8 > 8192 ? 8192 : size / 8;
    gen_add(g, "<message>");
    while (g->len + 3 * name + 32 < size) {
        gen_add(g, "<");
        for (size_t i = 0; i < name; i++)
            gen_add(g, "n");
        gen_add(g, " a='v'/>");
    }
    gen_add(g, "</message>");
}

static void shape_long_value(gen *g, size_t size, const xmlstream_limits *l)
{
    (void)l;
    gen_add(g, "<message id='");
    while (g->len + 32 < size)
        gen_add(g, "0123456789abcdef&amp;");
    gen_add(g, "'/>");
}

typedef struct shape {
    const char *name;
    shape_fn fn;
} shape;

static const shape shapes[] = {
    {"plain", shape_plain},
    {"attributes", shape_attributes},
    {"attributes-over", shape_attributes_over},
    {"prefixed-attributes", shape_prefixed_attributes},
    {"namespaces", shape_namespaces},
    {"namespaces-over", shape_namespaces_over},
    {"entities", shape_entities},
    {"charrefs", shape_charrefs},
    {"text-pieces", shape_text_pieces},
    {"cdata-pieces", shape_cdata_pieces},
    {"small-elements", shape_small_elements},
    {"deep", shape_deep},
    {"long-names", shape_long_names},
    {"long-value", shape_long_value},
};

typedef struct run {
    unsigned elements; /* stanzas delivered */
    unsigned errors;   /* streams refused */
    char error[160];   /* the last refusal's reason */
} run;

static void on_element(void *ud, xmlNodePtr el)
{
    (void)el;
    ((run *)ud)->elements++;
}

static void on_error(void *ud, xmlstream_error err, const char *text)
{
    run *r = ud;
    r->errors++;
    snprintf(r->error, sizeof r->error, "%s: %s", xmlstream_error_condition(err), text);
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char header[] =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
    "xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' "
    "to='valid.responder.example' from='peer.example' version='1.0'>";

static void feed(rs_xmlstream *xs, const char *p, size_t n)
{
    for (size_t off = 0; off < n; off += READ_SIZE)
        if (xmlstream_feed(xs, p + off, n - off < READ_SIZE ? n - off : READ_SIZE) < 0)
            return;
}

/* ms of CPU per MiB fed for one shape; *r says what the parser did. */
static double measure(const shape *s, const xmlstream_limits *l, double seconds, run *r,
                      size_t *stanza_len)
{
    gen g = {0};
    s->fn(&g, l->max_stanza_bytes - 64, l);
    *stanza_len = g.len;
    xmlstream_callbacks cb = {.on_element = on_element, .on_error = on_error};
    memset(r, 0, sizeof *r);
    double fed = 0, start = cpu_now(), spent = 0;
    rs_xmlstream *xs = NULL;
    while (spent < seconds) {
        if (xs == NULL || r->errors) {
            /* a refused stream is replaced, as a crowd would */
            xmlstream_free(xs);
            unsigned errors = r->errors;
            xs = xmlstream_new(l, &cb, r);
            if (!xs)
                abort();
            r->errors = 0;
            feed(xs, header, sizeof header - 1);
            r->errors += errors;
        }
        unsigned before = r->errors;
        feed(xs, g.buf, g.len);
        fed += (double)g.len;
        if (r->errors > before)
            xs = (xmlstream_free(xs), NULL), r->errors = before + 1;
        spent = cpu_now() - start;
    }
    xmlstream_free(xs);
    free(g.buf);
    return spent * 1000.0 / (fed / (1024.0 * 1024.0));
}

/* libxml2 alone: the same feeding, callbacks that do nothing. */
static void sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                      const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                      int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    (void)ctx, (void)localname, (void)prefix, (void)uri, (void)nb_namespaces;
    (void)namespaces, (void)nb_attributes, (void)nb_defaulted, (void)attributes;
}

static double measure_floor(const shape *s, const xmlstream_limits *l, double seconds)
{
    gen g = {0};
    s->fn(&g, l->max_stanza_bytes - 64, l);
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = sax_start;
    double fed = 0, start = cpu_now(), spent = 0;
    xmlParserCtxtPtr ctxt = xmlCreatePushParserCtxt(&sax, NULL, header, sizeof header - 1, NULL);
    while (spent < seconds && ctxt) {
        for (size_t off = 0; off < g.len; off += READ_SIZE)
            if (xmlParseChunk(ctxt, g.buf + off,
                              (int)(g.len - off < READ_SIZE ? g.len - off : READ_SIZE), 0))
                break;
        if (ctxt->wellFormed == 0 || ctxt->disableSAX) {
            /* over a limit of libxml2's own, or refused: start again */
            xmlFreeParserCtxt(ctxt);
            ctxt = xmlCreatePushParserCtxt(&sax, NULL, header, sizeof header - 1, NULL);
        }
        fed += (double)g.len;
        spent = cpu_now() - start;
    }
    xmlFreeParserCtxt(ctxt);
    free(g.buf);
    return spent * 1000.0 / (fed / (1024.0 * 1024.0));
}

int main(int argc, char **argv)
{
    double seconds = 0.3;
    const char *only = NULL;
    xmlstream_limits l = {0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--stanza-bytes") && i + 1 < argc)
            l.max_stanza_bytes = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--shape") && i + 1 < argc)
            only = argv[++i];
        else {
            fprintf(stderr, "usage: xmlshapes [--seconds S] [--stanza-bytes N] [--shape NAME]\n");
            return 2;
        }
    }
    xmlstream_limits_default(&l);
    printf("%-20s %9s %10s %8s %10s  %s\n", "shape", "stanza B", "ms/MiB", "x plain",
           "libxml2", "parser");
    double plain = 0;
    char result[2048] = "RESULT";
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        if (only && strcmp(only, shapes[i].name) && strcmp(shapes[i].name, "plain"))
            continue;
        run r;
        size_t len;
        double ms = measure(&shapes[i], &l, seconds, &r, &len);
        double floor = measure_floor(&shapes[i], &l, seconds / 2);
        if (i == 0)
            plain = ms;
        printf("%-20s %9zu %10.2f %8.2f %10.2f  %s\n", shapes[i].name, len, ms, ms / plain,
               floor, r.errors ? r.error : "accepted");
        size_t used = strlen(result);
        snprintf(result + used, sizeof result - used, " %s=%.2f", shapes[i].name, ms);
    }
    puts(result);
    return 0;
}
