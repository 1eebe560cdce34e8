/* peercert.c -- a remote server's certificate chain described for grading
 * (peercert.h). GnuTLS verifies signatures, anchors and revocation with its
 * own clock switched off; the dates are judged here against the given time
 * along the path GnuTLS would take, so the result is the same at any hour. */
#include "peercert.h"
#include "utf8.h"
#include "verify_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PEERCERT_LOOKED_AT 16 /* certificates parsed; GnuTLS verifies no
                                 deeper chain by default */
#define PEERCERT_DAY 86400
#define PEERCERT_NAME_MAX 256 /* bytes of one name kept (a DNS name has 253) */

const char *peercert_eku_name(peercert_eku e)
{
    switch (e) {
    case PEERCERT_EKU_UNKNOWN:
        return "unknown";
    case PEERCERT_EKU_BOTH:
        return "both";
    case PEERCERT_EKU_SERVER_ONLY:
        return "serverAuth only";
    case PEERCERT_EKU_CLIENT_ONLY:
        return "clientAuth only";
    case PEERCERT_EKU_NONE_TLS:
        return "no TLS purpose";
    case PEERCERT_EKU_ABSENT:
        return "absent";
    }
    return "unknown";
}

const char *peercert_chain_name(peercert_chain c)
{
    switch (c) {
    case PEERCERT_CHAIN_OK:
        return "ok";
    case PEERCERT_CHAIN_INCOMPLETE:
        return "incomplete";
    case PEERCERT_CHAIN_UNTRUSTED:
        return "untrusted";
    case PEERCERT_CHAIN_EXPIRED:
        return "expired";
    case PEERCERT_CHAIN_NOT_YET:
        return "not yet valid";
    case PEERCERT_CHAIN_REVOKED:
        return "revoked";
    case PEERCERT_CHAIN_BAD:
        return "bad";
    case PEERCERT_CHAIN_NONE:
        return "none";
    }
    return "none";
}

/* src[0..len) into dst (size n > 0) as printable UTF-8: an invalid byte, a
 * control character (C0, DEL, C1) or, unless keep_space, a space becomes
 * '?'; cut at a character boundary when dst is full. */
static void peercert_clean(char *dst, size_t n, const char *src, size_t len,
                           bool keep_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < n;) {
        const unsigned char *p = (const unsigned char *)src + i;
        size_t c = utf8_char_len(p, len - i);
        bool control = c == 0 || *p < 0x20 || *p == 0x7f ||
                       (c == 2 && p[0] == 0xc2 && p[1] < 0xa0);
        if (control || (*p == ' ' && !keep_space)) {
            dst[o++] = '?';
            i += c ? c : 1;
            continue;
        }
        if (o + c >= n)
            break;
        memcpy(dst + o, p, c);
        o += c;
        i += c;
    }
    dst[o] = '\0';
}

/* printf into a fixed field (the text is ours, cut silently). */
static void peercert_say(char *dst, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, n, fmt, ap);
    va_end(ap);
}

/* A certificate's subject DN, cleaned, for a sentence. */
static void peercert_subject(gnutls_x509_crt_t crt, char *out, size_t n)
{
    gnutls_datum_t dn = {NULL, 0};
    out[0] = '\0';
    if (gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0)
        peercert_clean(out, n, (const char *)dn.data, dn.size, true);
    gnutls_free(dn.data);
}

/* One name appended to f->names, when it fits whole. */
static void peercert_add_name(peercert_findings *f, const char *name,
                              size_t len)
{
    char clean[PEERCERT_NAME_MAX];
    peercert_clean(clean, sizeof clean, name, len, false);
    size_t used = strlen(f->names), add = strlen(clean);
    if (add && used + (used ? 1 : 0) + add < sizeof f->names)
        peercert_say(f->names + used, sizeof f->names - used, "%s%s",
                     used ? " " : "", clean);
}

/* The leaf's names that can name an XMPP domain: dNSNames, SRV-IDs and
 * xmppAddrs, then the CN when no dNSName made it irrelevant. */
static void peercert_names(gnutls_x509_crt_t leaf, peercert_findings *f)
{
    bool dns = false;
    for (unsigned i = 0; i < VERIFY_ENTRIES_MAX; i++) {
        char name[1024];
        size_t len = sizeof name;
        unsigned type = 0;
        int rc = gnutls_x509_crt_get_subject_alt_name2(leaf, i, name, &len,
                                                       &type, NULL);
        if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER)
            continue;
        if (rc < 0)
            break;
        if (rc == GNUTLS_SAN_DNSNAME || rc == GNUTLS_SAN_OTHERNAME_SRV ||
            rc == GNUTLS_SAN_OTHERNAME_XMPP)
            peercert_add_name(f, name, len < sizeof name ? len : sizeof name);
        dns |= rc == GNUTLS_SAN_DNSNAME;
    }
    char cn[1024];
    size_t len = sizeof cn;
    if (!dns && gnutls_x509_crt_get_dn_by_oid(leaf, GNUTLS_OID_X520_COMMON_NAME,
                                              0, 0, cn, &len) >= 0)
        peercert_add_name(f, cn, len < sizeof cn ? len : sizeof cn);
}

/* "RSA 2048", "ECDSA P-256", "Ed25519" and whether it is too small. */
static void peercert_key(gnutls_x509_crt_t leaf, peercert_findings *f)
{
    unsigned bits = 0;
    int pk = gnutls_x509_crt_get_pk_algorithm(leaf, &bits);
    gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
    gnutls_datum_t x = {NULL, 0}, y = {NULL, 0};
    switch (pk) {
    case GNUTLS_PK_RSA:
    case GNUTLS_PK_RSA_PSS:
    case GNUTLS_PK_DSA:
        peercert_say(f->key, sizeof f->key, "%s %u",
                     pk == GNUTLS_PK_DSA       ? "DSA"
                     : pk == GNUTLS_PK_RSA_PSS ? "RSA-PSS"
                                               : "RSA",
                     bits);
        f->key_weak = bits < 2048;
        break;
    case GNUTLS_PK_ECDSA:
        if (gnutls_x509_crt_get_pk_ecc_raw(leaf, &curve, &x, &y) >= 0) {
            const char *nist = curve == GNUTLS_ECC_CURVE_SECP192R1   ? "P-192"
                               : curve == GNUTLS_ECC_CURVE_SECP224R1 ? "P-224"
                               : curve == GNUTLS_ECC_CURVE_SECP256R1 ? "P-256"
                               : curve == GNUTLS_ECC_CURVE_SECP384R1 ? "P-384"
                               : curve == GNUTLS_ECC_CURVE_SECP521R1 ? "P-521"
                                                                     : NULL;
            const char *name = gnutls_ecc_curve_get_name(curve);
            peercert_say(f->key, sizeof f->key, "ECDSA %s",
                         nist ? nist : name ? name : "?");
            bits = (unsigned)gnutls_ecc_curve_get_size(curve) * 8;
        } else {
            peercert_say(f->key, sizeof f->key, "ECDSA %u", bits);
        }
        gnutls_free(x.data);
        gnutls_free(y.data);
        f->key_weak = bits < 256;
        break;
    case GNUTLS_PK_EDDSA_ED25519:
        peercert_say(f->key, sizeof f->key, "Ed25519");
        break;
    case GNUTLS_PK_EDDSA_ED448:
        peercert_say(f->key, sizeof f->key, "Ed448");
        break;
    default:
        if (pk >= 0 && gnutls_pk_get_name((gnutls_pk_algorithm_t)pk))
            peercert_say(f->key, sizeof f->key, "%s %u",
                         gnutls_pk_get_name((gnutls_pk_algorithm_t)pk), bits);
        break;
    }
}

/* "RSA-SHA256", ... (the OID when GnuTLS does not know it) and whether
 * its hash is broken for signatures (MD2, MD5, SHA-1). */
static void peercert_signature(gnutls_x509_crt_t leaf, peercert_findings *f)
{
    int sign = gnutls_x509_crt_get_signature_algorithm(leaf);
    const char *name =
        sign > 0 ? gnutls_sign_get_name((gnutls_sign_algorithm_t)sign) : NULL;
    if (name) {
        peercert_say(f->signature, sizeof f->signature, "%s", name);
        gnutls_digest_algorithm_t dig =
            gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)sign);
        f->signature_weak = dig == GNUTLS_DIG_MD5 || dig == GNUTLS_DIG_MD2 ||
                            dig == GNUTLS_DIG_SHA1;
        return;
    }
    char oid[128];
    size_t len = sizeof oid;
    if (gnutls_x509_crt_get_signature_oid(leaf, oid, &len) >= 0)
        peercert_clean(f->signature, sizeof f->signature, oid,
                       len < sizeof oid ? len : sizeof oid, false);
}

static peercert_eku peercert_eku_of(gnutls_x509_crt_t leaf)
{
    unsigned bits = verify__eku_bits(leaf);
    bool server = bits & (VERIFY_EKU_SERVER | VERIFY_EKU_ANY);
    bool client = bits & (VERIFY_EKU_CLIENT | VERIFY_EKU_ANY);
    if (!bits)
        return PEERCERT_EKU_ABSENT;
    if (server && client)
        return PEERCERT_EKU_BOTH;
    if (server)
        return PEERCERT_EKU_SERVER_ONLY;
    return client ? PEERCERT_EKU_CLIENT_ONLY : PEERCERT_EKU_NONE_TLS;
}

/* Whole days from now to t, rounded down (-1 one second after). */
int peercert_days_left(int64_t t, int64_t now)
{
    int64_t d = t - now;
    int64_t days = d >= 0 ? d / PEERCERT_DAY
                          : -((-d + PEERCERT_DAY - 1) / PEERCERT_DAY);
    return days > 1000000 ? 1000000 : days < -1000000 ? -1000000 : (int)days;
}

static void peercert_date(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, n, "%Y-%m-%d", &tm))
        peercert_say(out, n, "?");
}

/* A date problem of crt (what: "the leaf", "certificate 2 of 3", "the
 * trust anchor") at now into f; false when it is within its validity. */
static bool peercert_dated(gnutls_x509_crt_t crt, const char *what,
                           int64_t now, peercert_findings *f)
{
    int64_t from = gnutls_x509_crt_get_activation_time(crt);
    int64_t until = gnutls_x509_crt_get_expiration_time(crt);
    char day[32];
    if (until == -1 || until < now) {
        f->chain = PEERCERT_CHAIN_EXPIRED;
        peercert_date(until, day, sizeof day);
        peercert_say(f->chain_problem, sizeof f->chain_problem,
                     "%s expired on %s", what, day);
        return true;
    }
    if (from == -1 || from > now) {
        f->chain = PEERCERT_CHAIN_NOT_YET;
        peercert_date(from, day, sizeof day);
        peercert_say(f->chain_problem, sizeof f->chain_problem,
                     "%s is not valid until %s", what, day);
        return true;
    }
    return false;
}

/* The certificate among crt[0..n) that issued crt[i] and is not used[]
 * yet; n when none was sent. */
static unsigned peercert_sent_issuer(gnutls_x509_crt_t *crt, unsigned n,
                                     unsigned i, const bool *used)
{
    for (unsigned j = 0; j < n; j++)
        if (!used[j] && gnutls_x509_crt_check_issuer(crt[i], crt[j]))
            return j;
    return n;
}

/* Whether trust holds the issuer of crt: the path ends there (and that
 * anchor's date problem at now, if any, is in f). */
static bool peercert_anchor(gnutls_x509_trust_list_t trust,
                            gnutls_x509_crt_t crt, int64_t now,
                            peercert_findings *f)
{
    gnutls_x509_crt_t anchor = NULL;
    if (!trust || gnutls_x509_trust_list_get_issuer(trust, crt, &anchor,
                                                    GNUTLS_TL_GET_COPY) < 0)
        return false;
    peercert_dated(anchor, "the trust anchor", now, f);
    gnutls_x509_crt_deinit(anchor);
    return true;
}

static void peercert_what(char *out, size_t n, unsigned i, unsigned len)
{
    if (i == 0)
        peercert_say(out, n, "the leaf");
    else
        peercert_say(out, n, "certificate %u of %u", i + 1, len);
}

/* A chain whose signatures and anchor verified: the dates at now along the
 * path, leaf first, up to the trust anchor. */
static void peercert_dates(gnutls_x509_crt_t *crt, unsigned n,
                           gnutls_x509_trust_list_t trust, int64_t now,
                           peercert_findings *f)
{
    bool used[PEERCERT_LOOKED_AT] = {false};
    unsigned i = 0;
    while (i < n) {
        char what[40];
        used[i] = true;
        peercert_what(what, sizeof what, i, f->chain_len);
        if (peercert_dated(crt[i], what, now, f) ||
            peercert_anchor(trust, crt[i], now, f))
            return;
        i = peercert_sent_issuer(crt, n, i, used);
    }
}

/* GnuTLS found no trust anchor: self-signed or an unknown root
 * (untrusted), or the path of sent certificates stops at one whose issuer
 * is neither sent nor an anchor (incomplete). */
static void peercert_unanchored(gnutls_x509_crt_t *crt, unsigned n,
                                peercert_findings *f)
{
    bool used[PEERCERT_LOOKED_AT] = {false};
    unsigned top = 0;
    used[0] = true;
    for (unsigned next; (next = peercert_sent_issuer(crt, n, top, used)) < n;)
        used[top = next] = true;
    char dn[256];
    if (gnutls_x509_crt_check_issuer(crt[top], crt[top])) {
        f->chain = PEERCERT_CHAIN_UNTRUSTED;
        peercert_subject(crt[top], dn, sizeof dn);
        peercert_say(f->chain_problem, sizeof f->chain_problem,
                     top == 0 ? "the certificate is self-signed: %s"
                              : "the chain ends at a root we do not trust: %s",
                     dn);
        return;
    }
    gnutls_datum_t issuer = {NULL, 0};
    dn[0] = '\0';
    if (gnutls_x509_crt_get_issuer_dn3(crt[top], &issuer, 0) >= 0)
        peercert_clean(dn, sizeof dn, (const char *)issuer.data, issuer.size,
                       true);
    gnutls_free(issuer.data);
    f->chain = PEERCERT_CHAIN_INCOMPLETE;
    peercert_say(f->chain_problem, sizeof f->chain_problem,
                 "the issuer was not sent and is no trust anchor: %s", dn);
}

/* How crt[0..n) verifies with trust at now. */
static void peercert_verify(gnutls_x509_crt_t *crt, unsigned n,
                            gnutls_x509_trust_list_t trust, int64_t now,
                            peercert_findings *f)
{
    unsigned status = GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND;
    int rc = trust ? gnutls_x509_trust_list_verify_crt2(
                         trust, crt, n, NULL, 0,
                         GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
                             GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
                         &status, NULL)
                   : 0;
    gnutls_datum_t text = {NULL, 0};
    if (rc < 0) {
        f->chain = PEERCERT_CHAIN_BAD;
        peercert_say(f->chain_problem, sizeof f->chain_problem,
                     "the chain could not be verified: %s", gnutls_strerror(rc));
    } else if (status & GNUTLS_CERT_REVOKED) {
        f->chain = PEERCERT_CHAIN_REVOKED;
        peercert_say(f->chain_problem, sizeof f->chain_problem,
                     "a certificate of the chain is revoked");
    } else if (status & GNUTLS_CERT_SIGNER_NOT_FOUND) {
        peercert_unanchored(crt, n, f);
    } else if (status) {
        f->chain = PEERCERT_CHAIN_BAD;
        if (gnutls_certificate_verification_status_print(
                status, GNUTLS_CRT_X509, &text, 0) >= 0)
            peercert_clean(f->chain_problem, sizeof f->chain_problem,
                           (const char *)text.data, text.size, true);
        gnutls_free(text.data);
    } else {
        f->chain = PEERCERT_CHAIN_OK; /* unless a date says otherwise */
        peercert_dates(crt, n, trust, now, f);
    }
}

/* Everything about the leaf itself. */
static void peercert_leaf(gnutls_x509_crt_t leaf, const char *domain,
                          int64_t now, peercert_findings *f)
{
    const char *how = domain ? verify__name_how(leaf, domain) : NULL;
    f->name_ok = how != NULL;
    peercert_say(f->name_how, sizeof f->name_how, "%s", how ? how : "");
    peercert_names(leaf, f);
    gnutls_datum_t issuer = {NULL, 0};
    if (gnutls_x509_crt_get_issuer_dn3(leaf, &issuer, 0) >= 0)
        peercert_clean(f->issuer, sizeof f->issuer, (const char *)issuer.data,
                       issuer.size, true);
    gnutls_free(issuer.data);
    f->not_before = gnutls_x509_crt_get_activation_time(leaf);
    f->not_after = gnutls_x509_crt_get_expiration_time(leaf);
    f->days_left = peercert_days_left(f->not_after, now);
    peercert_key(leaf, f);
    peercert_signature(leaf, f);
    f->eku = peercert_eku_of(leaf);
}

void peercert_analyse(const gnutls_datum_t *raw, unsigned n,
                      gnutls_x509_trust_list_t trust, const char *domain,
                      int64_t now, peercert_findings *out)
{
    memset(out, 0, sizeof *out);
    out->chain = PEERCERT_CHAIN_NONE;
    out->eku = PEERCERT_EKU_UNKNOWN;
    if (!raw || n == 0)
        return;
    out->present = true;
    out->chain_len = n;
    unsigned m = n < PEERCERT_LOOKED_AT ? n : PEERCERT_LOOKED_AT, parsed = 0;
    gnutls_x509_crt_t crt[PEERCERT_LOOKED_AT];
    for (; parsed < m; parsed++) {
        if (gnutls_x509_crt_init(&crt[parsed]) < 0)
            break;
        if (gnutls_x509_crt_import(crt[parsed], &raw[parsed],
                                   GNUTLS_X509_FMT_DER) < 0) {
            gnutls_x509_crt_deinit(crt[parsed]);
            break;
        }
    }
    if (parsed > 0)
        peercert_leaf(crt[0], domain, now, out);
    if (parsed < m) {
        char what[40];
        peercert_what(what, sizeof what, parsed, n);
        out->chain = PEERCERT_CHAIN_BAD;
        peercert_say(out->chain_problem, sizeof out->chain_problem,
                     "%s cannot be parsed", what);
    } else {
        peercert_verify(crt, parsed, trust, now, out);
    }
    for (unsigned i = 0; i < parsed; i++)
        gnutls_x509_crt_deinit(crt[i]);
}

void peercert_from_session(gnutls_session_t session,
                           gnutls_x509_trust_list_t trust, const char *domain,
                           int64_t now, peercert_findings *out)
{
    unsigned n = 0;
    const gnutls_datum_t *raw = NULL;
    if (gnutls_certificate_type_get2(session, GNUTLS_CTYPE_PEERS) ==
        GNUTLS_CRT_X509)
        raw = gnutls_certificate_get_peers(session, &n);
    peercert_analyse(raw, raw ? n : 0, trust, domain, now, out);
}

void peercert_json(rs_json *js, const peercert_findings *f)
{
    json_obj_begin(js);
    json_kv_bool(js, "present", f->present);
    json_kv_str(js, "chain", peercert_chain_name(f->chain));
    json_kv_str(js, "chain_problem", f->chain_problem);
    json_kv_int(js, "chain_len", f->chain_len);
    json_kv_bool(js, "name_ok", f->name_ok);
    json_kv_str(js, "name_how", f->name_how);
    json_kv_str(js, "names", f->names);
    json_kv_str(js, "issuer", f->issuer);
    json_kv_int(js, "not_before", f->not_before);
    json_kv_int(js, "not_after", f->not_after);
    json_kv_int(js, "days_left", f->days_left);
    json_kv_str(js, "key", f->key);
    json_kv_bool(js, "key_weak", f->key_weak);
    json_kv_str(js, "signature", f->signature);
    json_kv_bool(js, "signature_weak", f->signature_weak);
    json_kv_str(js, "eku", peercert_eku_name(f->eku));
    json_obj_end(js);
}
