/* fuzz_xmlstream.c -- libFuzzer target for the XML stream layer.
 *
 * The first input byte steers the run: bit 0 prefixes a valid stream header
 * (so the fuzzer spends its time on stanzas), bit 1 calls xmlstream_restart between
 * the two halves, and bits 2-7 choose where the rest of the input is split in
 * two chunks. Elements whose name starts with 'p' (proceed) restart the stream
 * from inside on_element, as STARTTLS does. The callbacks check the contract:
 * one on_error, nothing after on_error or on_close until a restart, and xmlstream_feed
 * returns -1 exactly when an error was reported. Between chunks the parser
 * is released where it may be (xmlstream_release). See README.md to build it.
 */
#include "xmlstream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct fz {
    rs_xmlstream *xs;
    bool errored;  /* on_error seen since the last restart */
    bool closed;   /* on_close seen since the last restart */
} fz;

static void fz_restart(fz *f)
{
    f->errored = false;
    f->closed = false;
    xmlstream_restart(f->xs);
}

/* Any callback after an error or a close breaks the contract. */
static void fz_live(const fz *f)
{
    if (f->errored || f->closed)
        abort();
}

static void on_header(void *ud, const xmlstream_header *h)
{
    fz_live(ud);
    if (strlen(h->to) >= sizeof h->to || strlen(h->id) >= sizeof h->id)
        abort();
}

static void on_element(void *ud, xmlNodePtr el)
{
    fz *f = ud;
    fz_live(f);
    size_t len = 0;
    char *s = xmlstream_serialize(el, &len);
    if (s == NULL || strlen(s) != len)
        abort();
    char *e = xmlstream_escape(s);
    free(e);
    free(s);
    if (el->name[0] == 'p')
        fz_restart(f);
}

static void on_close(void *ud)
{
    fz *f = ud;
    fz_live(f);
    f->closed = true;
}

static void on_error(void *ud, xmlstream_error error, const char *text)
{
    fz *f = ud;
    fz_live(f);
    if (error == XMLSTREAM_ERR_NONE || text == NULL)
        abort();
    f->errored = true;
}

static const char header[] =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
    "xmlns:stream='http://etherx.jabber.org/streams' "
    "xmlns:db='jabber:server:dialback' to='a.example' version='1.0'>";

static void fz_feed(fz *f, const uint8_t *data, size_t len)
{
    bool was_errored = f->errored;
    int rc = xmlstream_feed(f->xs, (const char *)data, len);
    /* -1 exactly when an error has been reported (now or before). */
    if ((rc == -1) != f->errored)
        abort();
    if (was_errored && rc != -1)
        abort();
    /* an idle stream's parser may go back between chunks (the daemon's
     * sweep): the next chunk must find the stream as it was */
    if (xmlstream_release(f->xs) != xmlstream_dormant(f->xs))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned steer = data[0];
    data++;
    size--;
    size_t cut = (size_t)(steer >> 2) * size / 63;

    /* Small limits so that the fuzzer reaches them; the last byte says
     * whether stanzas may have children (after authentication). */
    xmlstream_limits limits = {.max_stanza_bytes = 2048, .max_depth = 6,
                               .max_attributes = 8, .max_namespaces = 6,
                               .leaf_stanzas = size > 0 && (data[size - 1] & 1)};
    xmlstream_callbacks cb = {.on_header = on_header, .on_element = on_element,
                              .on_close = on_close, .on_error = on_error};
    fz f = {0};
    f.xs = xmlstream_new(&limits, &cb, &f);
    if (f.xs == NULL)
        return 0;
    if (steer & 1)
        fz_feed(&f, (const uint8_t *)header, sizeof header - 1);
    fz_feed(&f, data, cut);
    if (steer & 2)
        fz_restart(&f);
    fz_feed(&f, data + cut, size - cut);
    xmlstream_free(f.xs);
    return 0;
}
