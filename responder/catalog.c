/* catalog.c -- the profile table. One row per test domain kind. */
#include "catalog.h"

#include <string.h>

/* The normal leaf: ECDSA P-256, both EKUs, valid now, from the intermediate. */
#define CERT_GOOD                                                           \
    .key = CAT_KEY_ECDSA_P256, .eku = CAT_EKU_SERVER | CAT_EKU_CLIENT,      \
    .validity = CAT_VALID_NOW, .issuer = CAT_ISSUER_INTERMEDIATE,           \
    .names = CAT_NAMES_DNS, .sig = CAT_SIG_SHA256

/* STARTTLS required, both auth methods both ways, default TLS versions. */
#define POLICY_DEFAULT                                                      \
    .auth_in = CAT_AUTH_EXTERNAL | CAT_AUTH_DIALBACK,                       \
    .auth_out = CAT_AUTH_EXTERNAL | CAT_AUTH_DIALBACK,                      \
    .starttls = CAT_TLS_REQUIRED, .tls_priority = NULL

static const cat_profile catalog[] = {
    {
        .label = "valid",
        .kind = CAT_KIND_CERT,
        .breaks = "nothing (control)",
        .strict = CAT_EXPECT_ACCEPT,
        .strict_why = "a trusted chain with both EKUs naming the domain is "
                      "what every server must accept",
        .cert = {CERT_GOOD},
        .policy = {POLICY_DEFAULT},
        .dns = CAT_DNS_SRV,
        .description = "Control: trusted chain, serverAuth+clientAuth, "
                       "correct name",
    },
    {
        .label = "le-tlsserver",
        .kind = CAT_KIND_CERT,
        .breaks = "EKU serverAuth only (Let's Encrypt default since 2026)",
        .strict = CAT_EXPECT_ACCEPT,
        .strict_why = "XMPP servers should accept a serverAuth-only "
                      "certificate from a server that dials them; we "
                      "authenticate with SASL EXTERNAL only, never dialback",
        .cert = {CERT_GOOD, .eku = CAT_EKU_SERVER},
        .policy = {POLICY_DEFAULT, .auth_out = CAT_AUTH_EXTERNAL},
        .dns = CAT_DNS_SRV,
        .description = "Certificate with EKU serverAuth only; our replies "
                       "authenticate by SASL EXTERNAL only",
    },
    {
        .label = "expired",
        .kind = CAT_KIND_CERT,
        .breaks = "certificate expired a month ago",
        .strict = CAT_EXPECT_REFUSE,
        .strict_why = "an expired certificate must not authenticate a peer",
        .cert = {CERT_GOOD, .validity = CAT_VALID_EXPIRED},
        .policy = {POLICY_DEFAULT},
        .dns = CAT_DNS_SRV,
        .description = "Certificate expired a month ago",
    },
    {
        .label = "self-signed",
        .kind = CAT_KIND_CERT,
        .breaks = "self-signed certificate",
        .strict = CAT_EXPECT_REFUSE,
        .strict_why = "a self-signed certificate chains to no trust anchor; "
                      "only dialback without secure auth lets it through",
        .cert = {CERT_GOOD, .issuer = CAT_ISSUER_SELF},
        .policy = {POLICY_DEFAULT},
        .dns = CAT_DNS_SRV,
        .description = "Self-signed certificate",
    },
    {
        .label = "wrong-name",
        .kind = CAT_KIND_CERT,
        .breaks = "certificate for another name",
        .strict = CAT_EXPECT_REFUSE,
        .strict_why = "a certificate that does not name the domain does not "
                      "authenticate it (RFC 6125)",
        .cert = {CERT_GOOD, .names = CAT_NAMES_WRONG},
        .policy = {POLICY_DEFAULT},
        .dns = CAT_DNS_SRV,
        .description = "Trusted certificate for a different name",
    },
};

size_t cat_count(void)
{
    return sizeof catalog / sizeof catalog[0];
}

const cat_profile *cat_at(size_t i)
{
    return i < cat_count() ? &catalog[i] : NULL;
}

const cat_profile *cat_find(const char *name)
{
    for (size_t i = 0; i < cat_count(); i++)
        if (strcmp(catalog[i].label, name) == 0)
            return &catalog[i];
    return NULL;
}

const char *cat_kind_name(cat_kind kind)
{
    switch (kind) {
    case CAT_KIND_CERT: return "certificate";
    case CAT_KIND_PROTOCOL: return "protocol";
    case CAT_KIND_DNS: return "dns";
    }
    return "?";
}

const char *cat_expect_name(cat_expect expect)
{
    return expect == CAT_EXPECT_ACCEPT ? "accept" : "refuse";
}
