/* log.c -- timestamped, sanitised log lines on stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "ratelimit.h"

#define BUDGET_SLOTS 4096 /* keys the line budgets track */
#define BUDGET_PEER 0     /* ratelimit_hit kinds: a peer's lines */
#define BUDGET_ONCE 1     /*               one line a minute */

static log_level min_level = RS_LOG_INFO;
static rs_ratelimit_table *budgets;          /* lines per key this minute */
static unsigned peer_per_minute = 1200; /* limits.log_per_minute */
static uint64_t suppressed;        /* lines the peer budget dropped */

static const char *level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void log_set_level(log_level level)
{
    min_level = level;
}

int log_enabled(log_level level)
{
    return level >= min_level;
}

void log_set_buffered(void)
{
    static char buf[1 << 16];
    setvbuf(stderr, buf, _IOFBF, sizeof buf);
}

void log_flush(void)
{
    fflush(stderr);
}

void log_msg(log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_prefixed(level, "", fmt, ap);
    va_end(ap);
}

void log_prefixed(log_level level, const char *prefix, const char *fmt,
                  va_list ap)
{
    if (level < min_level)
        return;
    char line[2048];
    int n = snprintf(line, sizeof line, "%s", prefix);
    if (n >= 0 && (size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';

    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %-5s %s\n", stamp, now.tv_nsec / 1000000,
            level_names[level], line);
}

void log_set_peer_limit(unsigned per_minute)
{
    peer_per_minute = per_minute;
}

/* The verdict for one more line of kind about key; allowed when the table
 * cannot be had (log rather than lose). */
static ratelimit_verdict budget_hit(const char *key, unsigned kind, unsigned limit)
{
    if (!budgets && !(budgets = ratelimit_new(BUDGET_SLOTS)))
        return (ratelimit_verdict){.allowed = true};
    return ratelimit_hit(budgets, key, kind, limit, (int64_t)time(NULL), 60);
}

bool log_peer_allowed(const char *key)
{
    ratelimit_verdict v = budget_hit(key, BUDGET_PEER, peer_per_minute);
    if (v.suppressed)
        log_msg(RS_LOG_WARN, "peer %s event=log-suppressed %llu similar lines "
               "suppressed (limits.log_per_minute = %u)", key,
               (unsigned long long)v.suppressed, peer_per_minute);
    if (v.first_refusal)
        log_msg(RS_LOG_WARN, "peer %s event=log-suppressed more than %u lines "
               "this minute; the rest are counted, not logged", key,
               peer_per_minute);
    if (!v.allowed)
        suppressed++;
    return v.allowed;
}

bool log_once_a_minute(const char *key, uint64_t *unlogged)
{
    ratelimit_verdict v = budget_hit(key, BUDGET_ONCE, 1);
    *unlogged = v.suppressed;
    return v.allowed;
}

uint64_t log_suppressed(void)
{
    return suppressed;
}

void log_limits_free(void)
{
    ratelimit_free(budgets);
    budgets = NULL;
}
