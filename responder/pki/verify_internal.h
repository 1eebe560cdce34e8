/* verify_internal.h -- what verify.c and peercert.c both ask of a leaf
 * certificate: whether and how it names a domain, and which purposes its
 * extended key usage lists. One answer for accepting a stream and for
 * grading a peer. */
#ifndef RS_VERIFY_INTERNAL_H
#define RS_VERIFY_INTERNAL_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/* Entries of a SAN or EKU extension looked at: a malformed extension fails
 * at every index, so no loop may wait for "no more data". */
#define VERIFY_ENTRIES_MAX 64

/* The purposes an EKU extension lists, as bits; 0: no EKU extension. */
typedef enum {
    VERIFY_EKU_SERVER = 1 << 0, /* id-kp-serverAuth */
    VERIFY_EKU_CLIENT = 1 << 1, /* id-kp-clientAuth */
    VERIFY_EKU_ANY = 1 << 2,    /* anyExtendedKeyUsage */
    VERIFY_EKU_OTHER = 1 << 3   /* any other purpose */
} verify_eku_bit;

/* The VERIFY_EKU_* bits of leaf's EKU. */
unsigned verify__eku_bits(gnutls_x509_crt_t leaf);

/* How leaf names domain (RFC 6120 13.7.1.2, RFC 6125): "DNS-ID" (a
 * dNSName, wildcards included), "SRV-ID" (_xmpp-server.domain), "xmppAddr",
 * "CN" (the subject's CN, only when there is no dNSName); NULL when it
 * does not. */
const char *verify__name_how(gnutls_x509_crt_t leaf, const char *domain);

#endif
