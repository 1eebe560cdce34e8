/* sasl_client.h -- the server side of client SASL (RFC 6120 section 6) for
 * the published test account: PLAIN (RFC 4616), SCRAM-SHA-1 (RFC 5802) and
 * SCRAM-SHA-256 (RFC 7677), never the -PLUS variants. No sockets: the c2s
 * stream machine feeds the text of <auth/> and <response/> and sends what
 * comes back. Every primitive is GnuTLS's. Identities, what a failure tells
 * and the bounds: README.md. */
#ifndef RS_SASL_CLIENT_H
#define RS_SASL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#define SASL_CLIENT_PAYLOAD_MAX 4096  /* longest decoded payload of one step */
#define SASL_CLIENT_NAME_MAX 1023     /* longest username or authzid (bytes) */
#define SASL_CLIENT_NONCE_MAX 256     /* longest client nonce (printable ASCII) */
#define SASL_CLIENT_SALT_MAX 64       /* longest salt */
#define SASL_CLIENT_HASH_MAX 32       /* largest digest (SHA-256) */
#define SASL_CLIENT_ITERATIONS 4096   /* PBKDF2 iterations of a new account */

/* A mechanism; SASL_CLIENT_MECH_COUNT of them, in order of preference from
 * the last. */
typedef enum sasl_client_mech {
    SASL_CLIENT_PLAIN,        /* "PLAIN": only over an encrypted stream */
    SASL_CLIENT_SCRAM_SHA1,   /* "SCRAM-SHA-1" */
    SASL_CLIENT_SCRAM_SHA256, /* "SCRAM-SHA-256" */
} sasl_client_mech;
#define SASL_CLIENT_MECH_COUNT 3

/* What SCRAM keeps for one hash (RFC 5802 section 3), never the password. */
typedef struct sasl_client_scram_keys {
    unsigned char stored_key[SASL_CLIENT_HASH_MAX]; /* H(HMAC(SaltedPassword, "Client Key")) */
    unsigned char server_key[SASL_CLIENT_HASH_MAX]; /* HMAC(SaltedPassword, "Server Key") */
} sasl_client_scram_keys;

/* The one account, derived once at start. No resources: copy or drop it. */
typedef struct sasl_client_account {
    char username[SASL_CLIENT_NAME_MAX + 1]; /* the authcid, e.g. "test" */
    unsigned char plain_digest[SASL_CLIENT_HASH_MAX]; /* SHA-256 of the normalised
                                                         password, what PLAIN compares */
    unsigned char salt[SASL_CLIENT_SALT_MAX]; /* SCRAM salt */
    size_t salt_len;                          /* its length in bytes */
    unsigned iterations;                      /* SCRAM iteration count */
    sasl_client_scram_keys sha1;              /* keys of SCRAM-SHA-1 */
    sasl_client_scram_keys sha256;            /* keys of SCRAM-SHA-256 */
} sasl_client_account;

/* One exchange, from <auth/> to <success/> or <failure/>. */
typedef struct rs_sasl_client rs_sasl_client;

/* What one step decided. */
typedef enum sasl_client_step_result {
    SASL_CLIENT_CHALLENGE, /* send <challenge/> with *b64_out, wait for <response/> */
    SASL_CLIENT_SUCCESS,   /* send <success/> with *b64_out (NULL: empty element) */
    SASL_CLIENT_FAILURE,   /* send <failure/> with *condition and *text; over */
} sasl_client_step_result;

/* The mechanism's name as offered in <mechanisms/>. */
const char *sasl_client_mech_name(sasl_client_mech m);

/* The mechanism the <auth mechanism='NAME'/> names (exact, case-sensitive).
 * 0, or -1 for one we do not know (the caller answers invalid-mechanism). */
int sasl_client_mech_parse(const char *name, sasl_client_mech *out);

/* Whether to offer m on a stream; PLAIN only when it is encrypted. */
bool sasl_client_mech_offered(sasl_client_mech m, bool encrypted);

/* Derive the account from username and password (normalised as a PRECIS
 * OpaqueString by GnuTLS) with a random 16-byte salt and
 * SASL_CLIENT_ITERATIONS. 0, or -1 (name too long, password not UTF-8, or a
 * GnuTLS failure). */
int sasl_client_account_init(sasl_client_account *a, const char *username, const char *password);

/* The same with a given salt and iteration count (the RFC test vectors). */
int sasl_client_account_init_salted(sasl_client_account *a, const char *username,
                                    const char *password, const unsigned char *salt,
                                    size_t salt_len, unsigned iterations);

/* A new exchange for mechanism m against a (which must outlive it), on a
 * stream to domain (NULL: no username@domain authzid) that is encrypted or
 * not. NULL without memory. */
rs_sasl_client *sasl_client_new(const sasl_client_account *a, sasl_client_mech m,
                                const char *domain, bool encrypted);

void sasl_client_free(rs_sasl_client *s);

/* For tests: use server_nonce (printable ASCII without ',') instead of a
 * random one. 0, or -1 when it is not acceptable. */
int sasl_client_fix_nonce(rs_sasl_client *s, const char *server_nonce);

/* One step: b64_in is the text of <auth/> (first call) or <response/>:
 * base64, "=" for present but empty, "" or NULL for none (an <auth/> without
 * initial response gets an empty challenge). *b64_out is set to a malloc'd
 * base64 string or NULL; *condition (an RFC 6120 6.5 element name such as
 * "not-authorized") and *text (a short reason) are set on failure, NULL
 * otherwise. A failure without memory is temporary-auth-failure. */
sasl_client_step_result sasl_client_step(rs_sasl_client *s, const char *b64_in, char **b64_out,
                                         const char **condition, const char **text);

/* After SASL_CLIENT_SUCCESS: the authenticated username; NULL before. */
const char *sasl_client_username(const rs_sasl_client *s);

/* After SASL_CLIENT_SUCCESS: the authzid the client asked for, "" for none;
 * NULL before. */
const char *sasl_client_authzid(const rs_sasl_client *s);

#endif
