/* catalog.h -- the one table of test profiles.
 *
 * Every test domain LABEL.BASE is bound to one profile. Certificates (certs/),
 * the zone (zones/), the default config written by `init`, disco#info text,
 * the echo contact's presence status and the tests' expectations are all
 * generated from the rows in catalog.c. Adding a profile = adding a row.
 */
#ifndef RS_CATALOG_H
#define RS_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

/* What the profile is about. */
typedef enum {
    CAT_KIND_CERT,     /* a certificate property */
    CAT_KIND_PROTOCOL, /* a stream / TLS / auth policy */
    CAT_KIND_DNS       /* a DNS record set */
} cat_kind;

/* Key type and size of the leaf. */
typedef enum {
    CAT_KEY_ECDSA_P256, /* default: cheap handshakes */
    CAT_KEY_RSA2048,
    CAT_KEY_RSA1024
} cat_key;

/* Extended Key Usage bits of the leaf. */
enum {
    CAT_EKU_NONE = 0,        /* no EKU extension at all */
    CAT_EKU_SERVER = 1 << 0, /* id-kp-serverAuth */
    CAT_EKU_CLIENT = 1 << 1  /* id-kp-clientAuth */
};

/* Validity window of the leaf. */
typedef enum {
    CAT_VALID_NOW,      /* valid from yesterday for a year */
    CAT_VALID_EXPIRED,  /* expired a month ago */
    CAT_VALID_NOT_YET   /* starts in a year */
} cat_validity;

/* Who signed the leaf. */
typedef enum {
    CAT_ISSUER_INTERMEDIATE, /* our test root -> intermediate -> leaf */
    CAT_ISSUER_SELF,         /* self-signed leaf */
    CAT_ISSUER_UNTRUSTED     /* a second root that nobody trusts */
} cat_issuer;

/* Which names the leaf carries. */
typedef enum {
    CAT_NAMES_DNS,       /* CN + dNSName = the domain */
    CAT_NAMES_WRONG,     /* CN + dNSName = wrong-name-LABEL.invalid */
    CAT_NAMES_CN_ONLY,   /* CN only, no subjectAltName */
    CAT_NAMES_XMPPADDR,  /* id-on-xmppAddr otherName only */
    CAT_NAMES_SRVNAME,   /* SRVName _xmpp-server.DOMAIN only (RFC 4985) */
    CAT_NAMES_WILDCARD   /* dNSName *.BASE */
} cat_names;

/* Signature hash the issuer uses on the leaf. */
typedef enum {
    CAT_SIG_SHA256,
    CAT_SIG_SHA1
} cat_sig;

/* How to make the certificate a profile presents. */
typedef struct cat_cert_recipe {
    cat_key key;           /* leaf key type */
    unsigned eku;          /* CAT_EKU_* bits */
    cat_validity validity; /* validity window */
    cat_issuer issuer;     /* signer of the leaf */
    cat_names names;       /* names in the leaf */
    cat_sig sig;           /* signature hash */
    bool omit_chain;       /* do not send the intermediate */
    bool revoked;          /* serial listed in the CRL init writes */
} cat_cert_recipe;

/* Authentication methods, as bits. */
enum {
    CAT_AUTH_EXTERNAL = 1 << 0, /* SASL EXTERNAL (XEP-0178) */
    CAT_AUTH_DIALBACK = 1 << 1  /* server dialback (XEP-0220) */
};

/* TLS policy of the streams we receive. */
typedef enum {
    CAT_TLS_REQUIRED,   /* STARTTLS offered and required before anything else */
    CAT_TLS_NONE,       /* not offered: plaintext stream (and plaintext out) */
    CAT_TLS_DIRECT_ONLY /* XEP-0368 direct TLS port only; STARTTLS port says
                           host-unknown */
} cat_starttls;

/* How a profile's streams behave. */
typedef struct cat_stream_policy {
    unsigned auth_in;       /* methods we offer peers dialling us */
    unsigned auth_out;      /* methods we use when dialling peers */
    cat_starttls starttls;  /* STARTTLS offered/required */
    const char *tls_priority; /* GnuTLS priority string; NULL = tls.c's
                                 default (TLS 1.2 and later, RFC 8996) */
} cat_stream_policy;

/* DNS records of the domain in the zone (besides its A/AAAA). */
typedef enum {
    CAT_DNS_SRV,        /* _xmpp-server._tcp SRV to the domain itself */
    CAT_DNS_NO_SERVICE, /* SRV target "." (RFC 2782: no service here) */
    CAT_DNS_NO_TARGET,  /* SRV to a name that does not exist */
    CAT_DNS_NO_ADDRESS, /* SRV to a name with no A/AAAA (a TXT only) */
    CAT_DNS_DIRECT_TLS, /* _xmpps-server._tcp SRV to the direct TLS port only */
    CAT_DNS_TLSA        /* SRV plus TLSA 3 1 1 of the key under _PORT._tcp */
} cat_dns_shape;

/* What a server does with a ping from / to this domain. */
typedef enum {
    CAT_EXPECT_ACCEPT, /* ping answered */
    CAT_EXPECT_REFUSE  /* ping fails */
} cat_expect;

/* The real servers the interop matrix runs against (Debian 12 packages). */
typedef enum {
    CAT_PEER_PROSODY_STRICT,    /* Prosody 0.12, s2s_secure_auth = true */
    CAT_PEER_PROSODY_LENIENT,   /* Prosody 0.12, dialback, not secure */
    CAT_PEER_EJABBERD_STRICT,   /* ejabberd 23.01, no dialback */
    CAT_PEER_EJABBERD_DIALBACK, /* ejabberd 23.01, mod_s2s_dialback */
    CAT_PEER_COUNT
} cat_peer;

/* One profile: a row of the catalog. */
typedef struct cat_profile {
    const char *label;        /* subdomain of BASE, also the profile name */
    cat_kind kind;            /* what the profile is about */
    const char *breaks;       /* what it breaks, a short phrase */
    cat_expect strict;        /* what a strict correct server does */
    bool advisory;            /* the specs leave room: 'strict' is the
                                 pedantic answer, only an advisory otherwise */
    const char *strict_why;   /* why, one sentence for operators */
    cat_expect peers[CAT_PEER_COUNT]; /* what each real server did (matrix) */
    const char *peer_note;    /* why a real server differs, or NULL */
    cat_cert_recipe cert;     /* the certificate it presents */
    cat_stream_policy policy; /* stream policy */
    cat_dns_shape dns;        /* DNS records */
    bool posh;                /* publish the certificate by POSH (RFC 7711,
                                 RFC 7712) on the HTTPS listener */
    const char *description;  /* one line for disco#info and presence */
} cat_profile;

/* Number of rows in the catalog. */
size_t cat_count(void);

/* Row i, 0 <= i < cat_count(). */
const cat_profile *cat_at(size_t i);

/* Row whose label is name, or NULL. */
const cat_profile *cat_find(const char *name);

/* Printable names of enum values, for tables and logs. */
const char *cat_kind_name(cat_kind kind);
const char *cat_expect_name(cat_expect expect);
const char *cat_peer_name(cat_peer peer); /* e.g. "prosody-strict" */

#endif
