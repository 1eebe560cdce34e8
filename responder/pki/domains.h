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

/* Whether a domain's certificate and key are in memory. */
typedef enum {
    DOMAIN_CREDS_UNLOADED, /* a large set: read on first use (domains_creds) */
    DOMAIN_CREDS_LOADED,   /* chain and key below */
    DOMAIN_CREDS_FAILED    /* unreadable: logged once, presents nothing */
} domains_creds_state;

/* One test domain with its credentials. */
typedef struct rs_domain {
    char *name;                 /* e.g. expired.responder.example */
    const catalog_profile *profile; /* its catalog row */
    char *description;          /* profile description or the override */
    gnutls_pcert_st *chain;     /* certificates presented, leaf first */
    unsigned chain_len;
    gnutls_privkey_t key;       /* the leaf's private key */
    char *cert_file, *key_file; /* where they come from */
    domains_creds_state creds;   /* loaded yet? */
} rs_domain;

/* Up to this many domains, every certificate is loaded (and a bad one
 * refused) when the set is; above it, each on first use, so that thousands
 * of domains start at once. */
#define DOMAINS_EAGER_MAX 1000

struct rs_domains;
/* Told when a domain of a lazily loaded set was loaded (index in items). */
typedef void (*domains_loaded_fn)(void *ud, struct rs_domains *set, size_t index);

/* A generation of domains. */
typedef struct rs_domains {
    int refs;                         /* streams + the server holding it */
    rs_domain *items;
    size_t n;
    rs_name_index by_name;               /* items by name: constant-time lookups */
    gnutls_x509_trust_list_t trust;   /* anchors for remote certificates */
    bool lazy;                        /* credentials load on first use */
    domains_loaded_fn on_loaded;      /* who hears of a lazy load, or NULL */
    void *on_loaded_ud;               /* its argument */
} rs_domains;

/* Load every domain of cfg (certificates, keys, trust). NULL on
 * failure after printing "FILE: message" lines to stderr. */
rs_domains *domains_load(const rs_config *cfg);

/* Build d->by_name over d->items (domains_load does; a set made by hand,
 * as in tests, calls it once its names are set). 0, or -1 out of memory. */
int domains_index(rs_domains *d);

/* d's credentials, loaded now if they were not yet (a cache fill of an
 * otherwise immutable set). 0, or -1 when they cannot be (logged once). */
int domains_creds(rs_domains *set, const rs_domain *d);

/* Load every domain's credentials (`check`): 0, or -1 after messages. */
int domains_load_all(rs_domains *set);

/* Reference counting. */
rs_domains *domains_ref(rs_domains *d);
void domains_unref(rs_domains *d);

/* The domain called name (case-insensitive), or NULL; constant time. */
const rs_domain *domains_find(const rs_domains *d, const char *name);

/* Direct TLS: what to present before SNI names a domain (a peer without SNI
 * gets the direct-TLS profile's certificate, the one it came for). */
const rs_domain *domains_direct_tls_default(const rs_domains *d);

#endif
