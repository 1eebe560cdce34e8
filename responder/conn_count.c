/* conn_count.c -- the stream table's counters, kept as streams change state
 * so that admission (admission.h) decides in constant time however many
 * streams are open: live inbound streams, the unauthenticated among them,
 * and per address (rs_conn.peer_key) in a chained hash table that grows
 * with the number of addresses.
 *
 * The eviction victim (conn_eviction_victim) is kept ready too: each address
 * lists its evictable streams (live inbound, unauthenticated) oldest first,
 * and a binary heap orders the addresses that have any by (most streams,
 * then lowest id of their oldest evictable stream), the order in which the
 * walk over all streams used to choose. Counts change by one at a time, so
 * each change moves one address O(log addresses) in the heap; the choice
 * itself reads the heap's top. */
#include "conn_internal.h"

#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define NOT_IN_HEAP ((size_t)-1)

/* Live inbound streams from one address. */
typedef struct addr_entry {
    struct addr_entry *next; /* in its bucket */
    unsigned streams;        /* > 0 while listed */
    rs_conn *oldest;         /* its evictable streams by id, through
                                rs_conn.evict_next; NULL when none */
    rs_conn *newest;         /* the last of them */
    size_t heap_at;          /* its index in conn_addrs.heap, or NOT_IN_HEAP
                                (exactly when it has no evictable stream) */
    char key[64];            /* rs_conn.peer_key */
} addr_entry;

struct conn_addrs {
    addr_entry **buckets; /* size entries */
    size_t size;          /* a power of two */
    size_t n;             /* entries */
    addr_entry **heap;    /* addresses with an evictable stream, best first
                             (heap order, see ahead) */
    size_t heap_n;        /* in the heap */
    size_t heap_cap;      /* room for; kept >= n so that adding to the heap
                             never allocates */
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

/* Room in the heap for one more address; -1 out of memory. */
static int heap_reserve(conn_addrs *t)
{
    if (t->n < t->heap_cap)
        return 0;
    size_t cap = t->heap_cap ? t->heap_cap * 2 : 256;
    addr_entry **h = realloc(t->heap, cap * sizeof *h);
    if (!h)
        return -1;
    t->heap = h;
    t->heap_cap = cap;
    return 0;
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
    if (!create || heap_reserve(t) < 0)
        return NULL;
    addr_entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    snprintf(e->key, sizeof e->key, "%s", key);
    e->heap_at = NOT_IN_HEAP;
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

/* ---- the victim heap ---------------------------------------------------- */

/* Whether stream a (of an address with na streams) goes before b (nb): the
 * rule eviction keeps, most streams first, then the oldest (lowest id). */
static bool before(unsigned na, const rs_conn *a, unsigned nb, const rs_conn *b)
{
    return na > nb || (na == nb && a->id < b->id);
}

static bool ahead(const addr_entry *a, const addr_entry *b)
{
    return before(a->streams, a->oldest, b->streams, b->oldest);
}

static void heap_put(conn_addrs *t, size_t i, addr_entry *e)
{
    t->heap[i] = e;
    e->heap_at = i;
}

/* e at i may be out of place since its key changed: move it up or down. */
static void heap_fix(conn_addrs *t, size_t i)
{
    addr_entry *e = t->heap[i];
    while (i > 0 && ahead(e, t->heap[(i - 1) / 2])) {
        heap_put(t, i, t->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, best = i;
        addr_entry *b = e;
        if (l < t->heap_n && ahead(t->heap[l], b))
            b = t->heap[best = l];
        if (l + 1 < t->heap_n && ahead(t->heap[l + 1], b))
            b = t->heap[best = l + 1];
        if (best == i)
            break;
        heap_put(t, i, b);
        i = best;
    }
    heap_put(t, i, e);
}

/* e's streams or its list changed: in the heap exactly when it has an
 * evictable stream, and in its place. */
static void settle(conn_addrs *t, addr_entry *e)
{
    if (!e->oldest) {
        if (e->heap_at == NOT_IN_HEAP)
            return;
        size_t i = e->heap_at;
        e->heap_at = NOT_IN_HEAP;
        addr_entry *last = t->heap[--t->heap_n];
        if (last != e) {
            heap_put(t, i, last);
            heap_fix(t, i);
        }
        return;
    }
    if (e->heap_at == NOT_IN_HEAP)
        heap_put(t, t->heap_n++, e); /* heap_cap >= n: room reserved */
    heap_fix(t, e->heap_at);
}

/* c becomes evictable: into e's list by id (new streams are the newest, so
 * the search from the end stops at once). */
static void evictable_add(addr_entry *e, rs_conn *c)
{
    rs_conn *after = e->newest;
    while (after && after->id > c->id)
        after = after->evict_prev;
    c->evict_prev = after;
    c->evict_next = after ? after->evict_next : e->oldest;
    if (c->evict_next)
        c->evict_next->evict_prev = c;
    else
        e->newest = c;
    if (after)
        after->evict_next = c;
    else
        e->oldest = c;
}

static void evictable_remove(addr_entry *e, rs_conn *c)
{
    if (c->evict_prev)
        c->evict_prev->evict_next = c->evict_next;
    else
        e->oldest = c->evict_next;
    if (c->evict_next)
        c->evict_next->evict_prev = c->evict_prev;
    else
        e->newest = c->evict_prev;
    c->evict_prev = c->evict_next = NULL;
}

/* ---- the contract (conn_internal.h, conn.h) ----------------------------- */

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
    if (!c->authenticated)
        evictable_add(e, c);
    settle(srv->addrs, e);
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
    if (!e)
        return;
    if (!c->authenticated)
        evictable_remove(e, c);
    e->streams--;
    settle(srv->addrs, e);
    if (e->streams == 0)
        drop(srv->addrs, c->peer_key);
}

void conn_count_authenticated(rs_conn *c)
{
    if (!c->counted_in || c->authenticated)
        return;
    rs_daemon *srv = c->srv;
    srv->unauth_in--;
    addr_entry *e = lookup(srv->addrs, c->peer_key, false);
    if (!e)
        return;
    evictable_remove(e, c);
    settle(srv->addrs, e);
}

unsigned conn_streams_from(const rs_daemon *srv, const char *peer_key)
{
    if (!srv->addrs)
        return 0;
    addr_entry *e = lookup(srv->addrs, peer_key, false);
    return e ? e->streams : 0;
}

rs_conn *conn_eviction_victim(const rs_daemon *srv, const rs_conn *except)
{
    const conn_addrs *t = srv->addrs;
    if (!t || !t->heap_n)
        return NULL;
    const addr_entry *top = t->heap[0];
    if (top->oldest != except)
        return top->oldest;
    /* except is out: the next of top's streams, or the best of the heap's
     * second rank (top's children), whichever goes first */
    rs_conn *best = except->evict_next;
    unsigned most = top->streams;
    for (size_t i = 1; i <= 2 && i < t->heap_n; i++) {
        const addr_entry *e = t->heap[i];
        if (!best || before(e->streams, e->oldest, most, best)) {
            best = e->oldest;
            most = e->streams;
        }
    }
    return best;
}

void conn_addrs_free(rs_daemon *srv)
{
    conn_ids_free(srv);
    conn_addrs *t = srv->addrs;
    if (!t)
        return;
    for (size_t i = 0; i < t->size; i++)
        for (addr_entry *e = t->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    free(t->buckets);
    free(t->heap);
    free(t);
    srv->addrs = NULL;
}
