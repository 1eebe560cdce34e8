/* conn_count.c -- the stream table's counters, kept as streams change state
 * so that admission (admission.h) decides in constant time however many
 * streams are open: live inbound streams, the unauthenticated among them,
 * and per address (rs_conn.peer_key) in a chained hash table that grows
 * with the number of addresses. */
#include "conn_internal.h"

#include <stdlib.h>
#include <string.h>

#include "daemon.h"

/* Live inbound streams from one address. */
typedef struct addr_entry {
    struct addr_entry *next; /* in its bucket */
    unsigned streams;        /* > 0 while listed */
    char key[64];            /* rs_conn.peer_key */
} addr_entry;

struct conn_addrs {
    addr_entry **buckets; /* size entries */
    size_t size;          /* a power of two */
    size_t n;             /* entries */
};

static size_t hash_key(const char *s)
{
    size_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Twice the buckets once entries outnumber them; without memory the table
 * stays as it is (longer chains, same answers). */
static void grow(conn_addrs *t)
{
    size_t size = t->size ? t->size * 2 : 256;
    addr_entry **b = calloc(size, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < t->size; i++)
        for (addr_entry *e = t->buckets[i], *next; e; e = next) {
            next = e->next;
            size_t j = hash_key(e->key) & (size - 1);
            e->next = b[j];
            b[j] = e;
        }
    free(t->buckets);
    t->buckets = b;
    t->size = size;
}

/* The entry of key: found, or (create) added. NULL when absent or out of
 * memory. */
static addr_entry *lookup(conn_addrs *t, const char *key, bool create)
{
    if (!t->size)
        return NULL;
    addr_entry **pp = &t->buckets[hash_key(key) & (t->size - 1)];
    for (; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->key, key) == 0)
            return *pp;
    if (!create)
        return NULL;
    addr_entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    snprintf(e->key, sizeof e->key, "%s", key);
    *pp = e;
    t->n++;
    return e;
}

static void drop(conn_addrs *t, const char *key)
{
    addr_entry **pp = &t->buckets[hash_key(key) & (t->size - 1)];
    for (; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->key, key) == 0) {
            addr_entry *e = *pp;
            *pp = e->next;
            free(e);
            t->n--;
            return;
        }
}

int conn_count_in(rs_conn *c)
{
    rs_daemon *srv = c->srv;
    if (c->counted_in)
        return 0;
    if (!srv->addrs && !(srv->addrs = calloc(1, sizeof *srv->addrs)))
        return -1;
    if (srv->addrs->n >= srv->addrs->size)
        grow(srv->addrs);
    addr_entry *e = lookup(srv->addrs, c->peer_key, true);
    if (!e)
        return -1;
    e->streams++;
    srv->live_in++;
    srv->unauth_in += !c->authenticated;
    c->counted_in = true;
    return 0;
}

void conn_uncount_in(rs_conn *c)
{
    rs_daemon *srv = c->srv;
    if (!c->counted_in)
        return;
    c->counted_in = false;
    srv->live_in--;
    srv->unauth_in -= !c->authenticated;
    addr_entry *e = lookup(srv->addrs, c->peer_key, false);
    if (e && --e->streams == 0)
        drop(srv->addrs, c->peer_key);
}

unsigned conn_streams_from(const rs_daemon *srv, const char *peer_key)
{
    if (!srv->addrs)
        return 0;
    addr_entry *e = lookup(srv->addrs, peer_key, false);
    return e ? e->streams : 0;
}

void conn_addrs_free(rs_daemon *srv)
{
    conn_addrs *t = srv->addrs;
    if (!t)
        return;
    for (size_t i = 0; i < t->size; i++)
        for (addr_entry *e = t->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    free(t->buckets);
    free(t);
    srv->addrs = NULL;
}
