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
    CATALOG_KIND_CERT,     /* a certificate property */
    CATALOG_KIND_PROTOCOL, /* a stream / TLS / auth policy */
    CATALOG_KIND_DNS       /* a DNS record set */
} catalog_kind;

/* Key type and size of the leaf. */
typedef enum {
    CATALOG_KEY_ECDSA_P256, /* default: cheap handshakes */
    CATALOG_KEY_RSA2048,
    CATALOG_KEY_RSA1024
} catalog_key;

/* Extended Key Usage bits of the leaf. */
enum {
    CATALOG_EKU_NONE = 0,        /* no EKU extension at all */
    CATALOG_EKU_SERVER = 1 << 0, /* id-kp-serverAuth */
    CATALOG_EKU_CLIENT = 1 << 1  /* id-kp-clientAuth */
};

/* Validity window of the leaf. */
typedef enum {
    CATALOG_VALID_NOW,      /* valid from yesterday for a year */
    CATALOG_VALID_EXPIRED,  /* expired a month ago */
    CATALOG_VALID_NOT_YET   /* starts in a year */
} catalog_validity;

/* Who signed the leaf. */
typedef enum {
    CATALOG_ISSUER_INTERMEDIATE, /* our test root -> intermediate -> leaf */
    CATALOG_ISSUER_SELF,         /* self-signed leaf */
    CATALOG_ISSUER_UNTRUSTED,    /* a second root that nobody trusts */
    CATALOG_ISSUER_GEN_Y,        /* a serverAuth-only intermediate under a new
                                    root; the chain sent ends with that root
                                    cross-signed by our test root (Let's
                                    Encrypt's Generation Y shape) */
    CATALOG_ISSUER_EXPIRED_CROSS /* our intermediate, as the control, and the
                                    chain sent also carries our test root
                                    cross-signed by the untrusted root, expired
                                    (DST Root X3 / ISRG Root X1, 2021) */
} catalog_issuer;

/* Which names the leaf carries. */
typedef enum {
    CATALOG_NAMES_DNS,       /* CN + dNSName = the domain */
    CATALOG_NAMES_WRONG,     /* CN + dNSName = wrong-name-LABEL.invalid */
    CATALOG_NAMES_CN_ONLY,   /* CN only, no subjectAltName */
    CATALOG_NAMES_XMPPADDR,  /* id-on-xmppAddr otherName only */
    CATALOG_NAMES_SRVNAME,   /* SRVName _xmpp-server.DOMAIN only (RFC 4985) */
    CATALOG_NAMES_WILDCARD,  /* dNSName *.BASE */
    CATALOG_NAMES_SRV_TARGET, /* CN + dNSName = the SRV target host
                                CATALOG_SRV_TARGET_HOST.DOMAIN only */
    CATALOG_NAMES_SAN_ONLY   /* dNSName = the domain, an empty subject (no
                                CN), the SAN critical (RFC 5280 4.2.1.6) */
} catalog_names;

/* The leftmost label of the SRV target host of CATALOG_DNS_SRV_TARGET rows,
 * also the only name in CATALOG_NAMES_SRV_TARGET certificates. */
#define CATALOG_SRV_TARGET_HOST "xmpp"

/* Signature hash the issuer uses on the leaf. */
typedef enum {
    CATALOG_SIG_SHA256,
    CATALOG_SIG_SHA1
} catalog_sig;

/* How to make the certificate a profile presents. */
typedef struct catalog_cert_recipe {
    catalog_key key;           /* leaf key type */
    unsigned eku;          /* CATALOG_EKU_* bits */
    catalog_validity validity; /* validity window */
    catalog_issuer issuer;     /* signer of the leaf */
    catalog_names names;       /* names in the leaf */
    catalog_sig sig;           /* signature hash */
    bool omit_chain;       /* do not send the intermediate */
    bool revoked;          /* serial listed in the CRL init writes */
    bool no_skid;          /* the leaf carries no subjectKeyIdentifier
                              (Let's Encrypt's tlsserver profile) */
} catalog_cert_recipe;

/* Authentication methods, as bits. */
enum {
    CATALOG_AUTH_EXTERNAL = 1 << 0, /* SASL EXTERNAL (XEP-0178) */
    CATALOG_AUTH_DIALBACK = 1 << 1  /* server dialback (XEP-0220) */
};

/* TLS policy of the streams we receive. */
typedef enum {
    CATALOG_TLS_REQUIRED,   /* STARTTLS offered and required before anything else */
    CATALOG_TLS_NONE,       /* not offered: plaintext stream (and plaintext out) */
    CATALOG_TLS_DIRECT_ONLY /* XEP-0368 direct TLS port only; STARTTLS port says
                           host-unknown */
} catalog_starttls;

/* How a profile's streams behave. */
typedef struct catalog_stream_policy {
    unsigned auth_in;       /* methods we offer peers dialling us */
    unsigned auth_out;      /* methods we use when dialling peers */
    catalog_starttls starttls;  /* STARTTLS offered/required */
    const char *tls_priority; /* GnuTLS priority string; NULL = tls.c's
                                 default (TLS 1.2 and later, RFC 8996) */
    bool no_sasl;             /* offer no SASL mechanism: clients get an empty
                                 <mechanisms/>, servers no EXTERNAL */
} catalog_stream_policy;

/* DNS records of the domain in the zone (besides its A/AAAA). */
typedef enum {
    CATALOG_DNS_SRV,        /* _xmpp-server._tcp SRV to the domain itself */
    CATALOG_DNS_NO_SERVICE, /* SRV target "." (RFC 2782: no service here) */
    CATALOG_DNS_NO_TARGET,  /* SRV to a name that does not exist */
    CATALOG_DNS_NO_ADDRESS, /* SRV to a name with no A/AAAA (a TXT only) */
    CATALOG_DNS_DIRECT_TLS, /* _xmpps-server._tcp SRV to the direct TLS port only */
    CATALOG_DNS_TLSA,       /* SRV plus TLSA 3 1 1 of the key under _PORT._tcp */
    CATALOG_DNS_SRV_TARGET  /* SRV to the host CATALOG_SRV_TARGET_HOST.DOMAIN
                               (with A/AAAA), not to the domain itself */
} catalog_dns_shape;

/* What a server does with a ping from / to this domain. */
typedef enum {
    CATALOG_EXPECT_ACCEPT, /* ping answered */
    CATALOG_EXPECT_REFUSE  /* ping fails */
} catalog_expect;

/* The peers the interop matrix runs against: real servers (Debian 12
 * packages) and one scripted server (tests/interop/dialback_peer.py). */
typedef enum {
    CATALOG_PEER_PROSODY_STRICT,    /* Prosody 0.12, s2s_secure_auth = true */
    CATALOG_PEER_PROSODY_LENIENT,   /* Prosody 0.12, dialback, not secure */
    CATALOG_PEER_EJABBERD_STRICT,   /* ejabberd 23.01, no dialback */
    CATALOG_PEER_EJABBERD_DIALBACK, /* ejabberd 23.01, mod_s2s_dialback */
    CATALOG_PEER_DIALBACK_ONLY,     /* scripted: dialback only, no SASL, no SNI,
                                       certificates unchecked */
    CATALOG_PEER_COUNT
} catalog_peer;

/* Where a row's certificate comes from on a public instance (config
 * `public = true`); staging always uses the test CA. */
typedef enum {
    CATALOG_SOURCE_TEST_CA,     /* made by init (test CA or self-signed): no
                                   public CA issues what the row needs */
    CATALOG_SOURCE_ACME,        /* the domain's own certificate from the ACME CA */
    CATALOG_SOURCE_ACME_DERIVED /* made from ACME certificates, as 'derived' says */
} catalog_source;

/* How a derived row is made from ACME certificates. */
typedef enum {
    CATALOG_DERIVED_NONE,
    CATALOG_DERIVED_OTHER_NAME, /* another ACME domain's certificate (wrong-name) */
    CATALOG_DERIVED_NO_CHAIN,   /* the ACME leaf without its intermediates */
    CATALOG_DERIVED_EXPIRED,    /* the newest expired ACME certificate of the
                                   domain, kept by the renewal (the test-CA
                                   one until there is one) */
    CATALOG_DERIVED_REVOKED     /* an ACME certificate revoked through ACME */
} catalog_derived;

/* One profile: a row of the catalog. */
typedef struct catalog_profile {
    const char *label;        /* subdomain of BASE, also the profile name */
    catalog_kind kind;            /* what the profile is about */
    const char *breaks;       /* what it breaks, a short phrase */
    catalog_expect strict;        /* what a strict correct server does */
    bool advisory;            /* the specs leave room: 'strict' is the
                                 pedantic answer, only an advisory otherwise */
    const char *strict_why;   /* why, one sentence for operators */
    catalog_expect peers[CATALOG_PEER_COUNT]; /* what each matrix peer did */
    const char *peer_note;    /* why a real server differs, or NULL */
    catalog_expect client;    /* what a strict correct client does: connect
                                 (ACCEPT) or refuse */
    const char *client_why;   /* why, where it differs from the server view;
                                 NULL: strict_why says it */
    catalog_cert_recipe cert;     /* the certificate it presents */
    catalog_stream_policy policy; /* stream policy */
    catalog_dns_shape dns;        /* DNS records */
    bool posh;                /* publish the certificate by POSH (RFC 7711,
                                 RFC 7712) on the HTTPS listener */
    catalog_source source;    /* on a public instance (staging: test CA) */
    catalog_derived derived;  /* how, for CATALOG_SOURCE_ACME_DERIVED */
    const char *public_why;   /* "SOURCE: why", where the row's source on a
                                 public instance needs its own reason; NULL:
                                 catalog_public_text's generic words */
    const char *description;  /* one line for disco#info and presence */
} catalog_profile;

/* Number of rows in the catalog. */
size_t catalog_count(void);

/* Row i, 0 <= i < catalog_count(). */
const catalog_profile *catalog_at(size_t i);

/* Row whose label is name, or NULL. */
const catalog_profile *catalog_find(const char *name);

/* Printable names of enum values, for tables and logs. */
const char *catalog_kind_name(catalog_kind kind);
const char *catalog_expect_name(catalog_expect expect);
const char *catalog_client_name(catalog_expect expect); /* "connect"/"refuse" */
const char *catalog_client_why(const catalog_profile *p); /* client_why or strict_why */
const char *catalog_peer_name(catalog_peer peer); /* e.g. "prosody-strict" */

/* "test-ca", "acme", "acme-derived"; and a row's source on a public
 * instance in words, with what a refusal then shows ("acme", "acme-derived:
 * another domain's ACME certificate", "test-ca: ... a refusal may be for
 * that alone"). */
const char *catalog_source_name(catalog_source source);
const char *catalog_public_text(const catalog_profile *p);

#endif
