/* acme.h -- what the daemon and the CLI know of a public instance's ACME
 * certificates, kept in STATE/acme/ with deploy/acme-renew (which runs
 * uacme): the http-01 tokens the daemon serves, acme_plan (what uacme must
 * do for each row) and acme_install (each row's certificate from uacme's
 * files, as its catalog source says). The files: xmpp-responder(8), FILES,
 * and README.md. */
#ifndef RS_ACME_H
#define RS_ACME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

#define ACME_UACME_DIR "acme/uacme"           /* uacme's confdir in STATE */
#define ACME_CHALLENGE_DIR "acme/challenges"  /* http-01 tokens in STATE */
#define ACME_LIVE_DIR CONFIG_ACME_LIVE_DIR    /* installed certificates */
#define ACME_TOKEN_MAX 128                    /* longest token we serve */
#define ACME_KEYAUTH_MAX 512                  /* largest answer we serve */
#define ACME_RENEW_DAYS 30                    /* renew this close to expiry */

/* Whether domain d's certificate comes from ACME under cfg: a public
 * instance, a row whose source is not the test CA, no cert in the file. */
bool acme_applies(const rs_config *cfg, const config_domain *d);

/* Whether token may name a challenge file: 1..ACME_TOKEN_MAX characters of
 * the base64url alphabet (RFC 8555 8.3), so never a path. */
bool acme_token_valid(const char *token);

/* The key authorization for token from STATE/acme/challenges, at most cap
 * bytes into out. 0 with *len set, or -1 when the token is invalid, absent,
 * unreadable or too large. */
int acme_challenge_read(const char *state_dir, const char *token, char *out,
                        size_t cap, size_t *len);

/* Print what the renewal must ask uacme for, one action per line,
 * tab-separated, after "state STATE_DIR"; lines starting with '#' say why a
 * row needs nothing:
 *   issue    NAME KEYTYPE BITS IDENT   obtain or renew (uacme decides
 *                                      whether it is due) by http-01
 *   dns01    NAME KEYTYPE BITS IDENT   the same, by dns-01 (wildcards)
 *   revoke   NAME KEYTYPE BITS IDENT   obtain a fresh one and revoke it
 *                                      (no revoked one is valid for more
 *                                      than days)
 * KEYTYPE is uacme's (EC or RSA). Returns the number of action lines. */
size_t acme_plan(const rs_config *cfg, int64_t now, unsigned days, FILE *out);

/* Write STATE/acme/live/NAME.pem and .key for every domain acme_applies
 * to, from uacme's files, saying on out what each presents now. Returns the
 * number of domains that could not be installed (0 = all well; a derived
 * row still waiting for its certificate is not a failure). */
size_t acme_install(const rs_config *cfg, int64_t now, FILE *out);

#endif
