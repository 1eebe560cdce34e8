/* verify.c -- remote certificate verification for s2s. */
#include "verify.h"
#include "verify_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_CHAIN 16

/* The VERIFY_EKU_* bits of leaf's EKU (verify_internal.h). */
unsigned verify__eku_bits(gnutls_x509_crt_t leaf)
{
    unsigned bits = 0;
    for (unsigned i = 0; i < VERIFY_ENTRIES_MAX; i++) {
        char oid[128];
        size_t len = sizeof oid;
        int rc = gnutls_x509_crt_get_key_purpose_oid(leaf, i, oid, &len, NULL);
        if (rc < 0)
            break;
        if (strcmp(oid, GNUTLS_KP_TLS_WWW_SERVER) == 0)
            bits |= VERIFY_EKU_SERVER;
        else if (strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0)
            bits |= VERIFY_EKU_CLIENT;
        else if (strcmp(oid, GNUTLS_KP_ANY) == 0)
            bits |= VERIFY_EKU_ANY;
        else
            bits |= VERIFY_EKU_OTHER;
    }
    return bits;
}

/* Describe the leaf's EKU and decide whether s2s may use it. */
static bool check_purpose(gnutls_x509_crt_t leaf, char *eku, size_t n)
{
    unsigned bits = verify__eku_bits(leaf);
    bool server = bits & VERIFY_EKU_SERVER, client = bits & VERIFY_EKU_CLIENT;
    bool any = bits & VERIFY_EKU_ANY, other = bits & VERIFY_EKU_OTHER;
    if (!bits) {
        snprintf(eku, n, "none");
        return true; /* no EKU extension: any purpose */
    }
    snprintf(eku, n, "%s%s%s%s%s%s%s", server ? "serverAuth" : "",
             server && (client || any || other) ? "+" : "",
             client ? "clientAuth" : "", client && (any || other) ? "+" : "",
             any ? "any" : "", any && other ? "+" : "", other ? "other" : "");
    return server || client || any;
}

/* Whether leaf carries a dNSName: then its CN is no name (RFC 6125 6.4.4).
 * An entry too long for the buffer is no DNS name (253 bytes at most). */
static bool verify_has_dnsname(gnutls_x509_crt_t leaf)
{
    for (unsigned i = 0; i < VERIFY_ENTRIES_MAX; i++) {
        char name[1024];
        size_t len = sizeof name;
        int rc = gnutls_x509_crt_get_subject_alt_name(leaf, i, name, &len, NULL);
        if (rc == GNUTLS_SAN_DNSNAME)
            return true;
        if (rc < 0 && rc != GNUTLS_E_SHORT_MEMORY_BUFFER)
            return false;
    }
    return false;
}

/* How the leaf names domain (verify_internal.h). GnuTLS's own check covers
 * dNSNames (wildcards included) and, without any, the CN; the XMPP
 * otherNames are ours. */
const char *verify__name_how(gnutls_x509_crt_t leaf, const char *domain)
{
    if (!domain || !domain[0])
        return NULL;
    bool host = gnutls_x509_crt_check_hostname2(leaf, domain, 0);
    if (host && verify_has_dnsname(leaf))
        return "DNS-ID";
    for (unsigned i = 0; i < VERIFY_ENTRIES_MAX; i++) {
        char name[1024];
        size_t len = sizeof name - 1;
        unsigned type = 0;
        int rc = gnutls_x509_crt_get_subject_alt_name2(leaf, i, name, &len,
                                                       &type, NULL);
        if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER)
            continue; /* longer than any name of ours */
        if (rc < 0)
            break; /* the end, or a malformed extension: every index fails */
        if (len >= sizeof name || memchr(name, '\0', len))
            continue; /* "domain\0evil" names nobody */
        name[len] = '\0';
        if (rc == GNUTLS_SAN_OTHERNAME_SRV &&
            strncasecmp(name, "_xmpp-server.", 13) == 0 &&
            strcasecmp(name + 13, domain) == 0)
            return "SRV-ID";
        if (rc == GNUTLS_SAN_OTHERNAME_XMPP && strcasecmp(name, domain) == 0)
            return "xmppAddr";
    }
    return host ? "CN" : NULL;
}

static void leaf_names(gnutls_x509_crt_t leaf, char *out, size_t n)
{
    out[0] = '\0';
    size_t used = 0;
    for (unsigned i = 0; i < 4; i++) {
        char name[256];
        size_t len = sizeof name - 1;
        unsigned type = 0;
        int rc = gnutls_x509_crt_get_subject_alt_name2(leaf, i, name, &len,
                                                       &type, NULL);
        if (rc < 0)
            break;
        name[len < sizeof name ? len : sizeof name - 1] = '\0';
        int w = snprintf(out + used, n - used, "%s%s", used ? "," : "", name);
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
    if (!used) {
        size_t len = n;
        if (gnutls_x509_crt_get_dn_by_oid(leaf, GNUTLS_OID_X520_COMMON_NAME, 0,
                                          0, out, &len) < 0)
            snprintf(out, n, "(no names)");
    }
}

bool verify_peer(gnutls_session_t session, gnutls_x509_trust_list_t trust,
                    const char *domain, verify_verdict *v)
{
    memset(v, 0, sizeof *v);
    unsigned n_raw = 0;
    const gnutls_datum_t *raw = gnutls_certificate_get_peers(session, &n_raw);
    if (!raw || n_raw == 0) {
        snprintf(v->reason, sizeof v->reason, "no certificate presented");
        return false;
    }
    v->presented = true;
    if (n_raw > MAX_CHAIN)
        n_raw = MAX_CHAIN;

    gnutls_x509_crt_t chain[MAX_CHAIN];
    unsigned n = 0;
    for (; n < n_raw; n++) {
        if (gnutls_x509_crt_init(&chain[n]) < 0)
            break;
        if (gnutls_x509_crt_import(chain[n], &raw[n], GNUTLS_X509_FMT_DER) < 0) {
            gnutls_x509_crt_deinit(chain[n]);
            break;
        }
    }
    if (n == 0) {
        snprintf(v->reason, sizeof v->reason, "certificate cannot be parsed");
        return false;
    }

    unsigned status = 0;
    int rc = gnutls_x509_trust_list_verify_crt2(trust, chain, n, NULL, 0, 0,
                                                &status, NULL);
    v->trusted = rc == 0 && status == 0;
    v->name_ok = verify__name_how(chain[0], domain) != NULL;
    v->purpose_ok = check_purpose(chain[0], v->eku, sizeof v->eku);

    if (!v->trusted) {
        gnutls_datum_t text = {0};
        if (rc == 0 && gnutls_certificate_verification_status_print(
                           status, GNUTLS_CRT_X509, &text, 0) == 0) {
            snprintf(v->reason, sizeof v->reason, "%s", text.data);
            gnutls_free(text.data);
        } else {
            snprintf(v->reason, sizeof v->reason, "chain not verified: %s",
                     rc < 0 ? gnutls_strerror(rc) : "untrusted");
        }
    } else if (!v->name_ok) {
        char names[200];
        leaf_names(chain[0], names, sizeof names);
        snprintf(v->reason, sizeof v->reason,
                 "certificate does not name %s (names: %s)", domain, names);
    } else if (!v->purpose_ok) {
        snprintf(v->reason, sizeof v->reason,
                 "certificate purpose (EKU %s) allows neither TLS server nor "
                 "client authentication", v->eku);
    }
    for (unsigned i = 0; i < n; i++)
        gnutls_x509_crt_deinit(chain[i]);
    return v->trusted && v->name_ok && v->purpose_ok;
}
