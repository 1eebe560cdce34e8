/* conn_count.c -- the stream pools' counters, kept as streams change state
 * so that admission (admission.h) decides in constant time however many
 * streams are open: per pool (servers, clients; rs_daemon.pools) live
 * inbound streams, the unsettled among them, and per address
 * (rs_conn.peer_key) in a chained hash table that grows with the number of
 * addresses.
 *
 * The eviction victim (conn_eviction_victim) is kept ready too. Evictable
 * streams are in ranks: unsettled (servers not authenticated, clients not
 * bound) by id, bound clients by last activity. Each address lists its
 * streams of each rank in that order, and a binary heap per rank orders the
 * addresses that have any by (most streams, then the lowest key of their
 * first stream), the order in which the walk over all streams used to
 * choose; the victim is of the address holding the most, its unsettled
 * streams first. Counts change by one at a time
 * and activity makes a stream the last of its list, so each change moves
 * one address O(log addresses) in a heap; the choice itself reads a heap's
 * top. */
#include "conn_internal.h"

#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define NOT_IN_HEAP ((size_t)-1)

/* The ranks of eviction within a pool, the first to go first. */
enum {
    RANK_UNSETTLED, /* servers not authenticated, clients not bound; by id */
    RANK_BOUND,     /* clients bound; by last activity */
    RANKS
};

/* One address's streams of one rank. */
typedef struct addr_rank {
    rs_conn *first;  /* by evict_key, through rs_conn.evict_next; NULL when
                        none */
    rs_conn *last;   /* the last of them */
    size_t heap_at;  /* the address's index in that rank's heap, or
                        NOT_IN_HEAP (exactly when it has none) */
} addr_rank;

/* Live inbound streams of one pool from one address. */
typedef struct addr_entry {
    struct addr_entry *next; /* in its bucket */
    unsigned streams;        /* > 0 while listed */
    addr_rank rank[RANKS];   /* its evictable streams, by rank */
    char key[64];            /* rs_conn.peer_key */
} addr_entry;

/* The addresses with a stream of one rank, best victim first (heap order,
 * see ahead). */
typedef struct rank_heap {
    addr_entry **at;  /* heap_cap entries */
    size_t n;         /* in the heap */
} rank_heap;

struct conn_addrs {
    addr_entry **buckets; /* size entries */
    size_t size;          /* a power of two */
    size_t n;             /* entries */
    rank_heap heap[RANKS]; /* per rank */
    size_t heap_cap;      /* room in each heap; kept >= n so that adding
                             to a heap never allocates */
    uint64_t activity;    /* the last evict_key given for activity: keys
                             conn_count_grow, so a list appended to stays in order */
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
static void conn_count_grow(conn_addrs *t)
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

/* Room in the heaps for one more address; -1 out of memory. */
static int heap_reserve(conn_addrs *t)
{
    if (t->n < t->heap_cap)
        return 0;
    size_t cap = t->heap_cap ? t->heap_cap * 2 : 256;
    for (int r = 0; r < RANKS; r++) {
        addr_entry **h = realloc(t->heap[r].at, cap * sizeof *h);
        if (!h)
            return -1; /* the heaps grown so far keep their room */
        t->heap[r].at = h;
    }
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
    for (int r = 0; r < RANKS; r++)
        e->rank[r].heap_at = NOT_IN_HEAP;
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

/* ---- the victim heaps -------------------------------------------------- */

/* Whether stream a (of an address with na streams) goes before b (nb): the
 * rule eviction keeps, most streams first, then the lowest key (the oldest,
 * or the longest idle). */
static bool before(unsigned na, const rs_conn *a, unsigned nb, const rs_conn *b)
{
    return na > nb || (na == nb && a->evict_key < b->evict_key);
}

static bool ahead(const addr_entry *a, const addr_entry *b, int r)
{
    return before(a->streams, a->rank[r].first, b->streams, b->rank[r].first);
}

static void heap_put(rank_heap *h, int r, size_t i, addr_entry *e)
{
    h->at[i] = e;
    e->rank[r].heap_at = i;
}

/* e at i of rank r's heap may be out of place since its key changed: move
 * it up or down. */
static void heap_fix(conn_addrs *t, int r, size_t i)
{
    rank_heap *h = &t->heap[r];
    addr_entry *e = h->at[i];
    while (i > 0 && ahead(e, h->at[(i - 1) / 2], r)) {
        heap_put(h, r, i, h->at[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, best = i;
        addr_entry *b = e;
        if (l < h->n && ahead(h->at[l], b, r))
            b = h->at[best = l];
        if (l + 1 < h->n && ahead(h->at[l + 1], b, r))
            b = h->at[best = l + 1];
        if (best == i)
            break;
        heap_put(h, r, i, b);
        i = best;
    }
    heap_put(h, r, i, e);
}

/* e's streams or its list of rank r changed: in that heap exactly when it
 * has a stream of the rank, and in its place. */
static void settle_rank(conn_addrs *t, addr_entry *e, int r)
{
    rank_heap *h = &t->heap[r];
    addr_rank *er = &e->rank[r];
    if (!er->first) {
        if (er->heap_at == NOT_IN_HEAP)
            return;
        size_t i = er->heap_at;
        er->heap_at = NOT_IN_HEAP;
        addr_entry *last = h->at[--h->n];
        if (last != e) {
            heap_put(h, r, i, last);
            heap_fix(t, r, i);
        }
        return;
    }
    if (er->heap_at == NOT_IN_HEAP)
        heap_put(h, r, h->n++, e); /* heap_cap >= n: room reserved */
    heap_fix(t, r, er->heap_at);
}

/* e's stream count changed: its place in every heap it is in. */
static void settle(conn_addrs *t, addr_entry *e)
{
    for (int r = 0; r < RANKS; r++)
        settle_rank(t, e, r);
}

/* c becomes evictable in rank r with its evict_key: into e's list in key
 * order (keys given now are the largest, so the search from the end stops
 * at once). */
static void evictable_add(addr_entry *e, int r, rs_conn *c)
{
    addr_rank *er = &e->rank[r];
    rs_conn *after = er->last;
    while (after && after->evict_key > c->evict_key)
        after = after->evict_prev;
    c->evict_prev = after;
    c->evict_next = after ? after->evict_next : er->first;
    if (c->evict_next)
        c->evict_next->evict_prev = c;
    else
        er->last = c;
    if (after)
        after->evict_next = c;
    else
        er->first = c;
    c->evict_rank = r;
}

static void evictable_remove(addr_entry *e, rs_conn *c)
{
    addr_rank *er = &e->rank[c->evict_rank];
    if (c->evict_prev)
        c->evict_prev->evict_next = c->evict_next;
    else
        er->first = c->evict_next;
    if (c->evict_next)
        c->evict_next->evict_prev = c->evict_prev;
    else
        er->last = c->evict_prev;
    c->evict_prev = c->evict_next = NULL;
    c->evict_rank = -1;
}

/* c's place: unsettled first, then (clients) bound; authenticated servers
 * are never evicted. */
static int rank_of(const rs_conn *c)
{
    if (c->client)
        return c->bound ? RANK_BOUND : RANK_UNSETTLED;
    return c->authenticated ? -1 : RANK_UNSETTLED;
}

/* ---- the contract (conn_internal.h, conn.h) ----------------------------- */

daemon_pool_kind conn_pool(const rs_conn *c)
{
    return c->client ? RS_POOL_CLIENTS : RS_POOL_SERVERS;
}

int conn__count_in(rs_conn *c)
{
    daemon_pool *p = &c->srv->pools[conn_pool(c)];
    if (c->counted_in)
        return 0;
    if (!p->addrs && !(p->addrs = calloc(1, sizeof *p->addrs)))
        return -1;
    if (p->addrs->n >= p->addrs->size)
        conn_count_grow(p->addrs);
    addr_entry *e = lookup(p->addrs, c->peer_key, true);
    if (!e)
        return -1;
    e->streams++;
    p->live_in++;
    c->counted_in = true;
    int r = rank_of(c);
    p->unsettled += r == RANK_UNSETTLED;
    c->evict_rank = -1;
    if (r >= 0) {
        c->evict_key = r == RANK_UNSETTLED ? c->id : ++p->addrs->activity;
        evictable_add(e, r, c);
    }
    settle(p->addrs, e);
    return 0;
}

void conn__uncount_in(rs_conn *c)
{
    if (!c->counted_in)
        return;
    daemon_pool *p = &c->srv->pools[conn_pool(c)];
    c->counted_in = false;
    p->live_in--;
    p->unsettled -= c->evict_rank == RANK_UNSETTLED;
    addr_entry *e = lookup(p->addrs, c->peer_key, false);
    if (!e)
        return;
    if (c->evict_rank >= 0)
        evictable_remove(e, c);
    e->streams--;
    settle(p->addrs, e);
    if (e->streams == 0)
        drop(p->addrs, c->peer_key);
}

/* c, counted, leaves its rank for rank r (-1: none), where it is listed by
 * key (the largest yet: the last of its list). */
static void move_rank(rs_conn *c, int r, uint64_t key)
{
    daemon_pool *p = &c->srv->pools[conn_pool(c)];
    addr_entry *e = lookup(p->addrs, c->peer_key, false);
    if (!e)
        return;
    p->unsettled -= c->evict_rank == RANK_UNSETTLED;
    int was = c->evict_rank;
    if (was >= 0)
        evictable_remove(e, c);
    if (r >= 0) {
        c->evict_key = key;
        evictable_add(e, r, c);
    }
    if (was >= 0 && was != r)
        settle_rank(p->addrs, e, was);
    if (r >= 0)
        settle_rank(p->addrs, e, r);
}

void conn__count_authenticated(rs_conn *c)
{
    if (c->counted_in && !c->client && c->evict_rank == RANK_UNSETTLED)
        move_rank(c, -1, 0);
}

void conn__count_bound(rs_conn *c)
{
    if (c->counted_in && c->client && c->evict_rank == RANK_UNSETTLED)
        move_rank(c, RANK_BOUND, ++c->srv->pools[RS_POOL_CLIENTS].addrs->activity);
}

void conn__count_active(rs_conn *c)
{
    if (c->counted_in && c->evict_rank == RANK_BOUND)
        move_rank(c, RANK_BOUND, ++c->srv->pools[RS_POOL_CLIENTS].addrs->activity);
}

unsigned conn_streams_from(const rs_daemon *srv, daemon_pool_kind pool,
                           const char *peer_key)
{
    conn_addrs *t = srv->pools[pool].addrs;
    if (!t)
        return 0;
    addr_entry *e = lookup(t, peer_key, false);
    return e ? e->streams : 0;
}

/* The first of rank r's heap in eviction order, never except; NULL when
 * there is none. *streams gets its address's streams. */
static rs_conn *rank_victim(const conn_addrs *t, int r, const rs_conn *except,
                            unsigned *streams)
{
    const rank_heap *h = &t->heap[r];
    *streams = 0;
    if (!h->n)
        return NULL;
    const addr_entry *top = h->at[0];
    *streams = top->streams;
    if (top->rank[r].first != except)
        return top->rank[r].first;
    /* except is out: the next of top's streams, or the best of the heap's
     * second rank (top's children), whichever goes first */
    rs_conn *best = except->evict_next;
    unsigned most = top->streams;
    for (size_t i = 1; i <= 2 && i < h->n; i++) {
        const addr_entry *e = h->at[i];
        if (!best || before(e->streams, e->rank[r].first, most, best)) {
            best = e->rank[r].first;
            most = e->streams;
        }
    }
    *streams = best ? most : 0;
    return best;
}

rs_conn *conn_eviction_victim(const rs_daemon *srv, daemon_pool_kind pool,
                              const rs_conn *except)
{
    const conn_addrs *t = srv->pools[pool].addrs;
    if (!t)
        return NULL;
    unsigned nu, nb;
    rs_conn *u = rank_victim(t, RANK_UNSETTLED, except, &nu);
    rs_conn *b = rank_victim(t, RANK_BOUND, except, &nb);
    /* the address holding the most goes first, its unsettled streams
     * before its sessions: a crowd's bound sessions give way before an
     * honest client that is still logging in (an address whose bound
     * sessions hold more than every address with an unsettled stream has
     * none unsettled itself) */
    return b && nb > nu ? b : u;
}

void conn_addrs_free(rs_daemon *srv)
{
    conn__ids_free(srv);
    for (int k = 0; k < RS_POOLS; k++) {
        conn_addrs *t = srv->pools[k].addrs;
        if (!t)
            continue;
        for (size_t i = 0; i < t->size; i++)
            for (addr_entry *e = t->buckets[i], *next; e; e = next) {
                next = e->next;
                free(e);
            }
        free(t->buckets);
        for (int r = 0; r < RANKS; r++)
            free(t->heap[r].at);
        free(t);
        srv->pools[k].addrs = NULL;
    }
}
