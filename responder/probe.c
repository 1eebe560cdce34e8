/* probe.c -- placeholder until the probe lands. */
#include "probe.h"

#include <stdio.h>

rs_probe *probe_start(rs_server *srv, const char *target, probe_progress_cb cb,
                      void *arg, char *err, size_t errlen)
{
    (void)srv; (void)target; (void)cb; (void)arg;
    snprintf(err, errlen, "probing is not available yet");
    return NULL;
}
void probe_detach(rs_probe *p) { (void)p; }
rs_probe *probe_find(rs_server *srv, const char *target)
{
    (void)srv; (void)target;
    return NULL;
}
void probe_counts(const rs_probe *p, size_t *done, size_t *total)
{
    (void)p;
    *done = *total = 0;
}
const char *probe_domain(const rs_probe *p, size_t i, probe_result *result,
                         const char **detail)
{
    (void)p; (void)i;
    *result = PROBE_PENDING;
    *detail = "";
    return "";
}
const char *probe_result_name(probe_result r)
{
    static const char *names[] = {"pending", "pong", "error", "refused", "timeout"};
    return names[r];
}
bool probe_on_stanza(rs_server *srv, const rs_domain *dom, const char *remote,
                     xmlNodePtr stanza)
{
    (void)srv; (void)dom; (void)remote; (void)stanza;
    return false;
}
void probe_on_undeliverable(rs_server *srv, const char *local,
                            const char *remote, const char *why)
{
    (void)srv; (void)local; (void)remote; (void)why;
}
void probe_stop_all(rs_server *srv) { (void)srv; }
