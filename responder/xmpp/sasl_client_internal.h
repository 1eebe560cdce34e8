/* sasl_client_internal.h -- what sasl_client.c (the exchange, PLAIN, the
 * base64 around every step) shares with sasl_client_scram.c (both SCRAM
 * rounds). Not for other modules. */
#ifndef RS_SASL_CLIENT_INTERNAL_H
#define RS_SASL_CLIENT_INTERNAL_H

#include "sasl_client.h"

/* Where an exchange stands. */
typedef enum sasl_client_state {
    SASL_CLIENT_AWAIT_AUTH,  /* nothing seen yet: the next input is <auth/>'s */
    SASL_CLIENT_AWAIT_FIRST, /* empty challenge sent: the client's first message next */
    SASL_CLIENT_AWAIT_FINAL, /* SCRAM server-first sent: client-final next */
    SASL_CLIENT_DONE,        /* success or failure given: nothing more */
} sasl_client_state;

/* The gs2 header is "n," or "y," then "a=" and the escaped authzid, then ",". */
#define SASL_CLIENT_GS2_MAX (3 * SASL_CLIENT_NAME_MAX + 8)

struct rs_sasl_client {
    const sasl_client_account *account;        /* the account (not owned) */
    sasl_client_mech mech;                     /* the mechanism of <auth/> */
    bool encrypted;                            /* the stream is under TLS */
    sasl_client_state state;                   /* where the exchange stands */
    bool authenticated;                        /* success was given */
    bool known_user;                           /* SCRAM: the username is the account's */
    char domain[SASL_CLIENT_NAME_MAX + 1];     /* the stream's domain, "" none */
    char authzid[SASL_CLIENT_NAME_MAX + 1];    /* unescaped authzid, "" none */
    char fixed_nonce[SASL_CLIENT_NONCE_MAX + 1]; /* test hook's server nonce, "" random */
    char gs2_header[SASL_CLIENT_GS2_MAX + 1];  /* SCRAM: as received, with its last ',' */
    char nonce[2 * SASL_CLIENT_NONCE_MAX + 1]; /* SCRAM: client nonce + server nonce */
    char *auth_message;                        /* SCRAM: client-first-bare "," server-first,
                                                  malloc'd; client-final is appended */
};

/* What a mechanism's step hands back to sasl_client_step, which encodes it. */
typedef struct sasl_client_reply {
    char *raw;             /* malloc'd bytes for the challenge or success, NULL none */
    size_t raw_len;        /* their length */
    const char *condition; /* failure: RFC 6120 6.5 condition */
    const char *text;      /* failure: short reason */
} sasl_client_reply;

/* Set r's failure and give SASL_CLIENT_FAILURE. */
sasl_client_step_result sasl_client__refuse(sasl_client_reply *r, const char *condition,
                                            const char *text);

/* Whether authzid ("" none) may be asked for by the account's user. */
bool sasl_client__authzid_allowed(const rs_sasl_client *s, const char *authzid);

/* SCRAM's keys for the hash of mech from the normalised password pw (RFC
 * 5802 section 3). 0, or -1 on a GnuTLS failure. */
int sasl_client__scram_derive(sasl_client_mech mech, const unsigned char *pw, size_t pw_len,
                              const unsigned char *salt, size_t salt_len, unsigned iterations,
                              sasl_client_scram_keys *out);

/* A nonce (either half): printable ASCII but ',' (RFC 5802), 1 to
 * SASL_CLIENT_NONCE_MAX bytes. */
bool sasl_client__scram_nonce_ok(const char *v, size_t n);

/* The SCRAM rounds, on a decoded payload msg of len bytes (NUL-terminated,
 * without NUL inside). */
sasl_client_step_result sasl_client__scram_first(rs_sasl_client *s, const char *msg, size_t len,
                                                 sasl_client_reply *r);
sasl_client_step_result sasl_client__scram_final(rs_sasl_client *s, const char *msg, size_t len,
                                                 sasl_client_reply *r);

#endif
