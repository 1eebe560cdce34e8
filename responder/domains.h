/* domains.h -- the runtime set of test domains: for each, its profile and the
 * certificate chain and key it presents, plus the trust anchors used to verify
 * remote servers. A set is immutable and reference counted: SIGHUP builds a new
 * one, and streams keep the set they started with until they close. */
#ifndef RS_DOMAINS_H
#define RS_DOMAINS_H

#include <stddef.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "catalog.h"
#include "config.h"
#include "name_index.h"

/* One test domain with its loaded credentials. */
typedef struct rs_domain {
    char *name;                 /* e.g. expired.responder.example */
    const catalog_profile *profile; /* its catalog row */
    char *description;          /* profile description or the override */
    gnutls_pcert_st *chain;     /* certificates presented, leaf first */
    unsigned chain_len;
    gnutls_privkey_t key;       /* the leaf's private key */
} rs_domain;

/* A generation of domains. */
typedef struct rs_domains {
    int refs;                         /* streams + the server holding it */
    rs_domain *items;
    size_t n;
    name_index by_name;               /* items by name: constant-time lookups */
    gnutls_x509_trust_list_t trust;   /* anchors for remote certificates */
} rs_domains;

/* Load every domain of cfg (certificates, keys, trust). NULL on
 * failure after printing "FILE: message" lines to stderr. */
rs_domains *domains_load(const rs_config *cfg);

/* Build d->by_name over d->items (domains_load does; a set made by hand,
 * as in tests, calls it once its names are set). 0, or -1 out of memory. */
int domains_index(rs_domains *d);

/* Reference counting. */
rs_domains *domains_ref(rs_domains *d);
void domains_unref(rs_domains *d);

/* The domain called name (case-insensitive), or NULL; constant time. */
const rs_domain *domains_find(const rs_domains *d, const char *name);

/* Direct TLS: what to present before SNI names a domain (a peer without SNI
 * gets the direct-TLS profile's certificate, the one it came for). */
const rs_domain *domains_direct_tls_default(const rs_domains *d);

#endif
