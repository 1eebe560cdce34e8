/* config_internal.h -- what config.c (loading) and config_write.c (the
 * default file) share: the table of limits and the domain-name check. */
#ifndef RS_CONFIG_INTERNAL_H
#define RS_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define DEFAULT_PORT 5269u
#define DEFAULT_HTTP_PORT 5280u
#define DEFAULT_HTTPS_PORT 443u
#define DNS_NAME_MAX 253
#define DNS_LABEL_MAX 63

/* One limit: its key, where it lives in rs_limits, its sane range, its
 * default and the comment the default file gives it. One table serves
 * defaults, validation and rs_config_write_default. */
typedef struct limit_def {
    const char *key;    /* setting name inside limits */
    size_t offset;      /* offsetof(rs_limits, field) */
    bool is_size;       /* field is size_t, else unsigned */
    long long min, max; /* accepted range, inclusive */
    long long def;      /* default */
    const char *why;    /* one-line comment for the written file */
} limit_def;

/* Every limit, in the order the default file lists them. */
extern const limit_def limit_defs[];
extern const size_t n_limit_defs;

/* Why name is not a valid DNS name, or NULL when it is. */
const char *dns_name_problem(const char *name);

#endif
