/* s2s_out_internal.h -- what the outbound stream (s2s_out.c), its dialling
 * (s2s_out_dial.c) and what rides it (s2s_out_queue.c) share: the stream's
 * state and a few functions. Nothing else includes this. */
#ifndef RS_S2S_OUT_INTERNAL_H
#define RS_S2S_OUT_INTERNAL_H

#include <stdbool.h>
#include <sys/socket.h>

#include <uv.h>

#include "conn.h"
#include "dns.h"
#include "report.h"
#include "s2s_out.h"
#include "daemon.h"

#define MAX_ADDRS 16
#define MAX_VERIFIES 8

typedef enum {
    OUT_RESOLVE,    /* SRV lookup of the remote domain */
    OUT_ADDRESSES,  /* A/AAAA of the current SRV target */
    OUT_CONNECTING, /* TCP connect to the current address */
    OUT_HEADER,     /* our header is out; waiting for theirs */
    OUT_FEATURES,   /* waiting for <stream:features/> */
    OUT_STARTTLS,   /* sent <starttls/>; waiting for <proceed/> */
    OUT_TLS,        /* TLS handshake as client */
    OUT_SASL,       /* sent SASL EXTERNAL; waiting for the outcome */
    OUT_DIALBACK,   /* sent <db:result/>; waiting for its type */
    OUT_VERIFY_ONLY, /* we may not authenticate as the remote offers, but
                        dialback verifications ride the stream: waiting
                        for their answers, then closing */
    OUT_READY,      /* authenticated: stanzas flow */
    OUT_DONE        /* finished; being released */
} s2s_out_state;


/* A stanza waiting for the stream. */
typedef struct s2s_out_item {
    struct s2s_out_item *next;
    size_t len;
    char data[];
} s2s_out_item;

/* A dialback verification we carry for one of our inbound streams. */
typedef struct s2s_out_pending_verify {
    char id[128];        /* the stream id the key was made for */
    char key[130];       /* the key to check */
    unsigned requester;  /* inbound conn id that waits for the answer */
    bool sent;
} s2s_out_pending_verify;

struct rs_s2s_out {
    rs_daemon *srv;
    rs_domains *domains;            /* generation at creation (referenced) */
    const rs_domain *dom;           /* our test domain */
    char local[256];
    char remote[256];
    s2s_out_state state;
    uv_timer_t timer;               /* setup deadline, then idle */
    rs_conn *conn;                  /* current attempt, or NULL */
    struct rs_record *rec;          /* its outcome record (record.h); NULL
                                       with conn */
    rs_dns_req *dns_req;            /* lookup in flight, or NULL */
    dns_target_list targets;        /* SRV targets (or the domain), and the
                                       one being tried */
    struct sockaddr_storage addrs[MAX_ADDRS];
    size_t n_addrs, addr_i;
    char peer_stream_id[128];       /* id from the remote's header */
    bool authenticated;             /* SASL succeeded: next features = ready */
    bool verify_ok;                 /* db:verify may be sent now */
    char last_error[420];           /* why the last attempt failed */
    s2s_out_item *queue, **queue_tail;
    unsigned queued;
    size_t queued_bytes;            /* bytes of the queued stanzas */
    s2s_out_pending_verify verifies[MAX_VERIFIES];
    size_t n_verifies;
    bool connected_once;            /* some attempt got a conn (it reports) */
    bool heard_peer;                /* this attempt got the remote's header */
    s2s_out_reach reach;            /* the furthest any attempt got */
    bool starttls_offered;          /* its first features offered STARTTLS */
    grade_flag tls_required;        /* ... marked <required/> */
    report_presented *shown;        /* what it presented in TLS, until the
                                       features after it say the rest */
    struct rs_s2s_out *next;           /* in srv->outs */
};

/* Log a line about the stream (through its conn when it has one). */
void s2s_out__log(const rs_s2s_out *o, log_level level, const char *event,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Give up: log, bounce what is queued, answer pending verifications,
 * release. */
void s2s_out__fail(rs_s2s_out *o, const char *condition, const char *why);

/* Formatted output of any length on the current attempt, if any. */
#define s2s_out_send_fmt(o, ...)                                            \
    do {                                                                    \
        if ((o)->conn)                                                      \
            conn_send_fmt((o)->conn, __VA_ARGS__);                          \
    } while (0)

/* Tell the registered listener (s2s_out_events): a verification's answer,
 * stanzas dropped (why is public), our stream to the remote drained or
 * cut. */
void s2s_out__event_verdict(rs_s2s_out *o, unsigned requester, bool valid,
                            const char *why);
void s2s_out__event_undeliverable(rs_s2s_out *o, const char *why);

/* Note how far an attempt got; o->reach keeps the furthest. */
void s2s_out__reached(rs_s2s_out *o, s2s_out_reach reach);
void s2s_out__event_flow(rs_s2s_out *o, bool cut);

/* Free every queued stanza (the caller has reported them). */
void s2s_out__drop_queue(rs_s2s_out *o);

/* Send what is queued, now that the stream is ready. */
void s2s_out__flush_queue(rs_s2s_out *o);

/* Send the verifications not sent yet (once the remote spoke). */
void s2s_out__send_verifies(rs_s2s_out *o);

/* The remote answered one of our <db:verify/>: its verdict goes to the
 * listener. true when that was the last one waiting. */
bool s2s_out__verify_answered(rs_s2s_out *o, xmlNodePtr el);

/* A new outbound conn whose events drive o. NULL on allocation failure. */
rs_conn *s2s_out__conn_new(rs_s2s_out *o);

/* Look the remote up and connect to its first allowed address. */
void s2s_out__dial_start(rs_s2s_out *o);

/* The current address is done with (or there is none yet): connect to the
 * next allowed one, or fail when none is left. */
void s2s_out__dial_next_address(rs_s2s_out *o);

/* The connect to the current address failed: the detail to the log, the
 * public text to the conn; its close moves on to the next address. */
void s2s_out__dial_connect_failed(rs_s2s_out *o, const char *detail);

#endif
