/* config_internal.h -- what config.c (the sections), config_loader.c (reading
 * libconfig with FILE:LINE problems) and config_write.c (the default file)
 * share: the table of limits, the domain-name check and the loader. */
#ifndef RS_CONFIG_INTERNAL_H
#define RS_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <libconfig.h>

#include "config.h"

#define DEFAULT_PORT 5269u        /* s2s listeners */
#define DEFAULT_CLIENT_PORT 5222u /* c2s listeners (clients = true) */
#define DEFAULT_HTTP_PORT 5280u
#define DEFAULT_HTTPS_PORT 443u
#define DNS_NAME_MAX 253
#define DNS_LABEL_MAX 63

/* One limit: its key, where it lives in config_limits, its sane range, its
 * default and the comment the default file gives it. One table serves
 * defaults, validation and config_write_default. */
typedef struct config_limit_def {
    const char *key;    /* setting name inside limits */
    size_t offset;      /* offsetof(config_limits, field) */
    bool is_size;       /* field is size_t, else unsigned */
    long long min, max; /* accepted range, inclusive */
    long long def;      /* default */
    const char *why;    /* one-line comment for the written file */
} config_limit_def;

/* Every limit, in the order the default file lists them. */
extern const config_limit_def limit_defs[];
extern const size_t n_limit_defs;


/* ---- the loader (config_loader.c) ---- */

/* One collected problem. */
typedef struct config_problem {
    const char *file; /* file it is in (libconfig's or the loader's name) */
    int line;         /* line in that file */
    size_t seq;       /* report order, keeps the sort stable */
    char *text;       /* the message */
    bool note;        /* a note: printed, not counted as a problem */
} config_problem;

/* State of one load. */
typedef struct config_loader {
    const char *name;  /* config name for messages */
    char *base_dir;    /* absolute directory for relative paths */
    config_problem *probs;    /* collected problems */
    size_t n_probs, cap_probs;
    int count;         /* problems found, stored or not */
    bool oom;          /* an allocation failed somewhere */
    rs_config *cfg;    /* what is being filled */
} config_loader;

/* Notes a failed allocation (reported once at the end); returns NULL. */
void *config__oom(config_loader *ld);

/* Line of setting s (the root has none: 1). */
int config__line(const config_setting_t *s);

/* Record a problem at an explicit place, or about setting s. */
void config__report_at(config_loader *ld, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void config__report(config_loader *ld, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A note about setting s ("FILE:LINE: note: message"): printed with the
 * problems, not counted as one (an obsolete key, still accepted). */
void config__note(config_loader *ld, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Print the problems in line order to errs (may be NULL) and release them. */
void config__flush(config_loader *ld, FILE *errs);

/* strdup / lower-case strdup that note a failed allocation. */
char *config__strdup(config_loader *ld, const char *s);
char *config__lower_dup(config_loader *ld, const char *s);

/* "an integer", "a string", ... for type messages. */
const char *config__type_phrase(int type);

/* "'key' WHERE must be WANT, not an integer (42)". */
void config__report_type(config_loader *ld, const config_setting_t *s, const char *where,
                    const char *want);

/* Every member of group must be one of allowed (NULL-terminated). */
void config__check_keys(config_loader *ld, const config_setting_t *group, const char *where,
                   const char *const *allowed);

/* Member key of group as a string; NULL when absent (a problem if
 * required) or of another type. */
const char *config__get_string(config_loader *ld, const config_setting_t *group,
                          const char *key, const char *where, bool required);

/* Member key of group as an integer in min..max; false when absent or bad
 * (a problem unless simply absent). */
bool config__get_int(config_loader *ld, const config_setting_t *group, const char *key,
                const char *where, long long min, long long max,
                long long *out);

/* The list root.key and its length (0: nothing to read); why != NULL makes a
 * missing or empty list a problem. */
unsigned config__get_list(config_loader *ld, const config_setting_t *root, const char *key,
                     const char *why, const char *shape,
                     const config_setting_t **out);

/* Element i of list if it is a group, else NULL and a problem. */
const config_setting_t *config__get_entry(config_loader *ld, const config_setting_t *list,
                                     unsigned i, const char *what,
                                     const char *shape);

/* path resolved against dir (absolute paths stay), normalized; NULL on
 * allocation failure. */
char *config__resolve_path(config_loader *ld, const char *dir, const char *path);

#endif
