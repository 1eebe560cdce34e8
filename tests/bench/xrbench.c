/* xrbench.c -- load generator for xmpp-responder's benchmark: a real s2s
 * peer (STARTTLS, SASL EXTERNAL with a certificate the target trusts; see
 * bench_conn.h) that measures what each unit of work costs the target, from
 * the target's /proc/PID/stat (utime+stime, so figures hold on a busy
 * machine) and VmRSS.
 *
 * Modes (each bounded by --count and --seconds):
 *   idle      open --count streams (--concurrency at a time being set up),
 *             hold them --hold-ms, report RSS growth per stream;
 *   sessions  --count new TLS + EXTERNAL sessions, each closed once
 *             authenticated, --concurrency at a time: CPU per session;
 *   ping      --streams outbound streams, then --count XEP-0199 pings with
 *             --window outstanding; the target answers on its own stream to
 *             our listener (--listen): CPU per ping, pings per second;
 *   echo      the same with messages to echo@TO (the responder's echo).
 * --background N first opens N idle streams and keeps them open, unmeasured,
 * so any mode shows what a crowd of established streams costs it.
 * Prints human lines and one "RESULT key=value ..." line; exits 0 only when
 * every stream authenticated and every ping or echo was answered. */
#include "bench_conn.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_CAS 8
#define MAX_PINGERS 64

typedef enum { MODE_IDLE, MODE_SESSIONS, MODE_PING, MODE_ECHO } bench_mode;

/* What one run is asked to do, and how far it got. */
typedef struct bench {
    bench_mode mode;          /* what to measure */
    unsigned count;           /* streams, sessions or stanzas */
    unsigned concurrency;     /* streams being set up at once */
    unsigned window;          /* stanzas outstanding (ping/echo) */
    unsigned streams;         /* outbound streams carrying stanzas */
    unsigned seconds;         /* bound on the whole run */
    unsigned hold_ms;         /* idle: settle before measuring RSS */
    int target_pid;           /* 0: measure nothing */
    struct sockaddr_in *sources; /* source addresses, round-robin */
    unsigned n_sources;       /* how many */
    unsigned background;      /* idle streams opened first, not measured */
    bool in_background;       /* opening those */
    unsigned held;            /* of those, authenticated */
    unsigned dialled;         /* outbound streams started */
    unsigned setting_up;      /* started, not yet ready or dead */
    unsigned ready;           /* outbound streams that authenticated */
    unsigned lost;            /* authenticated outbound streams that died */
    unsigned closed;          /* sessions closed by us after auth */
    unsigned in_ready;        /* the target's streams to us, authenticated */
    bc_conn *pingers[MAX_PINGERS]; /* ping/echo: the outbound streams */
    unsigned n_pingers;       /* how many are ready */
    unsigned sent;            /* measured stanzas sent */
    unsigned answered;        /* measured answers received */
    unsigned errors;          /* answers of type error */
    unsigned warm_sent;       /* warm-up stanzas (one per stream) */
    unsigned warm_answered;   /* their answers */
    double *sent_at;          /* send time per measured stanza (s) */
    double *latency;          /* answer latency per stanza (s), in order */
    unsigned n_latency;       /* filled entries */
    const char *from, *to;    /* our domain, the target's */
} bench;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the target's resources ---- */

typedef struct snap {
    double cpu_s;    /* target utime + stime */
    long rss_kb;     /* target VmRSS */
    long anon_kb;    /* of it anonymous (RssAnon): heap and stacks, not the
                        shared libraries' pages a first handshake touches */
    double self_s;   /* our own CPU */
    double wall;     /* monotonic time */
} snap;

static void take(const bench *b, snap *s)
{
    s->cpu_s = 0;
    s->rss_kb = 0;
    s->anon_kb = 0;
    s->wall = now();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    s->self_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
                ru.ru_stime.tv_usec / 1e6;
    if (!b->target_pid)
        return;
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", b->target_pid);
    FILE *f = fopen(path, "r");
    if (f && fgets(line, sizeof line, f)) {
        /* fields after "(comm) ": state is 3rd, utime 14th, stime 15th */
        char *p = strrchr(line, ')');
        unsigned long ut = 0, st = 0;
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                        &ut, &st) == 2)
            s->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    }
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "/proc/%d/status", b->target_pid);
    f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &s->rss_kb) != 1)
            sscanf(line, "RssAnon: %ld", &s->anon_kb);
    if (f)
        fclose(f);
}

/* ---- stanzas ---- */

static void send_stanza(bc_loop *l, bench *b, bc_conn *c, char kind, unsigned seq)
{
    char buf[512];
    int n;
    if (b->mode == MODE_ECHO)
        n = snprintf(buf, sizeof buf, "<message from='bench@%s/load' to='echo@%s' "
                     "type='chat' id='%c%u'><body>bench %u</body></message>",
                     b->from, b->to, kind, seq, seq);
    else
        n = snprintf(buf, sizeof buf, "<iq type='get' from='%s' to='%s' id='%c%u'>"
                     "<ping xmlns='urn:xmpp:ping'/></iq>", b->from, b->to, kind, seq);
    bc_send(l, c, buf, (size_t)n);
}

/* Keep the window full, round-robin over the streams. */
static void pump_stanzas(bc_loop *l, bench *b)
{
    if (!b->n_pingers)
        return;
    while (b->sent < b->count && b->sent - b->answered < b->window) {
        b->sent_at[b->sent] = now();
        send_stanza(l, b, b->pingers[b->sent % b->n_pingers], 'p', b->sent);
        b->sent++;
    }
}

/* ---- events ---- */

/* The first stream of each role says what TLS it got (TLS 1.3, X25519?). */
static void print_tls_once(bc_conn *c)
{
    static bool printed[2];
    if (printed[c->role] || !c->tls)
        return;
    printed[c->role] = true;
    char *d = gnutls_session_get_desc(c->tls);
    printf("# %s stream: %s\n", c->role == BC_OUT ? "our" : "the target's", d ? d : "?");
    gnutls_free(d);
}

static void on_ready(bc_loop *l, bc_conn *c)
{
    bench *b = l->cfg.ud;
    print_tls_once(c);
    if (c->role == BC_IN) {
        b->in_ready++;
        return;
    }
    b->setting_up--;
    b->ready++;
    if (b->in_background)
        return;
    if (b->mode == MODE_SESSIONS) {
        bc_close(l, c);
        b->closed++;
    } else if ((b->mode == MODE_PING || b->mode == MODE_ECHO) && b->n_pingers < MAX_PINGERS) {
        b->pingers[b->n_pingers++] = c;
    }
}

static void on_element(bc_loop *l, bc_conn *c, xmlNodePtr el)
{
    bench *b = l->cfg.ud;
    char id[64], type[32];
    (void)c;
    bc_attr(el, "id", id, sizeof id);
    bc_attr(el, "type", type, sizeof type);
    bool answer = (strcmp((const char *)el->name, "iq") == 0 && b->mode == MODE_PING &&
                   (strcmp(type, "result") == 0 || strcmp(type, "error") == 0)) ||
                  (strcmp((const char *)el->name, "message") == 0 && b->mode == MODE_ECHO);
    if (!answer)
        return; /* anything else the target sends (presence, disco) is not ours */
    if (strcmp(type, "error") == 0)
        b->errors++;
    if (id[0] == 'w') {
        b->warm_answered++;
    } else if (id[0] == 'p') {
        unsigned long seq = strtoul(id + 1, NULL, 10);
        if (seq < b->sent) {
            b->latency[b->n_latency++ % b->count] = now() - b->sent_at[seq];
            b->answered++;
        }
        pump_stanzas(l, b);
    }
}

static void on_dead(bc_loop *l, bc_conn *c, const char *why)
{
    bench *b = l->cfg.ud;
    if (c->role == BC_IN) {
        if (!c->was_ready)
            fprintf(stderr, "xrbench: the target's stream to us failed: %s\n", why);
        return;
    }
    if (!c->was_ready) {
        b->setting_up--;
        if (l->failed <= 5)
            fprintf(stderr, "xrbench: stream %u failed: %s\n", c->index, why);
    } else if (!c->closing) {
        b->lost++;
        for (unsigned i = 0; i < b->n_pingers; i++)
            if (b->pingers[i] == c)
                b->pingers[i] = b->pingers[--b->n_pingers];
    }
}

/* ---- the run ---- */

static void dial_more(bc_loop *l, bench *b, unsigned total, unsigned at_once)
{
    while (b->dialled < total && b->setting_up < at_once) {
        const struct sockaddr_in *src = b->n_sources ? &b->sources[b->dialled % b->n_sources] : NULL;
        bc_conn *c = bc_dial(l, (const struct sockaddr *)src, sizeof *src, b->dialled);
        b->dialled++;
        if (!c) {
            l->failed++;
            continue;
        }
        b->setting_up++;
    }
}

/* Run loop turns until done() or the deadline; false on the deadline. */
static bool run_until(bc_loop *l, bench *b, double deadline, bool (*done)(const bench *, const bc_loop *),
                      unsigned total, unsigned at_once)
{
    while (!done(b, l)) {
        if (now() >= deadline)
            return false;
        dial_more(l, b, total, at_once);
        bc_turn(l, 20);
    }
    return true;
}

static bool all_set_up(const bench *b, const bc_loop *l)
{
    return b->dialled >= b->count && b->setting_up == 0 && (void *)l;
}
static bool pingers_set_up(const bench *b, const bc_loop *l)
{
    (void)l;
    return b->dialled >= b->streams && b->setting_up == 0;
}
static bool warmed(const bench *b, const bc_loop *l)
{
    (void)l;
    return b->warm_answered >= b->warm_sent;
}
static bool all_answered(const bench *b, const bc_loop *l)
{
    (void)l;
    return b->answered >= b->count || (b->n_pingers == 0 && b->sent < b->count);
}
static bool all_closed(const bench *b, const bc_loop *l)
{
    return l->live[BC_OUT] <= b->held;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char *mode_name[] = {"idle", "sessions", "ping", "echo"};

/* One "RESULT" line plus readable lines; returns the exit status. */
static int report(bench *b, bc_loop *l, const snap *s0, const snap *s1, bool in_time)
{
    double cpu = s1->cpu_s - s0->cpu_s, wall = s1->wall - s0->wall;
    long drss = s1->rss_kb - s0->rss_kb;
    printf("RESULT mode=%s target=%s ok=%d count=%u background=%u", mode_name[b->mode],
           b->to, in_time && l->failed == 0 && b->lost == 0 && b->errors == 0, b->count,
           b->held);
    printf(" failed=%u lost=%u target_cpu_s=%.2f rss_before_kb=%ld rss_after_kb=%ld"
           " wall_s=%.3f gen_cpu_s=%.2f", l->failed, b->lost, cpu, s0->rss_kb, s1->rss_kb,
           wall, s1->self_s - s0->self_s);
    switch (b->mode) {
    case MODE_IDLE:
        printf(" streams=%u kib_per_stream=%.1f anon_kib_per_stream=%.1f"
               " cpu_ms_per_stream=%.3f\n", b->ready,
               b->ready ? (double)drss / b->ready : 0,
               b->ready ? (double)(s1->anon_kb - s0->anon_kb) / b->ready : 0,
               b->ready ? cpu * 1e3 / b->ready : 0);
        break;
    case MODE_SESSIONS:
        printf(" sessions=%u ms_per_session=%.3f sessions_per_s=%.1f\n", b->ready,
               b->ready ? cpu * 1e3 / b->ready : 0, wall > 0 ? b->ready / wall : 0);
        break;
    default: {
        unsigned n = b->n_latency < b->count ? b->n_latency : b->count;
        qsort(b->latency, n, sizeof *b->latency, cmp_double);
        printf(" answered=%u errors=%u us_per_stanza=%.2f per_s=%.0f p50_ms=%.2f"
               " p99_ms=%.2f streams=%u target_streams_in=%u\n", b->answered, b->errors,
               b->answered ? cpu * 1e6 / b->answered : 0, wall > 0 ? b->answered / wall : 0,
               n ? b->latency[n / 2] * 1e3 : 0, n ? b->latency[n * 99 / 100] * 1e3 : 0,
               b->n_pingers, b->in_ready);
    }
    }
    if (l->failed)
        printf("# %u streams failed; last: %s\n", l->failed, l->last_error);
    if (!in_time)
        printf("# the run hit its --seconds bound\n");
    fflush(stdout);
    return in_time && l->failed == 0 && b->lost == 0 && b->errors == 0 ? 0 : 1;
}

static bool background_set_up(const bench *b, const bc_loop *l)
{
    (void)l;
    return b->dialled >= b->background && b->setting_up == 0;
}

static int run(bench *b, bc_loop *l)
{
    double deadline = now() + b->seconds;
    snap s0, s1;
    bool in_time = true;
    if (b->background) {
        b->in_background = true;
        in_time = run_until(l, b, deadline, background_set_up, b->background, b->concurrency);
        b->in_background = false;
        b->held = b->ready;
        b->dialled = b->ready = 0;
        printf("# background: %u of %u idle streams authenticated\n", b->held, b->background);
        if (!in_time || b->held != b->background) {
            take(b, &s0);
            return report(b, l, &s0, &s0, false);
        }
    }
    take(b, &s0);
    switch (b->mode) {
    case MODE_IDLE:
        in_time = run_until(l, b, deadline, all_set_up, b->count, b->concurrency);
        for (double settle = now() + b->hold_ms / 1e3; now() < settle;)
            bc_turn(l, 20);
        take(b, &s1);
        if (b->ready != b->count - l->failed ||
            l->live[BC_OUT] != b->held + b->ready - b->lost)
            in_time = false;
        break;
    case MODE_SESSIONS:
        in_time = run_until(l, b, deadline, all_set_up, b->count, b->concurrency) &&
                  run_until(l, b, deadline, all_closed, b->count, b->concurrency);
        for (double settle = now() + 0.3; now() < settle;)
            bc_turn(l, 20); /* the target tears down the last ones */
        take(b, &s1);
        break;
    default:
        in_time = run_until(l, b, deadline, pingers_set_up, b->streams, b->streams);
        /* warm-up: one stanza per stream makes the target dial us back */
        for (unsigned i = 0; in_time && i < b->n_pingers; i++)
            send_stanza(l, b, b->pingers[i], 'w', b->warm_sent++);
        in_time = in_time && b->n_pingers &&
                  run_until(l, b, deadline, warmed, b->streams, b->streams);
        take(b, &s0);
        if (in_time) {
            pump_stanzas(l, b);
            in_time = run_until(l, b, deadline, all_answered, b->streams, b->streams);
        }
        take(b, &s1);
        if (b->answered < b->count)
            in_time = false;
    }
    int rc = report(b, l, &s0, &s1, in_time);
    for (bc_conn *c = l->all; c; c = c->next)
        bc_close(l, c);
    for (double end = now() + 2; l->all && now() < end;)
        bc_turn(l, 20);
    return rc;
}

/* ---- command line ---- */

static int parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[256];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host)
        return -1;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = 0;
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                             .ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
        return -1;
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

/* "127.0.1.1-50": the last octet from 1 to 50. */
static int parse_sources(const char *text, bench *b)
{
    char base[64];
    unsigned last = 0;
    const char *dash = strchr(text, '-');
    snprintf(base, sizeof base, "%.*s", dash ? (int)(dash - text) : (int)strlen(text), text);
    struct in_addr a;
    if (inet_pton(AF_INET, base, &a) != 1)
        return -1;
    unsigned first = ntohl(a.s_addr) & 0xff;
    last = dash ? (unsigned)atoi(dash + 1) : first;
    if (last < first || last > 255)
        return -1;
    b->n_sources = last - first + 1;
    b->sources = calloc(b->n_sources, sizeof *b->sources);
    for (unsigned i = 0; i < b->n_sources; i++) {
        b->sources[i].sin_family = AF_INET;
        b->sources[i].sin_addr.s_addr = htonl((ntohl(a.s_addr) & ~0xffu) | (first + i));
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: xrbench --mode idle|sessions|ping|echo --target IP:PORT --to DOMAIN\n"
            "  --from DOMAIN --cert PEM --key PEM --ca PEM [--ca PEM ...]\n"
            "  [--listen IP:PORT] (ping, echo: where the target's replies arrive)\n"
            "  [--count N] [--concurrency N] [--window N] [--streams N] [--seconds S]\n"
            "  [--hold-ms MS] [--source 127.0.1.1-50] [--target-pid PID] [--priority P]\n"
            "  [--background N] (idle streams held open before the mode, unmeasured)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    bench b = {.count = 100, .concurrency = 20, .window = 100, .streams = 1,
               .seconds = 60, .hold_ms = 1000};
    bc_config cfg = {.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X25519"};
    const char *cas[MAX_CAS + 1] = {0}, *listen_at = NULL, *mode = NULL;
    unsigned n_cas = 0;
    static const struct option opts[] = {
        {"mode", 1, 0, 'm'}, {"target", 1, 0, 't'}, {"to", 1, 0, 'T'}, {"from", 1, 0, 'F'},
        {"cert", 1, 0, 'c'}, {"key", 1, 0, 'k'}, {"ca", 1, 0, 'a'}, {"listen", 1, 0, 'l'},
        {"count", 1, 0, 'n'}, {"concurrency", 1, 0, 'C'}, {"window", 1, 0, 'w'},
        {"streams", 1, 0, 's'}, {"seconds", 1, 0, 'S'}, {"hold-ms", 1, 0, 'H'},
        {"source", 1, 0, 'r'}, {"background", 1, 0, 'b'}, {"target-pid", 1, 0, 'p'}, {"priority", 1, 0, 'P'}, {0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'm': mode = optarg; break;
        case 't':
            if (parse_addr(optarg, &cfg.target, &cfg.target_len) < 0)
                usage();
            break;
        case 'T': cfg.to = optarg; break;
        case 'F': cfg.from = optarg; break;
        case 'c': cfg.cert = optarg; break;
        case 'k': cfg.key = optarg; break;
        case 'a':
            if (n_cas < MAX_CAS)
                cas[n_cas++] = optarg;
            break;
        case 'l': listen_at = optarg; break;
        case 'n': b.count = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'C': b.concurrency = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'w': b.window = (unsigned)strtoul(optarg, NULL, 10); break;
        case 's': b.streams = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'S': b.seconds = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'H': b.hold_ms = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'r':
            if (parse_sources(optarg, &b) < 0)
                usage();
            break;
        case 'p': b.target_pid = atoi(optarg); break;
        case 'b': b.background = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'P': cfg.priority = optarg; break;
        default: usage();
        }
    }
    if (!mode || !cfg.to || !cfg.from || !cfg.cert || !cfg.key || !cfg.target_len ||
        b.count == 0 || b.concurrency == 0 || b.window == 0 || b.streams == 0 ||
        b.streams > MAX_PINGERS || b.seconds == 0)
        usage();
    for (b.mode = MODE_IDLE; b.mode <= MODE_ECHO && strcmp(mode_name[b.mode], mode); b.mode++)
        ;
    if (b.mode > MODE_ECHO || ((b.mode == MODE_PING || b.mode == MODE_ECHO) && !listen_at))
        usage();
    b.from = cfg.from;
    b.to = cfg.to;
    b.sent_at = calloc(b.count, sizeof *b.sent_at);
    b.latency = calloc(b.count, sizeof *b.latency);
    if (!b.sent_at || !b.latency)
        return 1;
    cfg.cas = cas;
    cfg.ev = (bc_events){on_ready, on_element, on_dead};
    cfg.ud = &b;
    signal(SIGPIPE, SIG_IGN);

    bc_loop l;
    char err[512];
    if (bc_loop_init(&l, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "xrbench: %s\n", err);
        return 1;
    }
    if (listen_at) {
        struct sockaddr_storage ss;
        socklen_t len;
        if (parse_addr(listen_at, &ss, &len) < 0 ||
            bc_listen(&l, (struct sockaddr *)&ss, len, err, sizeof err) < 0) {
            fprintf(stderr, "xrbench: --listen %s: %s\n", listen_at, err);
            return 1;
        }
    }
    int rc = run(&b, &l);
    bc_loop_free(&l);
    free(b.sent_at);
    free(b.latency);
    free(b.sources);
    return rc;
}
