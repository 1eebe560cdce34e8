/* catalog.c -- the profile table: one row per kind of test domain. Everything
 * else (certificates, zone, default config, disco#info, presence status, the
 * README table, the tests' expectations) is generated from these rows.
 *
 * `peers` records what the peers of the interop matrix (four real servers and
 * a scripted dialback-only one) were seen to do (tests/interop/test_matrix.sh
 * checks it on every CI run); where one differs from `strict`, `peer_note`
 * says why. */
#include "catalog.h"

#include <string.h>

/* The normal leaf: ECDSA P-256, both EKUs, valid now, from the intermediate. */
#define CERT_GOOD                                                           \
    .key = CATALOG_KEY_ECDSA_P256, .eku = CATALOG_EKU_SERVER | CATALOG_EKU_CLIENT,      \
    .validity = CATALOG_VALID_NOW, .issuer = CATALOG_ISSUER_INTERMEDIATE,           \
    .names = CATALOG_NAMES_DNS, .sig = CATALOG_SIG_SHA256

/* STARTTLS required, both auth methods both ways, default TLS versions
 * (TLS 1.2 and later: tls.c). */
#define POLICY_DEFAULT                                                      \
    .auth_in = CATALOG_AUTH_EXTERNAL | CATALOG_AUTH_DIALBACK,                       \
    .auth_out = CATALOG_AUTH_EXTERNAL | CATALOG_AUTH_DIALBACK,                      \
    .starttls = CATALOG_TLS_REQUIRED, .tls_priority = NULL

#define A CATALOG_EXPECT_ACCEPT
#define R CATALOG_EXPECT_REFUSE

/* What the five matrix peers do: Prosody strict, Prosody lenient, ejabberd
 * without dialback, ejabberd with dialback, the scripted dialback-only server
 * (tests/interop/dialback_peer.py: no SASL, no certificate checks, no SNI,
 * no _xmpps-server lookup). */
#define PEERS(ps, pl, es, ed, db) .peers = {ps, pl, es, ed, db}

/* Where the certificate comes from on a public instance (catalog.h). */
#define PUBLIC_ACME .source = CATALOG_SOURCE_ACME
#define PUBLIC_DERIVED(how) .source = CATALOG_SOURCE_ACME_DERIVED, .derived = how

/* What a strict, correct client does where that differs from a server
 * (the rows' default: the same as 'strict'). */
#define CLIENT(exp, why) .client = exp, .client_why = why

/* A certificate profile: only the certificate differs from the control.
 * Trailing designated initializers (CLIENT(...)) override the rest. */
#define CERT_ROW(lbl, brk, exp, adv, why, recipe, peer_truth, note, desc, ...) \
    {                                                                       \
        .label = lbl, .kind = CATALOG_KIND_CERT, .breaks = brk, .strict = exp,  \
        .advisory = adv, .strict_why = why, .cert = {CERT_GOOD, recipe},    \
        .policy = {POLICY_DEFAULT}, .dns = CATALOG_DNS_SRV, peer_truth,         \
        .peer_note = note, .description = desc, .client = exp, __VA_ARGS__  \
    }

/* A protocol or DNS profile: the control's certificate, policy and SRV
 * record unless the trailing designated initializers say otherwise. */
#define ROW(lbl, knd, brk, exp, adv, why, ...)                              \
    {                                                                       \
        .label = lbl, .kind = knd, .breaks = brk, .strict = exp,            \
        .advisory = adv, .strict_why = why, .cert = {CERT_GOOD},            \
        .policy = {POLICY_DEFAULT}, .dns = CATALOG_DNS_SRV, .client = exp,  \
        __VA_ARGS__                                                         \
    }

/* Lenient peers take a bad certificate over dialback; strict ones refuse;
 * the dialback-only peer never looks at it. */
#define PEERS_BAD_CERT PEERS(R, A, R, A, A)
#define PEERS_ALL_ACCEPT PEERS(A, A, A, A, A)
#define PEERS_ALL_REFUSE PEERS(R, R, R, R, R)

static const catalog_profile catalog[] = {
    CERT_ROW("valid", "nothing (control)", A, false,
             "a trusted chain with both EKUs naming the domain is what every "
             "server must accept",
             .eku = CATALOG_EKU_SERVER | CATALOG_EKU_CLIENT, PEERS_ALL_ACCEPT, NULL,
             "Control: trusted chain, serverAuth+clientAuth, correct name", PUBLIC_ACME),
    {
        .label = "le-tlsserver",
        .kind = CATALOG_KIND_CERT,
        .breaks = "EKU serverAuth only (Let's Encrypt default since 2026); "
                  "replies use SASL EXTERNAL only",
        .strict = A,
        .strict_why = "XMPP servers should accept a serverAuth-only "
                      "certificate from a server that dials them; we "
                      "authenticate with SASL EXTERNAL only, never dialback",
        .cert = {CERT_GOOD, .eku = CATALOG_EKU_SERVER},
        .policy = {POLICY_DEFAULT, .auth_out = CATALOG_AUTH_EXTERNAL},
        .dns = CATALOG_DNS_SRV,
        PEERS(A, A, R, R, R),
        .peer_note = "ejabberd 23.01 refuses SASL EXTERNAL: unsupported "
                     "certificate purpose (fixed in 25.08); a dialback-only "
                     "server offers no SASL EXTERNAL, the one way our replies "
                     "may authenticate here",
        .description = "Certificate with EKU serverAuth only; our replies "
                       "authenticate by SASL EXTERNAL only",
        CLIENT(A, "serverAuth is what a client checks: for clients this is the "
                  "normal certificate"),
        PUBLIC_ACME,
    },
    {
        .label = "le-tlsserver-dialback",
        .kind = CATALOG_KIND_CERT,
        .breaks = "EKU serverAuth only; replies fall back to dialback when "
                  "SASL EXTERNAL is refused",
        .strict = A,
        .strict_why = "the same certificate as le-tlsserver, authenticated "
                      "the way most real servers do: dialback rescues it",
        .cert = {CERT_GOOD, .eku = CATALOG_EKU_SERVER},
        .policy = {POLICY_DEFAULT},
        .dns = CATALOG_DNS_SRV,
        PEERS(A, A, R, A, A),
        .peer_note = "ejabberd 23.01 refuses the certificate's purpose; with "
                     "dialback enabled the reply still arrives",
        .description = "Certificate with EKU serverAuth only; our replies fall "
                       "back to dialback",
        CLIENT(A, "serverAuth is what a client checks: for clients this is the "
                  "normal certificate"),
        PUBLIC_ACME,
    },
    CERT_ROW("client-only", "EKU clientAuth only", R, true,
             "a certificate not meant for TLS servers; servers that check "
             "the purpose refuse it, XMPP servers that ignore it accept it",
             .eku = CATALOG_EKU_CLIENT, PEERS_BAD_CERT,
             "both check it as a TLS server's certificate (Prosody: LuaSec "
             "lsec_ignore_purpose means 'always serverAuth'); only dialback "
             "lets it through",
             "Certificate with EKU clientAuth only",
             CLIENT(R, "a client must not accept a certificate whose EKU "
                       "excludes serverAuth (RFC 5280 4.2.1.12)")),
    CERT_ROW("no-eku", "no Extended Key Usage extension", A, false,
             "without an EKU extension a certificate is valid for any purpose "
             "(RFC 5280)",
             .eku = CATALOG_EKU_NONE, PEERS_ALL_ACCEPT, NULL,
             "Certificate without Extended Key Usage"),
    CERT_ROW("expired", "certificate expired a month ago", R, false,
             "an expired certificate must not authenticate a peer",
             .validity = CATALOG_VALID_EXPIRED, PEERS_BAD_CERT, NULL,
             "Certificate expired a month ago", PUBLIC_DERIVED(CATALOG_DERIVED_EXPIRED)),
    CERT_ROW("not-yet-valid", "certificate valid only from next year", R,
             false, "a certificate before its notBefore date is not valid",
             .validity = CATALOG_VALID_NOT_YET, PEERS_BAD_CERT, NULL,
             "Certificate not valid until next year"),
    CERT_ROW("self-signed", "self-signed certificate", R, false,
             "a self-signed certificate chains to no trust anchor; only "
             "dialback without secure auth lets it through",
             .issuer = CATALOG_ISSUER_SELF, PEERS_BAD_CERT, NULL,
             "Self-signed certificate"),
    CERT_ROW("untrusted-root", "chain to a root nobody trusts", R, false,
             "a chain must end at a trust anchor the server was given",
             .issuer = CATALOG_ISSUER_UNTRUSTED, PEERS_BAD_CERT, NULL,
             "Certificate from an untrusted root"),
    CERT_ROW("missing-chain", "intermediate certificate not sent", R, false,
             "RFC 8446 4.4.2: the sender provides the chain; without the "
             "intermediate the leaf cannot be verified",
             .omit_chain = true, PEERS_BAD_CERT, NULL,
             "Leaf from the intermediate, intermediate not sent", PUBLIC_DERIVED(CATALOG_DERIVED_NO_CHAIN)),
    CERT_ROW("wrong-name", "certificate for another name", R, false,
             "a certificate that does not name the domain does not "
             "authenticate it (RFC 6125)",
             .names = CATALOG_NAMES_WRONG, PEERS_BAD_CERT, NULL,
             "Trusted certificate for a different name", PUBLIC_DERIVED(CATALOG_DERIVED_OTHER_NAME)),
    {
        .label = "self-signed-wrong-name",
        .kind = CATALOG_KIND_CERT,
        .breaks = "self-signed certificate for another name",
        .strict = R,
        .strict_why = "self-signed and not naming the domain: neither a chain "
                      "nor the name authenticates it",
        .cert = {CERT_GOOD, .issuer = CATALOG_ISSUER_SELF,
                 .names = CATALOG_NAMES_WRONG},
        .policy = {POLICY_DEFAULT},
        .dns = CATALOG_DNS_SRV,
        PEERS_BAD_CERT,
        .peer_note = "the strict peers refuse it as untrusted (the chain "
                     "fails before the name is looked at); dialback checks "
                     "no certificate, so the lenient peers accept it",
        .description = "Self-signed certificate for a different name",
        CLIENT(R, "a client that pins a self-signed certificate must still "
                  "check that it names the domain (RFC 6125)"),
    },
    CERT_ROW("srv-target-name",
             "certificate names only the SRV target host "
             "xmpp.srv-target-name.BASE, not the domain", R, false,
             "the reference identifier is the domain, not the SRV target, "
             "unless DNSSEC or POSH vouch for the delegation (RFC 6125 6.2.1, "
             "RFC 7590, RFC 7673)",
             .names = CATALOG_NAMES_SRV_TARGET, PEERS_BAD_CERT,
             "Prosody and ejabberd follow the SRV record to the target and "
             "still match the domain (not valid for this name / host name "
             "mismatch); dialback checks no certificate, so the lenient peers "
             "accept it",
             "SRV points at xmpp.DOMAIN; the certificate names only that host",
             .dns = CATALOG_DNS_SRV_TARGET),
    CERT_ROW("cn-only", "name in the CN only, no subjectAltName", R, true,
             "RFC 6125 6.4.4 allows the CN only as a last resort; pedantic "
             "servers refuse it",
             .names = CATALOG_NAMES_CN_ONLY, PEERS_ALL_ACCEPT,
             "Prosody and ejabberd fall back to the CN; the dialback-only "
             "peer checks no certificate", "Domain only in the subject CN"),
    CERT_ROW("xmppaddr-only", "name only as id-on-xmppAddr", A, true,
             "RFC 6120 13.7.1.4 still names the xmppAddr otherName as an "
             "identifier for a server, but RFC 7590 and RFC 6125 matching "
             "(DNS-ID, SRV-ID) is what servers implement",
             .names = CATALOG_NAMES_XMPPADDR, PEERS(R, A, R, R, A),
             "Prosody 0.12 never matches xmppAddr for s2s (it asks for service "
             "'xmpp-server', x509.lua wants '_xmpp-server'); ejabberd 23.01 "
             "crashes on it (badarg in xmpp_stream_pkix:get_cert_domains/1)",
             "Domain only in an id-on-xmppAddr otherName",
             CLIENT(R, "clients match a DNS-ID or the SRV-ID _xmpp-client "
                       "(RFC 7590, RFC 6125); an xmppAddr alone does not name "
                       "the service")),
    CERT_ROW("srvname-only", "name only as SRVName _xmpp-server.DOMAIN", A,
             false, "RFC 6120 13.7.1.2 and RFC 4985: an SRV-ID identifies an "
             "XMPP server",
             .names = CATALOG_NAMES_SRVNAME, PEERS(A, A, R, A, A),
             "ejabberd 23.01 knows no SRV-ID (only dNSName, xmppAddr, CN): "
             "host name mismatch, unless dialback rescues it",
             "Domain only in an SRVName otherName",
             CLIENT(R, "the SRV-ID names _xmpp-server, the server service; it "
                       "does not identify _xmpp-client (RFC 6125 6.5.1)")),
    CERT_ROW("wildcard", "wildcard certificate *.BASE", A, false,
             "a wildcard matches one label (RFC 6125 6.4.3)",
             .names = CATALOG_NAMES_WILDCARD, PEERS_ALL_ACCEPT, NULL,
             "Wildcard certificate for *.BASE", PUBLIC_ACME),
    CERT_ROW("ecdsa", "ECDSA P-256 key", A, false,
             "ECDSA keys are standard for TLS", .key = CATALOG_KEY_ECDSA_P256,
             PEERS_ALL_ACCEPT, NULL, "Certificate with an ECDSA P-256 key", PUBLIC_ACME),
    CERT_ROW("rsa2048", "RSA 2048-bit key (control)", A, false,
             "RSA 2048 is the common baseline", .key = CATALOG_KEY_RSA2048,
             PEERS_ALL_ACCEPT, NULL, "Certificate with an RSA 2048-bit key", PUBLIC_ACME),
    CERT_ROW("rsa1024", "RSA 1024-bit key", R, true,
             "1024-bit RSA is below every current guideline; OpenSSL 3 "
             "refuses it at its default security level",
             .key = CATALOG_KEY_RSA1024, PEERS_BAD_CERT,
             "OpenSSL's security level makes the small key a verification "
             "error (EE_KEY_TOO_SMALL), not a handshake failure: dialback "
             "still accepts it",
             "Certificate with a weak RSA 1024-bit key"),
    CERT_ROW("sha1", "certificate signed with SHA-1", R, true,
             "SHA-1 signatures are broken; verifiers refuse them",
             .sig = CATALOG_SIG_SHA1, PEERS_BAD_CERT, NULL,
             "Certificate signed with SHA-1"),
    CERT_ROW("revoked", "certificate listed in the CA's CRL", R, true,
             "a revoked certificate must be refused by a server that checks "
             "revocation; most XMPP servers do not",
             .revoked = true, PEERS_ALL_ACCEPT,
             "no peer here checks revocation by default: the leaf names our "
             "CRL (CRL Distribution Point, served at /crl/intermediate.crl), "
             "yet Prosody 0.12 and ejabberd 23.01 in strict mode accept it "
             "by SASL EXTERNAL (matrix run with the CDPs in place, "
             "2026-11-28)",
             "Certificate revoked in the test CA's CRL",
             PUBLIC_DERIVED(CATALOG_DERIVED_REVOKED)),

    /* the 2026 public PKI's shapes (issue 12): what a current public CA
     * sends, which a verifier written for the old shapes may trip on */
    /* both EKUs, so only the subject and the key id differ from the
     * control: the profile's serverAuth-only EKU is le-tlsserver's test */
    {
        .label = "no-cn",
        .kind = CATALOG_KIND_CERT,
        .breaks = "no subject CN, no Subject Key Identifier: the name only in "
                  "the subjectAltName (Let's Encrypt's tlsserver profile; both "
                  "EKUs here, serverAuth-only is le-tlsserver's test)",
        .strict = A,
        .strict_why = "the reference identity is matched against the DNS-ID "
                      "in the subjectAltName (RFC 6125 6.4.4; RFC 9525 drops "
                      "the CN); a leaf's subject key identifier is only a "
                      "SHOULD (RFC 5280 4.2.1.2), which the CA/Browser "
                      "Forum's baseline requirements no longer recommend, and "
                      "no path needs it",
        .cert = {CERT_GOOD, .names = CATALOG_NAMES_SAN_ONLY, .no_skid = true},
        .policy = {POLICY_DEFAULT},
        .dns = CATALOG_DNS_SRV,
        PEERS_ALL_ACCEPT,
        .description = "Certificate with an empty subject (name in the SAN "
                       "only) and no subject key identifier",
        .client = A,
        .public_why = "test-ca: Let's Encrypt issues this shape only under its "
                      "opt-in tlsserver profile, and Debian's uacme 1.7.4 "
                      "cannot ask for an ACME profile (the default profile "
                      "keeps the CN), so a public instance presents the test "
                      "CA's certificate, which peers do not trust: a refusal "
                      "may be for that alone",
    },
    {
        .label = "gen-y",
        .kind = CATALOG_KIND_CERT,
        .breaks = "serverAuth-only leaf under a serverAuth-only intermediate "
                  "under a new root that the trusted root cross-signs (Let's "
                  "Encrypt's Generation Y)",
        .strict = A,
        .strict_why = "the chain sent (leaf, intermediate, the new root "
                      "cross-signed by the trusted root) leads to a trust "
                      "anchor; nothing in it carries clientAuth, and an s2s "
                      "verifier must not ask for it",
        .cert = {CERT_GOOD, .eku = CATALOG_EKU_SERVER,
                 .issuer = CATALOG_ISSUER_GEN_Y},
        .policy = {POLICY_DEFAULT},
        .dns = CATALOG_DNS_SRV,
        PEERS(A, A, R, A, A),
        .peer_note = "all peers build the path through the cross-signature; "
                     "ejabberd 23.01 (fast_tls: OpenSSL) checks our reply's "
                     "certificate for the TLS client purpose, which OpenSSL "
                     "asks of every certificate in the chain, so SASL "
                     "EXTERNAL fails (unsupported certificate purpose) and "
                     "would with a clientAuth leaf too: the serverAuth-only "
                     "intermediate fails it (openssl verify -purpose "
                     "sslclient: error 26 at depth 1); with dialback the "
                     "reply arrives; Prosody's LuaSec option "
                     "lsec_ignore_purpose checks client certificates as "
                     "server ones",
        .description = "Generation Y shape: leaf and intermediate serverAuth "
                       "only, the new root sent cross-signed by the trusted root",
        CLIENT(A, "serverAuth on leaf and intermediate is what a client checks: "
                  "the path through the cross-signature is a normal one"),
        .public_why = "acme: where the ACME CA issues from Let's Encrypt's "
                      "Generation Y intermediates (YR1-3, YE1-3, no "
                      "clientAuth) under roots YR/YE cross-signed by ISRG Root "
                      "X1/X2, the domain's own certificate is the real thing; "
                      "check flags a chain of another shape",
        PUBLIC_ACME,
    },
    /* Two certificates carry our test root's name and key: the self-signed
     * ca.pem that peers trust, and ca-cross-expired.pem, the same root
     * signed by the untrusted root and expired a month ago (as ISRG Root X1
     * was also signed by DST Root X3). The sent chain is leaf, intermediate,
     * ca-cross-expired: the intermediate's issuer is found in the trust
     * store, so the valid path leaf -> intermediate -> test root needs
     * nothing more; a verifier that instead follows the sent chain to its
     * end meets an expired certificate and a root it does not trust.
     * Matrix run 2026-11-28: every peer accepts; OpenSSL 3 (Prosody's
     * LuaSec, ejabberd's fast_tls) looks in the trust store first
     * (X509_V_FLAG_TRUSTED_FIRST), and GnuTLS 3.7's trust list accepts
     * the chain too (test_cert_shapes.c): neither needs the expired link. */
    CERT_ROW("expired-cross-sign", "the chain sent also carries an expired "
             "cross-signature of the trusted root (DST Root X3 and ISRG Root "
             "X1, 2021)", A, false,
             "leaf, intermediate and trusted root form a valid path; the extra "
             "certificate, the trusted root cross-signed by another root and "
             "expired, is not needed, and a verifier that builds paths "
             "(RFC 4158) ignores it",
             .issuer = CATALOG_ISSUER_EXPIRED_CROSS, PEERS_ALL_ACCEPT, NULL,
             "Valid chain plus an expired cross-signature of the trusted root "
             "by the untrusted root: only a verifier that follows the sent "
             "chain to its end fails",
             .public_why = "test-ca: no public CA sends an expired "
                           "cross-signature now (Let's Encrypt stopped "
                           "sending the one by DST Root X3 in 2024), so a "
                           "public instance presents the test CA's chain, "
                           "which peers do not trust: a refusal may be for "
                           "that alone"),

    /* protocol profiles: a good certificate, a different stream policy */
    ROW("dialback-only", CATALOG_KIND_PROTOCOL,
        "offers and uses dialback only, never SASL EXTERNAL", A, true,
        "dialback over TLS with a valid certificate (XEP-0344) authenticates "
        "a server, but dialback is an extension: a server that insists on "
        "SASL EXTERNAL may refuse it",
        .policy = {POLICY_DEFAULT, .auth_in = CATALOG_AUTH_DIALBACK,
                   .auth_out = CATALOG_AUTH_DIALBACK},
        PEERS(R, A, R, A, A),
        .peer_note = "the strict peers here run without dialback",
        .description = "Dialback only, in both directions",
        CLIENT(A, "dialback is between servers: for clients this is a normal "
                  "domain"), PUBLIC_ACME),
    ROW("no-sasl", CATALOG_KIND_PROTOCOL,
        "no SASL mechanism after TLS: clients get an empty mechanism list, "
        "servers dialback only", A, true,
        "for servers no SASL means no EXTERNAL: dialback over TLS with a valid "
        "certificate (XEP-0344) authenticates, as on dialback-only",
        .policy = {POLICY_DEFAULT, .auth_in = CATALOG_AUTH_DIALBACK,
                   .auth_out = CATALOG_AUTH_DIALBACK, .no_sasl = true},
        PEERS(R, A, R, A, A),
        .peer_note = "the strict peers here run without dialback",
        .description = "No SASL mechanisms offered (clients: empty list; "
                       "servers: dialback only)",
        CLIENT(R, "no mechanism means no way to log in: a client must fail "
                  "once, clearly, and not reconnect in a loop"), PUBLIC_ACME),
    ROW("no-dialback", CATALOG_KIND_PROTOCOL,
        "SASL EXTERNAL only in both directions", A, false,
        "SASL EXTERNAL with a valid certificate is the standard s2s "
        "authentication (RFC 6120)",
        .policy = {POLICY_DEFAULT, .auth_in = CATALOG_AUTH_EXTERNAL,
                   .auth_out = CATALOG_AUTH_EXTERNAL},
        PEERS(A, A, A, A, R),
        .peer_note = "a dialback-only server has no other way to authenticate, "
                     "and this domain refuses dialback by design",
        .description = "SASL EXTERNAL only, no dialback",
        CLIENT(A, "SASL EXTERNAL between servers only: for clients this is a "
                  "normal domain"), PUBLIC_ACME),
    ROW("no-tls", CATALOG_KIND_PROTOCOL,
        "no STARTTLS: plaintext streams, dialback only", R, false,
        "RFC 7590: server-to-server traffic must be encrypted",
        .policy = {POLICY_DEFAULT, .auth_in = CATALOG_AUTH_DIALBACK,
                   .auth_out = CATALOG_AUTH_DIALBACK, .starttls = CATALOG_TLS_NONE},
        PEERS_ALL_REFUSE,
        .description = "Plaintext only: STARTTLS is not offered",
        CLIENT(R, "a client must not log in without TLS (RFC 7590), and never "
                  "send its password in the clear: we offer SCRAM only, no PLAIN")),
    ROW("direct-tls", CATALOG_KIND_PROTOCOL,
        "reachable only by direct TLS (XEP-0368), _xmpps-server SRV only", A,
        true,
        "XEP-0368 direct TLS is optional; servers that support it reach this "
        "domain, others find no STARTTLS port",
        .policy = {POLICY_DEFAULT, .starttls = CATALOG_TLS_DIRECT_ONLY},
        .dns = CATALOG_DNS_DIRECT_TLS, PEERS(A, A, A, A, R),
        .peer_note = "a server that does not look up _xmpps-server dials "
                     "port 5269, which answers host-unknown for this domain",
        .description = "Direct TLS (XEP-0368) only, on its own port",
        CLIENT(A, "XEP-0368: clients that look up _xmpps-client connect; others "
                  "find no STARTTLS port"), PUBLIC_ACME),
    ROW("legacy-tls", CATALOG_KIND_PROTOCOL, "TLS 1.0 and 1.1 only", R, false,
        "RFC 8996 forbids TLS 1.0 and 1.1",
        .policy = {POLICY_DEFAULT,
                   .tls_priority = "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0"},
        PEERS_ALL_REFUSE, .description = "Old TLS only: 1.0 and 1.1"),
    ROW("tls13-only", CATALOG_KIND_PROTOCOL, "TLS 1.3 only", A, false,
        "TLS 1.3 is current (RFC 8446)",
        .policy = {POLICY_DEFAULT, .tls_priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3"},
        PEERS_ALL_ACCEPT, .description = "TLS 1.3 only", PUBLIC_ACME),

    /* DNS profiles: the zone says something a server must respect */
    ROW("no-service", CATALOG_KIND_DNS,
        "SRV target \".\": the domain offers no XMPP service", R, false,
        "RFC 2782 / RFC 6120 3.2.1: a '.' target means the service is "
        "decidedly not available",
        .dns = CATALOG_DNS_NO_SERVICE, PEERS_ALL_REFUSE,
        .description = "SRV record says: no XMPP service here"),
    ROW("no-target", CATALOG_KIND_DNS, "SRV points at a name that does not exist",
        R, false,
        "the SRV target cannot be resolved; RFC 6120 3.2.1 does not fall back "
        "to the domain's A record",
        .dns = CATALOG_DNS_NO_TARGET, PEERS_ALL_REFUSE,
        .description = "SRV target does not exist"),
    ROW("no-address", CATALOG_KIND_DNS, "SRV points at a name without A/AAAA", R,
        false, "the SRV target has no address to connect to",
        .dns = CATALOG_DNS_NO_ADDRESS, PEERS_ALL_REFUSE,
        .description = "SRV target has no address records"),
    ROW("dane-ee", CATALOG_KIND_DNS,
        "self-signed certificate pinned by a TLSA 3 1 1 record", R, true,
        "valid only through DANE (RFC 7673), which needs a DNSSEC-signed "
        "zone; without DANE it is self-signed",
        .cert = {CERT_GOOD, .issuer = CATALOG_ISSUER_SELF}, .dns = CATALOG_DNS_TLSA,
        PEERS_BAD_CERT,
        .peer_note = "no peer here validates DANE in an unsigned zone",
        .description = "Self-signed certificate with a DANE-EE TLSA record"),
    ROW("posh", CATALOG_KIND_PROTOCOL,
        "self-signed certificate vouched for by POSH over HTTPS", R, true,
        "valid only through POSH (RFC 7712), which few servers implement; "
        "without POSH it is self-signed",
        .cert = {CERT_GOOD, .issuer = CATALOG_ISSUER_SELF}, .posh = true,
        PEERS_BAD_CERT,
        .peer_note = "no peer here speaks POSH (Prosody's module is not "
                     "in Debian)",
        .description = "Self-signed certificate whose fingerprint is served at "
                       "https://DOMAIN/.well-known/posh/xmpp-server.json and "
                       "xmpp-client.json"),
};

size_t catalog_count(void)
{
    return sizeof catalog / sizeof catalog[0];
}

const catalog_profile *catalog_at(size_t i)
{
    return i < catalog_count() ? &catalog[i] : NULL;
}

const catalog_profile *catalog_find(const char *name)
{
    for (size_t i = 0; i < catalog_count(); i++)
        if (strcmp(catalog[i].label, name) == 0)
            return &catalog[i];
    return NULL;
}

const char *catalog_kind_name(catalog_kind kind)
{
    switch (kind) {
    case CATALOG_KIND_CERT: return "certificate";
    case CATALOG_KIND_PROTOCOL: return "protocol";
    case CATALOG_KIND_DNS: return "dns";
    }
    return "?";
}

const char *catalog_expect_name(catalog_expect expect)
{
    return expect == CATALOG_EXPECT_ACCEPT ? "accept" : "refuse";
}

const char *catalog_client_name(catalog_expect expect)
{
    return expect == CATALOG_EXPECT_ACCEPT ? "connect" : "refuse";
}

const char *catalog_client_why(const catalog_profile *p)
{
    return p->client_why ? p->client_why : p->strict_why;
}

const char *catalog_source_name(catalog_source source)
{
    static const char *const names[] = {"test-ca", "acme", "acme-derived"};
    return names[source];
}

const char *catalog_public_text(const catalog_profile *p)
{
    if (p->public_why)
        return p->public_why;
    if (p->source == CATALOG_SOURCE_ACME)
        return "acme: the domain's own certificate from the ACME CA";
    if (p->source == CATALOG_SOURCE_ACME_DERIVED) {
        switch (p->derived) {
        case CATALOG_DERIVED_OTHER_NAME:
            return "acme-derived: another test domain's ACME certificate";
        case CATALOG_DERIVED_NO_CHAIN:
            return "acme-derived: the ACME leaf without its intermediates";
        case CATALOG_DERIVED_EXPIRED:
            return "acme-derived: the newest expired ACME certificate of the "
                   "domain, kept by the renewal (the test-CA one until there is one)";
        case CATALOG_DERIVED_REVOKED:
            return "acme-derived: an ACME certificate revoked through ACME";
        case CATALOG_DERIVED_NONE:
            break;
        }
    }
    if (p->cert.issuer == CATALOG_ISSUER_SELF)
        return "test-ca: self-signed by design, on a public instance as in staging";
    if (p->kind != CATALOG_KIND_CERT)
        return "test-ca: the test CA's certificate; what this row tests is not "
               "the certificate";
    return "test-ca: no public CA issues this certificate, so a public instance "
           "presents one from its private test CA, which peers do not trust: a "
           "refusal may be for that alone, only an acceptance says something "
           "about the row";
}

const char *catalog_peer_name(catalog_peer peer)
{
    static const char *names[CATALOG_PEER_COUNT] = {
        "prosody-strict", "prosody-lenient", "ejabberd-strict",
        "ejabberd-dialback", "dialback-only"};
    return peer < CATALOG_PEER_COUNT ? names[peer] : "?";
}
