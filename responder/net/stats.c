/* stats.c -- names of counter indexes and the stream table of a snapshot. */
#include "stats.h"

#include <stdio.h>
#include <string.h>

static const char *const service_names[RS_SVC_COUNT] = {
    [RS_SVC_PING] = "ping", [RS_SVC_DISCO] = "disco",
    [RS_SVC_VERSION] = "version", [RS_SVC_ECHO] = "echo",
    [RS_SVC_PRESENCE] = "presence"};

const char *stats_service_name(unsigned svc)
{
    return svc < RS_SVC_COUNT ? service_names[svc] : "?";
}

static const char *const input_limit_names[RS_INPUT_LIMITS] = {
    [RS_INPUT_STANZA_BYTES] = "max_stanza_bytes",
    [RS_INPUT_UNAUTH_STANZA_BYTES] = "max_unauth_stanza_bytes",
    [RS_INPUT_DEPTH] = "max_depth", [RS_INPUT_ATTRIBUTES] = "max_attributes",
    [RS_INPUT_NAMESPACES] = "max_namespaces",
    [RS_INPUT_UNAUTH_CHILDREN] = "children_before_auth"};

const char *stats_input_limit_name(unsigned limit)
{
    return limit < RS_INPUT_LIMITS ? input_limit_names[limit] : "?";
}

/* The row of (dir, state), added when there is room; NULL otherwise. */
static stats_stream_count *stream_row(stats_snapshot *snap, const char *dir,
                                      const char *state)
{
    const char *d = strcmp(dir, "in") == 0 ? "in" : "out";
    for (size_t i = 0; i < snap->n_streams; i++)
        if (snap->streams[i].dir == d && strcmp(snap->streams[i].state, state) == 0)
            return &snap->streams[i];
    if (snap->n_streams == STATS_MAX_STATES)
        return NULL;
    stats_stream_count *r = &snap->streams[snap->n_streams++];
    r->dir = d;
    snprintf(r->state, sizeof r->state, "%s", state);
    r->n = 0;
    return r;
}

void stats_declare_state(stats_snapshot *snap, const char *dir,
                         const char *state)
{
    stream_row(snap, dir, state);
}

void stats_count_stream(void *arg, const char *dir, const char *state)
{
    stats_snapshot *snap = arg;
    stats_stream_count *r = stream_row(snap, dir, state ? state : "unknown");
    if (r)
        r->n++;
    else
        snap->streams_other[strcmp(dir, "in") == 0 ? 0 : 1]++;
}
