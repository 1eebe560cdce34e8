/* buf.h -- a growable byte buffer with a hard cap. */
#ifndef RS_BUF_H
#define RS_BUF_H

#include <stddef.h>

typedef struct rs_buf {
    char *data; /* bytes, not NUL-terminated */
    size_t len; /* bytes in use */
    size_t cap; /* bytes allocated */
} rs_buf;

/* Append len bytes. -1 when allocation fails or len would exceed limit
 * (0 = no limit); the buffer is unchanged then. */
int buf_append(rs_buf *b, const void *data, size_t len, size_t limit);

/* Keep a NUL after the bytes in use (not counted in len), so data can be
 * read as a string. -1 when allocation fails. */
int buf_terminate(rs_buf *b);

/* Drop the first n bytes; an emptied buffer gives its storage back. */
void buf_consume(rs_buf *b, size_t n);

/* Release the storage. */
void buf_free(rs_buf *b);

/* Append printf-formatted text to the NUL-terminated string in out (n bytes
 * in all), truncating what does not fit. For fixed-size texts such as a
 * report's explanations. */
void buf_strcatf(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
