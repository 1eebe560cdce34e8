/* server.c -- starting, reloading and stopping the daemon. */
#include "server.h"

#include <dirent.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "admission.h"
#include "conn.h"
#include "control.h"
#include "crl.h"
#include "dialback.h"
#include "evidence.h"
#include "listener.h"
#include "log.h"
#include "posh.h"
#include "probe.h"
#include "report.h"
#include "router.h"
#include "s2s_in.h"
#include "s2s_out.h"
#include "services.h"
#include "c2s.h"
#include "certcheck.h"
#include "clients.h"
#include "tls.h"
#include "web.h"

/* Claimed domains whose addresses are remembered, for how long, and how many
 * outcomes may wait for a lookup at once (evidence.h). */
#define EVIDENCE_CACHE_ENTRIES 512
#define EVIDENCE_CACHE_SECONDS 600
#define EVIDENCE_MAX_PENDING 64

static void server_snapshot(rs_daemon *srv, stats_snapshot *snap);

#define FD_HEADROOM 16 /* descriptors kept for web clients, DNS, files */

/* How many sockets streams may hold before the kernel says EMFILE: libuv
 * silently drops connections it cannot accept, so admission.c makes room
 * before that happens. */
static unsigned stream_fd_budget(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > (1u << 24))
        return 1u << 24;
    unsigned used = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));)
        used += e->d_name[0] != '.';
    if (d)
        closedir(d);
    else
        used = 32;
    unsigned limit = (unsigned)rl.rlim_cur;
    return limit > used + FD_HEADROOM ? limit - used - FD_HEADROOM : 1;
}

static void server_on_signal(uv_signal_t *h, int signum)
{
    rs_daemon *srv = h->data;
    if (signum == SIGHUP) {
        server_reload(srv);
        return;
    }
    log_msg(RS_LOG_INFO, "signal %d: shutting down", signum);
    server_stop(srv);
}

#define TRIM_INTERVAL_MS 10000 /* how often to see whether memory can go back */

/* glibc keeps what a crowd of streams freed for reuse, so RSS would stay at
 * the crowd's peak for good: once the streams have halved since the high
 * mark, hand the free heap back to the system. */
static void server_on_trim(uv_timer_t *t)
{
    rs_daemon *srv = t->data;
    if (srv->n_conns * 2 < srv->conns_high) {
        malloc_trim(0);
        srv->conns_high = srv->n_conns;
    }
}

/* Whether GnuTLS takes every domain's priority string: a string it
 * refuses stops the start (or the reload) instead of failing each stream
 * of that domain later. */
static bool tls_policies_ok(const rs_domains *d)
{
    for (size_t i = 0; i < d->n; i++) {
        char err[300];
        if (!tls_priority_check(d->items[i].profile, err, sizeof err)) {
            fprintf(stderr, "%s: %s\n", d->items[i].name, err);
            return false;
        }
    }
    return true;
}

/* ---- wiring the router: who answers stanzas, who hears completions ---- */

static bool probe_stanza(void *ud, const rs_domain *dom, const char *remote,
                         xmlNodePtr stanza)
{
    return probe_on_stanza(ud, dom, remote, stanza);
}

static bool services_stanza(void *ud, const rs_domain *dom, const char *remote,
                            xmlNodePtr stanza)
{
    services_handle(ud, dom, remote, stanza);
    return true; /* the services answer everything, if only with an error */
}

static void services_client_stanza(void *ud, const rs_domain *dom,
                                   const char *client_key, xmlNodePtr stanza)
{
    services_handle_client(ud, dom, client_key, stanza);
}

static void probe_undeliverable(void *ud, const char *local,
                                const char *remote, s2s_out_reach reach,
                                const char *why)
{
    probe_on_undeliverable(ud, local, remote, reach, why);
}

static void in_verdict(void *ud, unsigned requester, const char *local,
                       const char *remote, bool valid, const char *why)
{
    s2s_in_dialback_verdict(ud, requester, local, remote, valid, why);
}

static void in_flow(void *ud, const char *remote, bool cut)
{
    s2s_in_replies_flow(ud, remote, cut);
}

/* Probe answers its own pings first; the services answer the rest. */
static int wire_router(rs_daemon *srv)
{
    srv->router = router_new(srv);
    if (!srv->router)
        return -1;
    if (router_add_handler(srv->router, probe_stanza, srv) < 0 ||
        !(srv->services = services_new(srv)) ||
        router_add_handler(srv->router, services_stanza, srv->services) < 0)
        return -1;
    router_on_undeliverable(srv->router, probe_undeliverable, srv);
    router_on_verdict(srv->router, in_verdict, srv);
    router_on_flow(srv->router, in_flow, srv);
    router_on_client(srv->router, services_client_stanza, srv->services);
    if (!(srv->c2s = c2s_new(srv)) || !(srv->clients = clients_new()))
        return -1;
    router_on_local(srv->router, c2s_deliver, srv->c2s);
    return 0;
}

/* A domain of a large set was loaded on its first use: judged now, as the
 * others were at start (only the current generation's verdicts read it). */
static void server_on_domain_loaded(void *ud, rs_domains *set, size_t index)
{
    rs_daemon *srv = ud;
    if (set == srv->domains)
        certcheck_mark_domain(srv->cfg, set, index, (int64_t)time(NULL));
}

/* What each domain presents against its row (certcheck.h): logged, and
 * kept in cfg for the verdicts. A domain without memory for its text keeps
 * none. A large set's domains are judged as they load. */
static void inspect_certificates(rs_daemon *srv, rs_config *cfg, rs_domains *d)
{
    d->on_loaded = server_on_domain_loaded;
    d->on_loaded_ud = srv;
    size_t bad = certcheck_mark_config(cfg, d, (int64_t)time(NULL));
    if (bad)
        log_msg(RS_LOG_WARN, "%zu of %zu test domains present a certificate that "
                "differs from their row: their verdicts claim nothing", bad, d->n);
    if (d->lazy)
        log_msg(RS_LOG_INFO, "%zu test domains (more than %d): each loads its "
                "certificate on first use", d->n, DOMAINS_EAGER_MAX);
}

int server_start(rs_daemon *srv, uv_loop_t *loop, rs_config *cfg,
                    const char *config_path)
{
    memset(srv, 0, sizeof *srv);
    srv->loop = loop;
    srv->cfg = cfg;
    srv->config_path = config_path ? strdup(config_path) : NULL;
    srv->start_time = (uint64_t)time(NULL);
    /* first, so that server_stop after a failed start closes only
     * handles that exist */
    uv_signal_t *sigs[] = {&srv->sig_term, &srv->sig_int, &srv->sig_hup};
    int nums[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < 3; i++) {
        uv_signal_init(loop, sigs[i]);
        sigs[i]->data = srv;
        uv_signal_start(sigs[i], server_on_signal, nums[i]);
    }
    uv_timer_init(loop, &srv->trim_timer);
    srv->trim_timer.data = srv;
    uv_timer_start(&srv->trim_timer, server_on_trim, TRIM_INTERVAL_MS, TRIM_INTERVAL_MS);
    uv_unref((uv_handle_t *)&srv->trim_timer); /* never keeps the loop alive */
    conn_flush_start(srv);
    if (dialback_secret_init(srv->db_secret) < 0) {
        fprintf(stderr, "cannot get random bytes for the dialback secret\n");
        return -1;
    }
    srv->snapshot = server_snapshot;
    log_set_peer_limit(cfg->limits.log_per_minute);
    srv->domains = domains_load(cfg);
    if (!srv->domains || !tls_policies_ok(srv->domains))
        return -1;
    inspect_certificates(srv, cfg, srv->domains);
    srv->dns = dns_new(loop, cfg->resolver_servers);
    if (!srv->dns) {
        fprintf(stderr, "cannot start the DNS resolver\n");
        return -1;
    }
    if (wire_router(srv) < 0) {
        fprintf(stderr, "out of memory\n");
        return -1;
    }
    srv->listeners = calloc(cfg->n_listen, sizeof *srv->listeners);
    if (!srv->listeners)
        return -1;
    for (size_t i = 0; i < cfg->n_listen; i++) {
        srv->n_listeners = i + 1;
        if (listener_open(&srv->listeners[i], srv, &cfg->listen[i],
                          cfg->listen[i].clients ? c2s_accept : s2s_in_accept) < 0)
            return -1;
        srv->client_ports = srv->client_ports || cfg->listen[i].clients;
    }
    report_limits rl = {.max_peers = cfg->limits.report_peers,
                        .history = cfg->limits.report_history,
                        .max_claims = cfg->limits.report_claims,
                        .file_bytes = cfg->limits.report_file_bytes,
                        .max_age = cfg->limits.report_max_days * 86400ull,
                        .matched_per_source = cfg->limits.report_matched_per_ip,
                        .matched_per_site = cfg->limits.report_matched_per_site,
                        .ipv6_prefix = cfg->limits.ipv6_prefix};
    srv->report = report_open(cfg->state_dir, &rl);
    if (!srv->report) {
        fprintf(stderr, "cannot open the report in %s\n", cfg->state_dir);
        return -1;
    }
    report_attach_loop(srv->report, loop);
    evidence_limits el = {.cache_entries = EVIDENCE_CACHE_ENTRIES,
                          .cache_seconds = EVIDENCE_CACHE_SECONDS,
                          .max_pending = EVIDENCE_MAX_PENDING};
    srv->evidence = evidence_new(srv->dns, srv->report, &el);
    if (!srv->evidence) {
        fprintf(stderr, "out of memory\n");
        return -1;
    }
    srv->control = control_open(srv, cfg->state_dir);
    if (!srv->control)
        return -1;
    /* NULL: no test intermediate, nothing served */
    srv->crl = crl_start(srv->loop, cfg->state_dir);
    if (cfg->http.address) {
        srv->web = web_start(srv, &cfg->http);
        if (!srv->web)
            return -1;
    }
    if (cfg->https.address) {
        srv->posh = posh_start(cfg, srv->domains);
        if (!srv->posh)
            return -1;
    }
    log_msg(RS_LOG_INFO, "serving %zu test domains under %s", srv->domains->n,
           cfg->base_domain);
    srv->fd_budget = stream_fd_budget();
    unsigned want = cfg->limits.max_streams +
                    (srv->client_ports ? cfg->limits.max_client_streams : 0);
    if (srv->fd_budget < want)
        log_msg(RS_LOG_WARN, "file descriptors (ulimit -n) allow %u streams, "
               "fewer than limits.max_streams + max_client_streams = %u: "
               "servers may hold %u of them and clients %u; beyond that a "
               "stream of the same pool gives way", srv->fd_budget, want,
               admission_fd_share(srv, RS_POOL_SERVERS),
               admission_fd_share(srv, RS_POOL_CLIENTS));
    return 0;
}

static bool same_web(const config_http *a, const config_http *b)
{
    if (!a->address || !b->address)
        return !a->address && !b->address;
    return strcmp(a->address, b->address) == 0 && a->port == b->port;
}

void server_reload(rs_daemon *srv)
{
    if (!srv->config_path) {
        log_msg(RS_LOG_INFO, "SIGHUP: reloading certificates");
        rs_domains *d = domains_load(srv->cfg);
        if (!d) {
            log_msg(RS_LOG_ERROR, "reload failed; keeping the running set");
            return;
        }
        domains_unref(srv->domains);
        srv->domains = d;
        inspect_certificates(srv, srv->cfg, d);
        return;
    }
    log_msg(RS_LOG_INFO, "SIGHUP: reloading %s", srv->config_path);
    rs_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return;
    if (config_load(srv->config_path, cfg, stderr) != 0) {
        log_msg(RS_LOG_ERROR, "reload failed; keeping the running configuration");
        free(cfg);
        return;
    }
    rs_domains *d = domains_load(cfg);
    if (d)
        inspect_certificates(srv, cfg, d);
    if (d && !tls_policies_ok(d)) {
        domains_unref(d);
        d = NULL;
    }
    if (!d) {
        log_msg(RS_LOG_ERROR, "reload failed; keeping the running configuration");
        config_free(cfg);
        free(cfg);
        return;
    }
    bool same_listeners = cfg->n_listen == srv->cfg->n_listen;
    for (size_t i = 0; same_listeners && i < cfg->n_listen; i++)
        same_listeners = strcmp(cfg->listen[i].address, srv->cfg->listen[i].address) == 0 &&
                         cfg->listen[i].port == srv->cfg->listen[i].port;
    bool same_http = same_web(&cfg->http, &srv->cfg->http) &&
                     same_web(&cfg->https, &srv->cfg->https);
    same_listeners = same_listeners && same_http;
    if (!same_listeners)
        log_msg(RS_LOG_WARN, "listeners changed: they take effect after a restart");
    const char *old_dns = srv->cfg->resolver_servers, *new_dns = cfg->resolver_servers;
    if ((old_dns == NULL) != (new_dns == NULL) ||
        (old_dns && strcmp(old_dns, new_dns) != 0))
        log_msg(RS_LOG_WARN, "resolver.servers changed: it takes effect after a restart");
    /* Streams hold their own reference to the old domain set and keep it. The
     * old config is still read by live streams for limits: swap its contents
     * so the pointer they use stays valid. */
    rs_config old = *srv->cfg;
    *srv->cfg = *cfg;
    /* keep the running listeners' description in sync with what is bound */
    config_listen *new_listen = srv->cfg->listen;
    size_t new_n = srv->cfg->n_listen;
    srv->cfg->listen = old.listen;
    srv->cfg->n_listen = old.n_listen;
    old.listen = new_listen;
    old.n_listen = new_n;
    config_http new_http = srv->cfg->http, new_https = srv->cfg->https;
    srv->cfg->http = old.http;
    srv->cfg->https = old.https;
    old.http = new_http;
    old.https = new_https;
    config_free(&old);
    free(cfg);
    domains_unref(srv->domains);
    srv->domains = d;
    log_set_peer_limit(srv->cfg->limits.log_per_minute);
    log_msg(RS_LOG_INFO, "reloaded: %zu test domains", d->n);
}

static void server_on_closed_noop(uv_handle_t *h)
{
    (void)h;
}

void server_stop(rs_daemon *srv)
{
    if (srv->stopping)
        return;
    srv->stopping = true;
    for (size_t i = 0; i < srv->n_listeners; i++)
        listener_close(&srv->listeners[i]);
    uv_close((uv_handle_t *)&srv->sig_term, server_on_closed_noop);
    uv_close((uv_handle_t *)&srv->sig_int, server_on_closed_noop);
    uv_close((uv_handle_t *)&srv->sig_hup, server_on_closed_noop);
    uv_close((uv_handle_t *)&srv->trim_timer, server_on_closed_noop);
    probe_stop_all(srv);
    posh_stop(srv->posh);
    srv->posh = NULL;
    if (srv->web)
        web_close(srv->web);
    srv->web = NULL;
    crl_close(srv->crl);
    srv->crl = NULL;
    if (srv->control)
        control_close(srv->control);
    srv->control = NULL;
    s2s_out_close_all(srv);
    router_close(srv->router);
    srv->router = NULL;
    conn_shutdown_all(srv);
    conn_flush_stop(srv); /* the stream errors leave now; later output at once */
    evidence_free(srv->evidence); /* waiting outcomes go in as claims */
    srv->evidence = NULL;
    report_detach_loop(srv->report); /* report_free writes what is left */
    dns_free(srv->dns);
    srv->dns = NULL;
}

void server_free(rs_daemon *srv)
{
    report_free(srv->report);
    srv->report = NULL;
    services_free(srv->services);
    srv->services = NULL;
    c2s_free(srv->c2s);
    srv->c2s = NULL;
    clients_free(srv->clients);
    srv->clients = NULL;
    log_limits_free();
    conn_addrs_free(srv);
    domains_unref(srv->domains);
    srv->domains = NULL;
    free(srv->listeners);
    if (srv->cfg) {
        config_free(srv->cfg);
        free(srv->cfg);
    }
    free(srv->config_path);
}

/* The counters and gauges now, for /metrics: every state of both stream
 * machines is declared first, so each series exists from the start. */
static void server_snapshot(rs_daemon *srv, stats_snapshot *snap)
{
    memset(snap, 0, sizeof *snap);
    snap->counters = srv->stats;
    snap->counters.log_suppressed = log_suppressed();
    snap->start_time = srv->start_time;
    snap->test_domains = srv->cfg ? srv->cfg->n_domains : 0;
    snap->report_peers = srv->report ? report_peers(srv->report, NULL, NULL, 0) : 0;
    if (srv->evidence) {
        const evidence_stats *es = evidence_get_stats(srv->evidence);
        snap->have_evidence = 1;
        memcpy(snap->outcomes_by_evidence, es->by_level,
               sizeof snap->outcomes_by_evidence);
        snap->evidence_lookups = es->lookups;
        snap->evidence_overflow = es->overflow;
    }
    if (srv->report) {
        report_write_stats ws;
        report_write_stats_get(srv->report, &ws);
        snap->have_report_db = 1;
        snap->report_db_up = ws.open;
        snap->report_db_written = ws.written;
        snap->report_db_failures = ws.failures;
        snap->report_db_dropped = ws.dropped;
        snap->report_db_queued = ws.queued;
        snap->report_db_longest_us = (uint64_t)(ws.longest_ms * 1000.0);
        snap->report_db_failing = ws.failing;
        snap->report_db_bytes = ws.bytes > 0 ? (uint64_t)ws.bytes : 0;
        snap->report_db_pruned = ws.pruned;
        report_retain_stats rs;
        report_retain_stats_get(srv->report, &rs);
        memcpy(snap->report_evicted, rs.evicted, sizeof snap->report_evicted);
        snap->report_capped_source = rs.capped_source;
        snap->report_capped_site = rs.capped_site;
        snap->report_refused = rs.refused;
    }
    size_t n_in, n_out, n_c2s;
    const char *const *in_states = s2s_in_state_names(&n_in);
    const char *const *out_states = s2s_out_state_names(&n_out);
    const char *const *c2s_states = c2s_state_names(&n_c2s);
    for (size_t i = 0; i < n_in; i++)
        stats_declare_state(snap, "in", in_states[i]);
    for (size_t i = 0; i < n_out; i++)
        stats_declare_state(snap, "out", out_states[i]);
    for (size_t i = 0; i < n_c2s; i++)
        stats_declare_state(snap, "c2s", c2s_states[i]);
    s2s_in_visit(srv, stats_count_stream, snap);
    s2s_out_visit(srv, stats_count_stream, snap);
    c2s_visit(srv, stats_count_stream, snap);
    for (int k = 0; k < RS_POOLS; k++) {
        snap->pool_streams[k] = admission_pool_streams(srv, (daemon_pool_kind)k);
        snap->pool_capacity[k] = srv->cfg ? admission_pool_capacity(srv, (daemon_pool_kind)k) : 0;
    }
}
