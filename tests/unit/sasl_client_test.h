/* sasl_client_test.h -- what the sasl_client unit tests share: one step
 * with raw (unencoded) input and output, and a SCRAM client computed here
 * with GnuTLS from the password, independently of the module's account. */
#ifndef RS_SASL_CLIENT_TEST_H
#define RS_SASL_CLIENT_TEST_H

#include "check.h"
#include "sasl_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

/* What one step gave, decoded. */
typedef struct step_out {
    sasl_client_step_result res; /* the step's result */
    char out[8192];              /* decoded *b64_out, "" for none */
    int had_out;                 /* *b64_out was set */
    const char *condition;       /* failure condition or "" */
    const char *text;            /* failure text or "" */
} step_out;

/* One step with the text of the element as given (base64 or not). */
static inline step_out step_b64(rs_sasl_client *s, const char *b64_in)
{
    step_out o = {0};
    char *b64 = NULL;
    const char *cond, *text;
    o.res = sasl_client_step(s, b64_in, &b64, &cond, &text);
    o.condition = cond ? cond : "";
    o.text = text ? text : "";
    if (o.res == SASL_CLIENT_FAILURE && (!cond || !text || b64))
        o.condition = "(contract broken: failure without condition/text or with data)";
    if (o.res != SASL_CLIENT_FAILURE && (cond || text))
        o.condition = "(contract broken: condition without failure)";
    if (b64) {
        o.had_out = 1;
        gnutls_datum_t in = {(unsigned char *)b64, (unsigned)strlen(b64)}, raw = {NULL, 0};
        if (in.size && gnutls_base64_decode2(&in, &raw) == 0 && raw.size < sizeof o.out)
            memcpy(o.out, raw.data, raw.size);
        else if (in.size)
            strcpy(o.out, "(undecodable)");
        gnutls_free(raw.data);
        free(b64);
    }
    return o;
}

/* One step with raw bytes, base64-encoded here ("=" for none). */
static inline step_out step_raw(rs_sasl_client *s, const char *raw, size_t len)
{
    gnutls_datum_t in = {(unsigned char *)raw, (unsigned)len}, b64 = {NULL, 0};
    if (len == 0)
        return step_b64(s, "=");
    if (gnutls_base64_encode2(&in, &b64) < 0)
        abort();
    step_out o = step_b64(s, (const char *)b64.data);
    gnutls_free(b64.data);
    return o;
}

static inline step_out step_str(rs_sasl_client *s, const char *raw)
{
    return step_raw(s, raw, strlen(raw));
}

/* The value of attribute x= in a SCRAM message, into out. */
static inline void scram_attr(const char *msg, char x, char *out, size_t n)
{
    out[0] = '\0';
    for (const char *p = msg; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        if (p[0] == x && p[1] == '=') {
            size_t len = strcspn(p + 2, ",");
            snprintf(out, n, "%.*s", (int)len, p + 2);
            return;
        }
    }
}

/* The client's side of SCRAM from the password: client-final for the
 * server-first `server_first` (into final), and the v= the server must send
 * (into expect_v). gs2 is the header of client-first, bare the rest of it. */
static inline void scram_client_final(sasl_client_mech m, const char *password, const char *gs2,
                               const char *bare, const char *server_first, char *final,
                               size_t final_n, char *expect_v, size_t v_n)
{
    gnutls_mac_algorithm_t mac = m == SASL_CLIENT_SCRAM_SHA1 ? GNUTLS_MAC_SHA1 : GNUTLS_MAC_SHA256;
    gnutls_digest_algorithm_t dig =
        m == SASL_CLIENT_SCRAM_SHA1 ? GNUTLS_DIG_SHA1 : GNUTLS_DIG_SHA256;
    size_t hl = m == SASL_CLIENT_SCRAM_SHA1 ? 20 : 32;
    char nonce[600], salt_b64[200], iter[20];
    scram_attr(server_first, 'r', nonce, sizeof nonce);
    scram_attr(server_first, 's', salt_b64, sizeof salt_b64);
    scram_attr(server_first, 'i', iter, sizeof iter);
    gnutls_datum_t sb = {(unsigned char *)salt_b64, (unsigned)strlen(salt_b64)}, salt = {0};
    gnutls_datum_t g = {(unsigned char *)gs2, (unsigned)strlen(gs2)}, gb = {0};
    gnutls_datum_t pw = {(unsigned char *)password, (unsigned)strlen(password)};
    if (gnutls_base64_decode2(&sb, &salt) < 0 || gnutls_base64_encode2(&g, &gb) < 0)
        abort();
    unsigned char sp[32], ck[32], sk[32], svk[32], csig[32], ssig[32], proof[32];
    char *without, *am;
    if (asprintf(&without, "c=%s,r=%s", (const char *)gb.data, nonce) < 0 ||
        asprintf(&am, "%s,%s,%s", bare, server_first, without) < 0)
        abort();
    if (gnutls_pbkdf2(mac, &pw, &salt, (unsigned)atoi(iter), sp, hl) < 0 ||
        gnutls_hmac_fast(mac, sp, hl, "Client Key", 10, ck) < 0 ||
        gnutls_hash_fast(dig, ck, hl, sk) < 0 ||
        gnutls_hmac_fast(mac, sp, hl, "Server Key", 10, svk) < 0 ||
        gnutls_hmac_fast(mac, sk, hl, am, strlen(am), csig) < 0 ||
        gnutls_hmac_fast(mac, svk, hl, am, strlen(am), ssig) < 0)
        abort();
    for (size_t i = 0; i < hl; i++)
        proof[i] = ck[i] ^ csig[i];
    gnutls_datum_t pd = {proof, (unsigned)hl}, pb = {0}, sd = {ssig, (unsigned)hl}, vb = {0};
    if (gnutls_base64_encode2(&pd, &pb) < 0 || gnutls_base64_encode2(&sd, &vb) < 0)
        abort();
    snprintf(final, final_n, "%s,p=%s", without, (const char *)pb.data);
    snprintf(expect_v, v_n, "v=%s", (const char *)vb.data);
    free(without);
    free(am);
    gnutls_free(salt.data);
    gnutls_free(gb.data);
    gnutls_free(pb.data);
    gnutls_free(vb.data);
}

#endif
