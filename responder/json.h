/* json.h -- writing JSON text into a growing string. Only output: the daemon
 * never parses JSON. Every string is escaped (quotes, backslash, control
 * characters, and '<' '>' '&' as \u00XX so a JSON document is also safe to
 * embed in HTML); invalid UTF-8 bytes become U+FFFD.
 *
 * Usage:
 *   rs_json j; rs_json_init(&j);
 *   rs_json_obj_begin(&j);
 *   rs_json_key(&j, "name"); rs_json_str(&j, peer_name);
 *   rs_json_obj_end(&j);
 *   if (j.failed) ... else use j.text (j.len bytes, NUL-terminated);
 *   rs_json_free(&j);
 * Commas between members and elements are inserted automatically.
 */
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

void rs_json_init(rs_json *j);
void rs_json_free(rs_json *j);

void rs_json_obj_begin(rs_json *j);
void rs_json_obj_end(rs_json *j);
void rs_json_arr_begin(rs_json *j);
void rs_json_arr_end(rs_json *j);

/* A member name inside an object; the next value call gives its value. */
void rs_json_key(rs_json *j, const char *key);

/* Values. rs_json_str(NULL) writes null. */
void rs_json_str(rs_json *j, const char *s);
void rs_json_int(rs_json *j, int64_t v);
void rs_json_bool(rs_json *j, bool v);
void rs_json_null(rs_json *j);

/* Shorthands for a member: key then value. Empty strings are kept. */
void rs_json_kv_str(rs_json *j, const char *key, const char *s);
void rs_json_kv_int(rs_json *j, const char *key, int64_t v);
void rs_json_kv_bool(rs_json *j, const char *key, bool v);

#endif
