/* json.c -- JSON text output (see json.h). */
#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

void json_init(rs_json *j)
{
    memset(j, 0, sizeof *j);
}

void json_free(rs_json *j)
{
    buf_free(&j->out);
    memset(j, 0, sizeof *j);
}

static void put(rs_json *j, const char *s, size_t n)
{
    if (j->failed)
        return;
    if (buf_append(&j->out, s, n, 0) < 0 || buf_terminate(&j->out) < 0) {
        j->failed = true;
        return;
    }
    j->text = j->out.data;
    j->len = j->out.len;
}

static void puts_(rs_json *j, const char *s)
{
    put(j, s, strlen(s));
}

/* Before any value or key: the comma that separates it from the previous. */
static void separate(rs_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth > 0) {
        if (!j->first[j->depth - 1])
            put(j, ",", 1);
        j->first[j->depth - 1] = false;
    }
}

static void open_(rs_json *j, char c)
{
    separate(j);
    put(j, &c, 1);
    if (j->depth < RS_JSON_DEPTH)
        j->first[j->depth] = true;
    else
        j->failed = true; /* deeper than we ever write: a bug, not data */
    j->depth++;
}

static void close_(rs_json *j, char c)
{
    if (j->depth > 0)
        j->depth--;
    put(j, &c, 1);
}

void json_obj_begin(rs_json *j) { open_(j, '{'); }
void json_obj_end(rs_json *j) { close_(j, '}'); }
void json_arr_begin(rs_json *j) { open_(j, '['); }
void json_arr_end(rs_json *j) { close_(j, ']'); }

static void string_(rs_json *j, const char *s)
{
    put(j, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(j, esc, 2);
            p++;
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(j, esc, 6);
            p++;
        } else if (c < 0x80) {
            put(j, (const char *)p, 1);
            p++;
        } else {
            size_t n = utf8_char_len(p, strnlen((const char *)p, 4));
            if (n) {
                put(j, (const char *)p, n);
                p += n;
            } else {
                puts_(j, "\\ufffd");
                p++;
            }
        }
    }
    put(j, "\"", 1);
}

void json_key(rs_json *j, const char *key)
{
    separate(j);
    string_(j, key);
    put(j, ":", 1);
    j->after_key = true;
}

void json_str(rs_json *j, const char *s)
{
    separate(j);
    if (s)
        string_(j, s);
    else
        puts_(j, "null");
}

void json_int(rs_json *j, int64_t v)
{
    char buf[32];
    separate(j);
    snprintf(buf, sizeof buf, "%" PRId64, v);
    puts_(j, buf);
}

void json_bool(rs_json *j, bool v)
{
    separate(j);
    puts_(j, v ? "true" : "false");
}

void json_null(rs_json *j)
{
    separate(j);
    puts_(j, "null");
}

void json_kv_str(rs_json *j, const char *key, const char *s)
{
    json_key(j, key);
    json_str(j, s);
}

void json_kv_int(rs_json *j, const char *key, int64_t v)
{
    json_key(j, key);
    json_int(j, v);
}

void json_kv_bool(rs_json *j, const char *key, bool v)
{
    json_key(j, key);
    json_bool(j, v);
}
