/* name_index.h -- a hash index from domain names (compared without regard
 * to ASCII case) to positions in an array the caller owns: the configured
 * domains' duplicate check and the daemon's domain lookups, constant time
 * however many domains there are. Keys are borrowed, not copied: they must
 * outlive the index. */
#ifndef RS_NAME_INDEX_H
#define RS_NAME_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define NAME_INDEX_NONE SIZE_MAX /* "not there" */

/* One slot of the open-addressing table. */
typedef struct name_index_slot {
    const char *key; /* the name, NULL = empty */
    size_t pos;      /* its position in the caller's array */
} name_index_slot;

/* The index: a power-of-two table at most half full. */
typedef struct rs_name_index {
    name_index_slot *slots; /* cap entries */
    size_t cap;       /* 0 = not initialised */
} rs_name_index;

/* Room for n names. 0, or -1 out of memory. */
int name_index_init(rs_name_index *x, size_t n);

/* Add key at pos unless an equal name is there: returns NAME_INDEX_NONE
 * when added, else the position of the name already there. Never more than
 * the n names given to init. */
size_t name_index_add(rs_name_index *x, const char *key, size_t pos);

/* The position of name, or NAME_INDEX_NONE. */
size_t name_index_find(const rs_name_index *x, const char *name);

void name_index_free(rs_name_index *x);

#endif
