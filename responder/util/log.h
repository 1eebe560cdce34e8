/* log.h -- one line per event on stderr: "TIME LEVEL message". Bytes that
 * came from the network are sanitised (control characters become '?') so a
 * peer cannot forge log lines. */
#ifndef RS_LOG_H
#define RS_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
    RS_LOG_DEBUG, /* protocol details, off by default */
    RS_LOG_INFO,  /* one line per event */
    RS_LOG_WARN,  /* something a peer or the config did wrong */
    RS_LOG_ERROR  /* something we could not do */
} log_level;

/* Lines below level are not printed (default RS_LOG_INFO). */
void log_set_level(log_level level);

/* The daemon's lines go to stderr through a buffer that log_flush empties
 * (before the loop waits: conn_flush_start), not one write(2) per line. */
void log_set_buffered(void);
void log_flush(void);

/* true when level would be printed. */
int log_enabled(log_level level);

void log_msg(log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The same with a prefix before the formatted text (e.g. a stream's
 * "s2s-in#3 192.0.2.1:5269 local=.. remote=.. event=.. "). */
void log_prefixed(log_level level, const char *prefix, const char *fmt,
                  va_list ap);

/* The budget of lines about one peer (an address, IPv6 prefix or domain)
 * per minute: limits.log_per_minute, set at start and on reload. */
void log_set_peer_limit(unsigned per_minute);

/* Whether one more line about peer key fits its budget. The first refusal
 * of a minute and, in the next minute, the count of lines suppressed are
 * logged (event=log-suppressed); log_suppressed() counts them all. */
bool log_peer_allowed(const char *key);

/* Whether a line about key (e.g. a listener's failures) may go out this
 * minute: one per minute; *unlogged gets how many were held back since the
 * last one. */
bool log_once_a_minute(const char *key, uint64_t *unlogged);

/* Lines dropped by the peer budget since start. */
uint64_t log_suppressed(void);

/* Release the budget table (shutdown). */
void log_limits_free(void);

#endif
