/* conn_ids.c -- every conn by its id (conn_find), for those that hold an id
 * rather than a pointer (a dialback verdict names the stream that asked):
 * an intrusive chained hash table (rs_conn.id_next) that doubles as conns
 * outnumber its buckets. Ids are handed out in sequence, so their low bits
 * spread them evenly. */
#include "conn_internal.h"

#include <stdlib.h>

#include "daemon.h"

struct conn_ids {
    rs_conn **buckets; /* size chains */
    size_t size;       /* a power of two */
    size_t n;          /* conns indexed */
};

static rs_conn **bucket(const conn_ids *t, unsigned id)
{
    return &t->buckets[id & (t->size - 1)];
}

/* Twice the buckets; without memory the table stays as it is (longer
 * chains, same answers). */
static void conn_ids_grow(conn_ids *t)
{
    size_t size = t->size * 2;
    rs_conn **b = calloc(size, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < t->size; i++)
        for (rs_conn *c = t->buckets[i], *next; c; c = next) {
            next = c->id_next;
            c->id_next = b[c->id & (size - 1)];
            b[c->id & (size - 1)] = c;
        }
    free(t->buckets);
    t->buckets = b;
    t->size = size;
}

int conn__ids_reserve(rs_daemon *srv)
{
    conn_ids *t = srv->ids;
    if (!t) {
        t = calloc(1, sizeof *t);
        rs_conn **b = t ? calloc(256, sizeof *b) : NULL;
        if (!b) {
            free(t);
            return -1;
        }
        t->buckets = b;
        t->size = 256;
        srv->ids = t;
    }
    if (t->n >= t->size)
        conn_ids_grow(t);
    return 0;
}

void conn__ids_add(rs_conn *c)
{
    conn_ids *t = c->srv->ids;
    rs_conn **b = bucket(t, c->id);
    c->id_next = *b;
    *b = c;
    t->n++;
}

void conn__ids_remove(rs_conn *c)
{
    conn_ids *t = c->srv->ids;
    if (!t)
        return;
    for (rs_conn **pp = bucket(t, c->id); *pp; pp = &(*pp)->id_next)
        if (*pp == c) {
            *pp = c->id_next;
            c->id_next = NULL;
            t->n--;
            return;
        }
}

rs_conn *conn_find(const rs_daemon *srv, unsigned id)
{
    const conn_ids *t = srv->ids;
    if (!t)
        return NULL;
    rs_conn *c = *bucket(t, id);
    while (c && c->id != id)
        c = c->id_next;
    return c;
}

void conn__ids_free(rs_daemon *srv)
{
    if (!srv->ids)
        return;
    free(srv->ids->buckets);
    free(srv->ids);
    srv->ids = NULL;
}
