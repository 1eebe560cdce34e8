/* buf.c -- growable byte buffer. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int buf_append(rs_buf *b, const void *data, size_t len, size_t limit)
{
    if (len == 0)
        return 0;
    if (limit && b->len + len > limit)
        return -1;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256; /* most input is one small record */
        while (cap < b->len + len)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
            return -1;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

int buf_terminate(rs_buf *b)
{
    if (buf_append(b, "", 1, 0) < 0)
        return -1;
    b->len--;
    return 0;
}

void buf_consume(rs_buf *b, size_t n)
{
    if (n >= b->len) {
        buf_free(b); /* idle streams keep no storage */
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void buf_free(rs_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_strcatf(char *out, size_t n, const char *fmt, ...)
{
    size_t len = strlen(out);
    if (len + 1 >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + len, n - len, fmt, ap);
    va_end(ap);
}
