/* name_index.c -- open addressing with linear probing over FNV-1a of the
 * lower-cased name (name_index.h). */
#include "name_index.h"

#include <stdlib.h>
#include <strings.h>

static size_t hash_name(const char *s)
{
    uint64_t h = 14695981039346656037u;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 1099511628211u;
    }
    return (size_t)h;
}

int name_index_init(rs_name_index *x, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap <<= 1;
    x->slots = calloc(cap, sizeof *x->slots);
    x->cap = x->slots ? cap : 0;
    return x->slots ? 0 : -1;
}

/* The slot holding name, or the empty one where it would go. */
static name_index_slot *probe(const rs_name_index *x, const char *name)
{
    size_t i = hash_name(name) & (x->cap - 1);
    while (x->slots[i].key && strcasecmp(x->slots[i].key, name) != 0)
        i = (i + 1) & (x->cap - 1);
    return &x->slots[i];
}

size_t name_index_add(rs_name_index *x, const char *key, size_t pos)
{
    name_index_slot *s = probe(x, key);
    if (s->key)
        return s->pos;
    s->key = key;
    s->pos = pos;
    return NAME_INDEX_NONE;
}

size_t name_index_find(const rs_name_index *x, const char *name)
{
    if (!x->cap)
        return NAME_INDEX_NONE;
    const name_index_slot *s = probe(x, name);
    return s->key ? s->pos : NAME_INDEX_NONE;
}

void name_index_free(rs_name_index *x)
{
    free(x->slots);
    x->slots = NULL;
    x->cap = 0;
}
