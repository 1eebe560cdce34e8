/* json.h -- writing JSON text into a growing string; only output, the daemon
 * never parses JSON. Every string is escaped ('<' '>' '&' as \u00XX too, so
 * a document is safe inside HTML; invalid UTF-8 becomes U+FFFD), commas
 * between members are inserted automatically, and j.failed says an
 * allocation failed. Usage: README.md. */
#ifndef RS_JSON_H
#define RS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define RS_JSON_DEPTH 16

typedef struct rs_json {
    rs_buf out;                  /* where the text grows */
    char *text;                  /* the document so far, NUL-terminated
                                    (out's bytes; read only) */
    size_t len;                  /* bytes in text */
    bool failed;                 /* an allocation failed; text is incomplete */
    int depth;                   /* open objects/arrays */
    bool first[RS_JSON_DEPTH];   /* no member written yet at each depth */
    bool after_key;              /* a key was written; its value follows */
} rs_json;

void json_init(rs_json *j);
void json_free(rs_json *j);

void json_obj_begin(rs_json *j);
void json_obj_end(rs_json *j);
void json_arr_begin(rs_json *j);
void json_arr_end(rs_json *j);

/* A member name inside an object; the next value call gives its value. */
void json_key(rs_json *j, const char *key);

/* Values. json_str(NULL) writes null. */
void json_str(rs_json *j, const char *s);
void json_int(rs_json *j, int64_t v);
void json_bool(rs_json *j, bool v);
void json_null(rs_json *j);

/* Shorthands for a member: key then value. Empty strings are kept. */
void json_kv_str(rs_json *j, const char *key, const char *s);
void json_kv_int(rs_json *j, const char *key, int64_t v);
void json_kv_bool(rs_json *j, const char *key, bool v);

#endif
