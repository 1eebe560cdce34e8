/* probe.c -- active probing: ping a target from every test domain.
 *
 * A probe is a list of test domains (the config's, in order, copied at the
 * start) with one ping each. A uv_timer drives it: it sends pings while fewer
 * than probe_concurrency are in flight, times out the ones past their
 * deadline, and hands finished domains to the progress callback in the order
 * they finished. Answers come from three places, all of which only mark a
 * domain finished and wake the timer, so nothing is sent and no callback runs
 * from inside the stream code that told us:
 *   probe_on_stanza        the iq result/error from the target (router);
 *   probe_on_undeliverable our stream to the target failed with the ping
 *                          queued (s2s_out bounce);
 *   probe_on_outcome       the target's stream back to that domain ended
 *                          unauthenticated (report listener).
 * Who may start one, and when the next may start: probe_budget.h (per
 * target, per requester, per network, in all).
 */
#include "probe.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "config.h"
#include "jid.h"
#include "json.h"
#include "log.h"
#include "report.h"
#include "router.h"
#include "stats.h"
#include "stanza.h"
#include "utf8.h"

#define PROBE_DETAIL_MAX 320  /* bytes of a domain's detail */
#define PROBE_ID_PREFIX "probe-"
#define TARGET_MAX 253        /* longest domain name we probe */

/* One test domain of a probe. */
typedef struct probe_dom {
    char *name;                   /* our test domain (lower case) */
    char id[40];                  /* id of our ping: probe-<random hex> */
    probe_result result;          /* PROBE_PENDING until finished */
    char detail[PROBE_DETAIL_MAX]; /* error condition, bounce reason, ... */
    bool sent;                    /* the ping went to the router */
    uint64_t sent_ms;             /* uv_now at sending */
    int64_t sent_wall;            /* unix seconds at sending (outcomes) */
} probe_dom;

struct rs_probe {
    rs_daemon *srv;
    struct rs_probe *next;        /* srv->probes list */
    char target[TARGET_MAX + 1];  /* lower case */
    probe_dom *doms;
    size_t n;
    size_t next_send;             /* first domain not sent yet */
    size_t in_flight;             /* sent and not finished */
    size_t *order;                /* finished domains, in finishing order */
    size_t n_finished;
    size_t n_reported;            /* of order, handed to the callback */
    probe_progress_cb cb;
    void *arg;
    uv_timer_t timer;
    unsigned concurrency;         /* limits at the start */
    unsigned timeout_s;
    uint64_t slowest_ms;          /* the slowest answer (pong or iq error) */
    bool answered;                /* slowest_ms is set */
    s2s_out_reach furthest;       /* the furthest an unreached row got */
    size_t n_unreached;           /* rows whose stream never reached it */
    uint64_t started_ms;
    bool stopped;                 /* ended by probe_stop_all */
    bool ended;                   /* unlinked; freed when the timer closes */
};

/* The budgets (probe_budget.h), made at the first probe; one server per
 * process. */
static rs_probe_budget *budgets;

_Static_assert(PROBE_BUDGET_LIMITS <= STATS_PROBE_LIMITS,
               "rs_stats.probes_limited has a counter per probe_budget_limit");

static void tick(uv_timer_t *t);

/* ---- names ---------------------------------------------------------------- */

const char *probe_result_name(probe_result r)
{
    switch (r) {
    case PROBE_PENDING: return "pending";
    case PROBE_PONG: return "pong";
    case PROBE_ERROR: return "error";
    case PROBE_REFUSED: return "refused";
    case PROBE_TIMEOUT: return "timeout";
    case PROBE_UNKNOWN: return "unknown";
    }
    return "pending";
}

/* ---- validation and limits ---------------------------------------------- */

/* in as a lower-case domain name in out (one trailing dot dropped): a valid
 * DNS name (config_dns_name_problem) of at least two labels, the last not all
 * digits (an IP address is not a domain). false with a reason in err. */
static bool target_normalize(const char *in, char *out, size_t outlen,
                             char *err, size_t errlen)
{
    size_t len = strlen(in);
    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len == 0) {
        snprintf(err, errlen, "no target domain given");
        return false;
    }
    if (len > TARGET_MAX || len >= outlen) {
        snprintf(err, errlen, "the target is longer than %d bytes, the "
                 "longest domain name", TARGET_MAX);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)in[i] >= 0x80) {
            snprintf(err, errlen, "the target is not ASCII: give an "
                     "internationalised name in its A-label form (xn--...)");
            return false;
        }
        out[i] = (char)tolower((unsigned char)in[i]);
    }
    out[len] = '\0';
    const char *why = config_dns_name_problem(out);
    if (why) {
        snprintf(err, errlen, "the target is not a domain name: %s", why);
        return false;
    }
    const char *last = strrchr(out, '.');
    if (!last) {
        snprintf(err, errlen, "'%s' is not a fully qualified domain name", out);
        return false;
    }
    if (strspn(last + 1, "0123456789") == strlen(last + 1)) {
        snprintf(err, errlen, "'%s' looks like an IP address; give the "
                 "server's domain name", out);
        return false;
    }
    return true;
}

/* Is name ours: a test domain, the base domain or anything under it? */
static bool target_ours(const rs_daemon *srv, const char *name, char *err,
                        size_t errlen)
{
    if (config_find_domain(srv->cfg, name) ||
        (srv->domains && domains_find(srv->domains, name))) {
        snprintf(err, errlen, "%s is one of our own test domains", name);
        return true;
    }
    const char *base = srv->cfg->base_domain;
    size_t nl = strlen(name), bl = base ? strlen(base) : 0;
    if (bl && (strcasecmp(name, base) == 0 ||
               (nl > bl && name[nl - bl - 1] == '.' &&
                strcasecmp(name + nl - bl, base) == 0))) {
        snprintf(err, errlen, "%s is under our own base domain %s", name, base);
        return true;
    }
    return false;
}

/* ---- the probe's life ------------------------------------------------------ */

static void probe_free(rs_probe *p)
{
    if (!p)
        return;
    if (p->doms)
        for (size_t i = 0; i < p->n; i++)
            free(p->doms[i].name);
    free(p->doms);
    free(p->order);
    free(p);
}

static void probe_on_timer_closed(uv_handle_t *h)
{
    probe_free(h->data);
}

static void probe_on_outcome(void *arg, const report_outcome *o);

/* Wake the timer now (answers arrive inside stream code: act later). */
static void kick(rs_probe *p)
{
    if (!p->ended)
        uv_timer_start(&p->timer, tick, 0, 0);
}

static void finish(rs_probe *p, size_t i, probe_result r, const char *detail)
{
    probe_dom *d = &p->doms[i];
    if (d->result != PROBE_PENDING)
        return;
    d->result = r;
    snprintf(d->detail, sizeof d->detail, "%s", detail ? detail : "");
    if (d->sent && p->in_flight > 0)
        p->in_flight--;
    p->order[p->n_finished++] = i;
    kick(p);
}

/* The last domain was reported: log, unlink, free when the timer closed. */
static void end(rs_probe *p)
{
    rs_daemon *srv = p->srv;
    unsigned counts[PROBE_UNKNOWN + 1] = {0};
    for (size_t i = 0; i < p->n; i++)
        counts[p->doms[i].result]++;
    uint64_t ms = uv_now(srv->loop) - p->started_ms;
    log_msg(RS_LOG_INFO, "probe target=%s event=end%s domains=%zu pong=%u "
           "error=%u refused=%u timeout=%u unknown=%u seconds=%llu.%01llu",
           p->target, p->stopped ? " stopped=yes" : "", p->n, counts[PROBE_PONG],
           counts[PROBE_ERROR], counts[PROBE_REFUSED], counts[PROBE_TIMEOUT],
           counts[PROBE_UNKNOWN],
           (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000 / 100));
    for (rs_probe **pp = &srv->probes; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    if (!srv->probes && srv->report)
        report_set_listener(srv->report, NULL, NULL);
    p->ended = true;
    p->cb = NULL;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, probe_on_timer_closed);
}

/* Hand finished domains to the callback; true when p ended (do not touch it
 * any more). */
static bool deliver(rs_probe *p)
{
    while (p->n_reported < p->n_finished) {
        size_t i = p->order[p->n_reported++];
        if (p->cb)
            p->cb(p->arg, p, p->n_reported, p->n, i);
    }
    if (p->n_reported == p->n) {
        end(p);
        return true;
    }
    return false;
}

static void send_ping(rs_probe *p, size_t i)
{
    rs_daemon *srv = p->srv;
    probe_dom *d = &p->doms[i];
    d->sent = true;
    d->sent_ms = uv_now(srv->loop);
    d->sent_wall = (int64_t)time(NULL);
    p->in_flight++;
    xmlNodePtr iq = stanza_new(NS_SERVER, "iq");
    xmlNodePtr ping = iq ? stanza_add(iq, NS_PING, "ping") : NULL;
    if (!ping) {
        if (iq)
            xmlFreeNode(iq);
        log_msg(RS_LOG_ERROR, "probe target=%s local=%s: out of memory "
               "building the ping", p->target, d->name);
        finish(p, i, PROBE_UNKNOWN, "the responder ran out of memory "
               "building the ping");
        return;
    }
    stanza_set(iq, "type", "get");
    stanza_set(iq, "id", d->id);
    stanza_set(iq, "from", d->name);
    stanza_set(iq, "to", p->target);
    /* may bounce at once (probe_on_undeliverable marks the domain) */
    router_send(srv, d->name, p->target, iq);
}

/* How long a ping waits for its answer, in ms: probe_timeout, or once the
 * target has answered others, a few times its slowest answer (a server
 * that answers in 0.2 s does not answer in 20: the rows it never answers,
 * such as the DNS rows for a correct server, need not wait that long). */
static uint64_t probe_wait_ms(const rs_probe *p)
{
    uint64_t limit = (uint64_t)p->timeout_s * 1000;
    if (!p->answered)
        return limit;
    uint64_t w = p->slowest_ms * PROBE_WAIT_FACTOR;
    if (w < (uint64_t)PROBE_WAIT_FLOOR_S * 1000)
        w = (uint64_t)PROBE_WAIT_FLOOR_S * 1000;
    return w < limit ? w : limit;
}

/* The timeout's detail: how long, and why that long. */
static void probe_timeout_text(const rs_probe *p, char *out, size_t n)
{
    uint64_t w = probe_wait_ms(p);
    if (w >= (uint64_t)p->timeout_s * 1000)
        snprintf(out, n, "no answer within %u s (probe_timeout)", p->timeout_s);
    else
        snprintf(out, n, "no answer within %llu.%01llu s: %d times the target's "
                 "slowest answer on other rows (%llu.%02llu s), at least %d s",
                 (unsigned long long)(w / 1000),
                 (unsigned long long)(w % 1000 / 100), PROBE_WAIT_FACTOR,
                 (unsigned long long)(p->slowest_ms / 1000),
                 (unsigned long long)(p->slowest_ms % 1000 / 10),
                 PROBE_WAIT_FLOOR_S);
}

/* The next wake-up: the nearest deadline of a ping in flight. */
static void probe_schedule(rs_probe *p)
{
    uint64_t now = uv_now(p->srv->loop), next = UINT64_MAX, wait = probe_wait_ms(p);
    for (size_t i = 0; i < p->next_send; i++) {
        const probe_dom *d = &p->doms[i];
        if (d->sent && d->result == PROBE_PENDING && d->sent_ms + wait < next)
            next = d->sent_ms + wait;
    }
    uint64_t delay = next == UINT64_MAX ? 1000 : next > now ? next - now + 1 : 0;
    uv_timer_start(&p->timer, tick, delay, 0);
}

static void tick(uv_timer_t *t)
{
    rs_probe *p = t->data;
    uint64_t now = uv_now(p->srv->loop), wait = probe_wait_ms(p);
    char why[PROBE_DETAIL_MAX];
    probe_timeout_text(p, why, sizeof why);
    for (size_t i = 0; i < p->next_send; i++) {
        probe_dom *d = &p->doms[i];
        if (d->sent && d->result == PROBE_PENDING && now >= d->sent_ms + wait)
            finish(p, i, PROBE_TIMEOUT, why);
    }
    while (!p->stopped && !p->srv->stopping && p->in_flight < p->concurrency &&
           p->next_send < p->n)
        send_ping(p, p->next_send++);
    if (deliver(p))
        return;
    probe_schedule(p);
}

/* ---- API ------------------------------------------------------------------ */

/* Refuse with kind and the text in why. */
static rs_probe *refuse(probe_refusal *why, probe_refusal_kind kind)
{
    why->kind = kind;
    return NULL;
}

/* Whether who may start a probe of name now; when not, why says which budget
 * and when (one log line per refusal, within the requester's log budget). */
static bool within_budget(rs_daemon *srv, const char *name,
                          const probe_budget_requester *who, uint64_t now,
                          probe_refusal *why)
{
    if (!budgets && !(budgets = probe_budget_new())) {
        snprintf(why->text, sizeof why->text, "the responder is out of memory");
        why->kind = PROBE_REFUSED_UNAVAILABLE;
        return false;
    }
    const config_limits *lim = &srv->cfg->limits;
    probe_budget_verdict v = probe_budget_check(budgets, lim, name, who, now);
    if (v.limit == PROBE_BUDGET_OK)
        return true;
    probe_budget_explain(&v, lim, who, name, (int64_t)time(NULL), why->text,
                         sizeof why->text);
    why->kind = PROBE_REFUSED_LIMITED;
    why->limit = v.limit;
    why->retry_after = v.wait_s;
    srv->stats.probes_limited[v.limit]++;
    if (log_peer_allowed(who->key))
        log_msg(RS_LOG_INFO, "probe target=%s event=refused requester=%s "
               "network=%s limit=%s retry_after=%u", name, who->key,
               who->network[0] ? who->network : "-",
               probe_budget_limit_name(v.limit), v.wait_s);
    return false;
}

rs_probe *probe_start(rs_daemon *srv, const char *target,
                      const probe_budget_requester *who, probe_progress_cb cb,
                      void *arg, probe_refusal *why)
{
    char name[TARGET_MAX + 2];
    memset(why, 0, sizeof *why);
    if (srv->stopping) {
        snprintf(why->text, sizeof why->text, "the responder is stopping");
        return refuse(why, PROBE_REFUSED_UNAVAILABLE);
    }
    if (!target_normalize(target ? target : "", name, sizeof name, why->text,
                          sizeof why->text) ||
        target_ours(srv, name, why->text, sizeof why->text))
        return refuse(why, PROBE_REFUSED_INVALID);
    rs_probe *running = probe_find(srv, name);
    if (running) {
        snprintf(why->text, sizeof why->text, "a probe of %s is already running "
                 "(%zu of %zu domains done)", name, running->n_finished,
                 running->n);
        return refuse(why, PROBE_REFUSED_RUNNING);
    }
    const config_limits *lim = &srv->cfg->limits;
    if (srv->cfg->n_domains == 0) {
        snprintf(why->text, sizeof why->text, "the responder has no test domains");
        return refuse(why, PROBE_REFUSED_UNAVAILABLE);
    }
    uint64_t now = uv_now(srv->loop);
    if (!within_budget(srv, name, who, now, why))
        return NULL;

    rs_probe *p = calloc(1, sizeof *p);
    if (p) {
        p->n = srv->cfg->n_domains;
        p->doms = calloc(p->n, sizeof *p->doms);
        p->order = calloc(p->n, sizeof *p->order);
    }
    bool ok = p && p->doms && p->order;
    for (size_t i = 0; ok && i < p->n; i++) {
        probe_dom *d = &p->doms[i];
        unsigned char rnd[10];
        d->name = strdup(srv->cfg->domains[i].name);
        ok = d->name && gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof rnd) == 0;
        if (!ok)
            break;
        int o = snprintf(d->id, sizeof d->id, PROBE_ID_PREFIX);
        for (size_t k = 0; k < sizeof rnd; k++)
            o += snprintf(d->id + o, sizeof d->id - (size_t)o, "%02x", rnd[k]);
    }
    if (!ok) {
        probe_free(p);
        snprintf(why->text, sizeof why->text, "the responder is out of memory");
        log_msg(RS_LOG_ERROR, "probe target=%s: out of memory", name);
        return refuse(why, PROBE_REFUSED_UNAVAILABLE);
    }
    p->srv = srv;
    memcpy(p->target, name, strlen(name) + 1);
    p->cb = cb;
    p->arg = arg;
    p->concurrency = lim->probe_concurrency ? lim->probe_concurrency : 1;
    p->timeout_s = lim->probe_timeout ? lim->probe_timeout : 1;
    p->started_ms = now;
    uv_timer_init(srv->loop, &p->timer);
    p->timer.data = p;

    probe_budget_charge(budgets, lim, name, who, now);
    p->next = srv->probes;
    srv->probes = p;
    if (srv->report)
        report_set_listener(srv->report, probe_on_outcome, srv);
    srv->stats.probes++;
    log_msg(RS_LOG_INFO, "probe target=%s event=start requester=%s domains=%zu "
           "concurrency=%u timeout=%u", p->target, who->key, p->n,
           p->concurrency, p->timeout_s);
    kick(p);
    return p;
}

unsigned probe_next_wait(const rs_daemon *srv, const probe_budget_requester *who)
{
    if (!budgets)
        return 0;
    return probe_budget_check(budgets, &srv->cfg->limits, NULL, who,
                              uv_now(srv->loop)).wait_s;
}

void probe_detach(rs_probe *p)
{
    if (!p)
        return;
    p->cb = NULL;
    p->arg = NULL;
}

rs_probe *probe_find(rs_daemon *srv, const char *target)
{
    for (rs_probe *p = srv->probes; p; p = p->next)
        if (strcasecmp(p->target, target) == 0)
            return p;
    return NULL;
}

void probe_counts(const rs_probe *p, size_t *done, size_t *total)
{
    *done = p->n_finished;
    *total = p->n;
}

const char *probe_domain(const rs_probe *p, size_t i, probe_result *result,
                         const char **detail)
{
    if (i >= p->n) {
        *result = PROBE_PENDING;
        *detail = "";
        return NULL;
    }
    *result = p->doms[i].result;
    *detail = p->doms[i].detail;
    return p->doms[i].name;
}

const char *probe_target(const rs_probe *p)
{
    return p->target;
}

unsigned probe_max_seconds(const rs_probe *p)
{
    size_t rounds = (p->n + p->concurrency - 1) / p->concurrency;
    return (unsigned)(rounds * p->timeout_s) + 2;
}

bool probe_stopped(const rs_probe *p)
{
    return p->stopped;
}

/* The domain of p whose ping has id, or -1. */
static long find_id(const rs_probe *p, const char *id)
{
    for (size_t i = 0; i < p->next_send; i++)
        if (strcmp(p->doms[i].id, id) == 0)
            return (long)i;
    return -1;
}

bool probe_on_stanza(rs_daemon *srv, const rs_domain *dom, const char *remote,
                     xmlNodePtr stanza)
{
    if (!srv->probes || !stanza_is(stanza, NS_SERVER, "iq"))
        return false;
    const char *type = stanza_attr(stanza, "type");
    bool is_result = strcmp(type, "result") == 0;
    if (!is_result && strcmp(type, "error") != 0)
        return false;
    const char *id = stanza_attr(stanza, "id");
    if (strncmp(id, PROBE_ID_PREFIX, strlen(PROBE_ID_PREFIX)) != 0)
        return false;
    rs_probe *p = srv->probes;
    long i = -1;
    for (; p; p = p->next)
        if ((i = find_id(p, id)) >= 0)
            break;
    if (!p)
        return false;
    probe_dom *d = &p->doms[i];
    /* only the target answering the domain we sent from */
    if (strcasecmp(remote, p->target) != 0 || strcasecmp(dom->name, d->name) != 0)
        return false;
    jid *from = malloc(sizeof *from), *to = malloc(sizeof *to);
    bool match = from && to && jid_parse(stanza_attr(stanza, "from"), from) &&
                 strcmp(from->domain, p->target) == 0 &&
                 jid_parse(stanza_attr(stanza, "to"), to) && !to->local[0] &&
                 strcasecmp(to->domain, d->name) == 0;
    free(from);
    free(to);
    if (!match)
        return false;
    if (d->result != PROBE_PENDING)
        return true; /* a late or repeated answer: ours, but decided */
    uint64_t ms = uv_now(srv->loop) - d->sent_ms;
    if (!p->answered || ms > p->slowest_ms)
        p->slowest_ms = ms;
    p->answered = true;
    char detail[PROBE_DETAIL_MAX];
    if (is_result) {
        snprintf(detail, sizeof detail, "pong in %llu.%02llu s",
                 (unsigned long long)(ms / 1000),
                 (unsigned long long)(ms % 1000 / 10));
        finish(p, (size_t)i, PROBE_PONG, detail);
        return true;
    }
    xmlNodePtr e = stanza_child(stanza, NULL, "error");
    const char *cond = e ? stanza_condition(e, NS_STANZAS) : "";
    xmlNodePtr t = e ? stanza_child(e, NS_STANZAS, "text") : NULL;
    char *text = t ? stanza_text(t) : NULL;
    if (text)
        text[utf8_cut(text, 200)] = '\0';
    snprintf(detail, sizeof detail, "iq error %.40s%s%s%s",
             cond[0] ? cond : "(no condition)", text && text[0] ? " \"" : "",
             text ? text : "", text && text[0] ? "\"" : "");
    free(text);
    finish(p, (size_t)i, PROBE_ERROR, detail);
    return true;
}

/* Why a stream did not reach target, in one sentence. */
static void unreached_text(s2s_out_reach reach, const char *target, char *out,
                           size_t n)
{
    switch (reach) {
    case S2S_OUT_UNREACHED_RESOLVER:
        snprintf(out, n, "our resolver did not answer for %s "
                 "(resolver.servers, or /etc/resolv.conf)", target);
        return;
    case S2S_OUT_UNREACHED_NAME:
        snprintf(out, n, "%s does not exist in DNS: no _xmpp-server SRV "
                 "record and no address", target);
        return;
    case S2S_OUT_UNREACHED_NO_SERVICE:
        snprintf(out, n, "%s's _xmpp-server SRV record says it runs no "
                 "XMPP server (target \".\")", target);
        return;
    case S2S_OUT_UNREACHED_ADDRESS:
        snprintf(out, n, "nothing answered where %s's DNS points: %s "
                 "(the responder's log says why)", target, S2S_OUT_FAILED_PUBLIC);
        return;
    case S2S_OUT_UNREACHED_LOCAL:
    case S2S_OUT_REACHED:
        break;
    }
    snprintf(out, n, "the responder could not set up its own side of the "
             "stream to %s (its log says why)", target);
}

void probe_on_undeliverable(rs_daemon *srv, const char *local,
                            const char *remote, s2s_out_reach reach,
                            const char *why)
{
    for (rs_probe *p = srv->probes; p; p = p->next) {
        if (strcasecmp(p->target, remote) != 0)
            continue;
        for (size_t i = 0; i < p->next_send; i++) {
            probe_dom *d = &p->doms[i];
            if (d->result != PROBE_PENDING || strcasecmp(d->name, local) != 0)
                continue;
            char detail[PROBE_DETAIL_MAX];
            if (reach == S2S_OUT_REACHED) {
                snprintf(detail, sizeof detail, "our stream to %s failed: %.260s",
                         p->target, why ? why : "");
                finish(p, i, PROBE_REFUSED, detail);
                continue;
            }
            if (reach > p->furthest)
                p->furthest = reach;
            p->n_unreached++;
            unreached_text(reach, p->target, detail, sizeof detail);
            finish(p, i, PROBE_UNKNOWN, detail);
        }
    }
}

bool probe_unreached(const rs_probe *p, char *why, size_t n)
{
    if (p->n == 0 || p->n_unreached < p->n)
        return false;
    unreached_text(p->furthest, p->target, why, n);
    return true;
}

/* The report listener: the target's stream back to a domain whose ping is
 * in flight ended without authenticating, so no answer can come. */
static void probe_on_outcome(void *arg, const report_outcome *o)
{
    rs_daemon *srv = arg;
    if (o->leg != REPORT_LEG_IN || o->auth == REPORT_AUTH_OK || !o->close[0] ||
        strcmp(o->close, "open") == 0)
        return; /* not the final record of an unauthenticated inbound stream */
    if (o->evidence == REPORT_EVIDENCE_CLAIMED)
        return; /* anyone can claim to be the target: only its own address
                   may fail a probe early */
    for (rs_probe *p = srv->probes; p; p = p->next) {
        if (strcasecmp(p->target, o->remote) != 0)
            continue;
        for (size_t i = 0; i < p->next_send; i++) {
            probe_dom *d = &p->doms[i];
            if (d->result != PROBE_PENDING || o->time < d->sent_wall ||
                strcasecmp(d->name, o->local) != 0)
                continue;
            char brief[PROBE_DETAIL_MAX], detail[PROBE_DETAIL_MAX];
            report_outcome_brief(o, brief, sizeof brief);
            snprintf(detail, sizeof detail, "its stream to %s failed: %.260s",
                     d->name, brief);
            /* a stream nobody refused (it timed out, the network cut it)
             * says nothing of what the target accepts */
            finish(p, i, o->refused_by == REPORT_BY_NETWORK ? PROBE_UNKNOWN
                                                            : PROBE_REFUSED, detail);
        }
    }
}

void probe_stop_all(rs_daemon *srv)
{
    while (srv->probes) {
        rs_probe *p = srv->probes;
        p->stopped = true;
        for (size_t i = 0; i < p->n; i++)
            finish(p, i, PROBE_TIMEOUT, "not finished: the responder is stopping");
        deliver(p); /* every domain finished: ends and unlinks p */
    }
    probe_budget_free(budgets); /* no probe starts once stopping */
    budgets = NULL;
}
