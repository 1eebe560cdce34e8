/* clients.h -- what clients did with the test domains, keyed by the
 * client's address (what TCP shows: no claim to check): TLS or the alert it
 * sent, authentication, binding, pings, echoes; and a verdict per test
 * domain from the catalog's client column. In memory and bounded
 * (README.md); addresses are never listed for strangers. */
#ifndef RS_CLIENTS_H
#define RS_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "conn.h"
#include "json.h"
#include "report.h"

#define CLIENTS_MAX_ADDRESSES 256 /* client addresses kept */
#define CLIENTS_HISTORY 16        /* outcomes kept per address, newest first */

/* What one client stream did. Strings are "" when unknown; (net) marks text
 * that came from the network and must be escaped when shown. */
typedef struct clients_outcome {
    int64_t time;              /* unix seconds when it ended (or last update) */
    char address[64];          /* the client's IP, as libuv prints it */
    char local[256];           /* the test domain it asked for */
    char profile[32];          /* its catalog label */
    bool direct_tls;           /* came in on the XEP-0368 port */
    char tls[64];              /* "TLS1.3 AES-256-GCM"; "" = no TLS */
    char sni[256];             /* the SNI it sent, "" = none (net) */
    char alert[64];            /* "received bad_certificate": the client's alert */
    char auth[24];             /* mechanism tried: "SCRAM-SHA-256", ... */
    bool auth_ok;              /* it authenticated */
    char auth_error[128];      /* our SASL failure condition, if any */
    bool password_in_clear;    /* sent PLAIN without TLS */
    bool bound;                /* bound a resource */
    unsigned pings;            /* pings answered for it */
    unsigned echoes;           /* echo messages answered for it */
    report_refusal refused_by; /* who ended it before authentication */
    report_step step;          /* where it was when it ended */
    char close[200];           /* how the stream ended (net) */
} clients_outcome;

/* One row of a client's matrix. */
typedef struct clients_cell {
    const config_domain *domain;  /* the test domain */
    const clients_outcome *latest; /* its latest outcome, or NULL */
    report_seen seen;              /* ACCEPT: connected; REFUSE: the client
                                      refused (alert, or left the handshake
                                      or the stream before authenticating) */
    report_verdict verdict;        /* against the catalog's client column */
    char explanation[512];         /* for client developers (net text) */
} clients_cell;

typedef struct rs_clients rs_clients;
typedef struct rs_clients_record rs_clients_record;

/* An empty store. NULL on allocation failure. */
rs_clients *clients_new(void);
void clients_free(rs_clients *cs);

/* A record for the client stream c, fed by c's events (TLS, alerts, the
 * close) and by the owner (below); it goes into cs when c closes, and is
 * freed with c. NULL on allocation failure. */
rs_clients_record *clients_attach(rs_clients *cs, rs_conn *c, bool direct_tls);

/* The owner's side: the domain the stream is for, a SASL attempt and how it
 * ended, the password sent in the clear, the resource bound, a ping or an
 * echo answered, the step the stream is at. NULL records are ignored. */
void clients_set_domain(rs_clients_record *r, const char *local, const char *profile);
void clients_auth(rs_clients_record *r, const char *mechanism, bool ok,
                  const char *condition);
void clients_password_in_clear(rs_clients_record *r);
void clients_bound(rs_clients_record *r);
void clients_answered(rs_clients_record *r, bool echo);
void clients_set_step(rs_clients_record *r, report_step step);

/* Add o (copied). Outcomes without a test domain are dropped. */
void clients_add(rs_clients *cs, const clients_outcome *o);

/* One cell per domain of cfg for address, in config order; cells must hold
 * cfg->n_domains. Pointers stay valid until the next clients_add. */
void clients_matrix(const rs_clients *cs, const char *address,
                    const rs_config *cfg, clients_cell *cells);

/* Whether anything is known about address. */
bool clients_known(const rs_clients *cs, const char *address);

/* How many addresses are kept (the count only: addresses are not listed). */
size_t clients_count(const rs_clients *cs);

/* The matrix of address as JSON: {"address","known","summary","domains":[...]}. */
void clients_matrix_json(rs_json *j, const rs_clients *cs, const char *address,
                         const rs_config *cfg);

/* "connected", "refused", "nothing seen" (the client's view of seen). */
const char *clients_seen_name(report_seen seen);

#endif
