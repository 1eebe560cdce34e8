/* errmsg.h -- filling a caller's message buffer: the generators (certs,
 * zones) say what failed in a buffer their caller prints. */
#ifndef RS_ERRMSG_H
#define RS_ERRMSG_H

#include <stddef.h>

/* Format into err (errlen bytes; nothing when NULL or 0) and return -1,
 * so "return errmsg_fail(err, errlen, ...)" reports and fails in one. */
int errmsg_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
