/* domains.c -- loading the test domains' certificates and keys, and the
 * trust anchors. What a TLS session does with them is tls.c's. */
#include "domains.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int read_file(const char *path, gnutls_datum_t *out)
{
    int rc = gnutls_load_file(path, out);
    if (rc < 0) {
        fprintf(stderr, "%s: cannot read: %s\n", path, gnutls_strerror(rc));
        return -1;
    }
    return 0;
}

static int load_chain(rs_domain *dom)
{
    gnutls_datum_t pem = {0};
    if (read_file(dom->cert_file, &pem) < 0)
        return -1;
    unsigned n = 16;
    gnutls_pcert_st *chain = calloc(n, sizeof *chain);
    if (!chain) {
        gnutls_free(pem.data);
        fprintf(stderr, "%s: out of memory\n", dom->cert_file);
        return -1;
    }
    int rc = gnutls_pcert_list_import_x509_raw(chain, &n, &pem,
                                               GNUTLS_X509_FMT_PEM, 0);
    gnutls_free(pem.data);
    if (rc < 0 || n == 0) {
        free(chain);
        fprintf(stderr, "%s: no usable certificate: %s\n", dom->cert_file,
                rc < 0 ? gnutls_strerror(rc) : "empty");
        return -1;
    }
    dom->chain = chain;
    dom->chain_len = n;

    gnutls_datum_t keypem = {0};
    if (read_file(dom->key_file, &keypem) < 0)
        return -1;
    rc = gnutls_privkey_init(&dom->key);
    if (rc == 0)
        rc = gnutls_privkey_import_x509_raw(dom->key, &keypem,
                                            GNUTLS_X509_FMT_PEM, NULL, 0);
    gnutls_free(keypem.data);
    if (rc < 0) {
        fprintf(stderr, "%s: cannot load key: %s\n", dom->key_file,
                gnutls_strerror(rc));
        return -1;
    }
    return 0;
}

static int load_trust(rs_domains *d, const rs_config *cfg)
{
    int rc = gnutls_x509_trust_list_init(&d->trust, 0);
    if (rc < 0)
        return -1;
    if (cfg->trust_system) {
        rc = gnutls_x509_trust_list_add_system_trust(d->trust, 0, 0);
        if (rc < 0)
            log_msg(RS_LOG_WARN, "system trust store not loaded: %s",
                   gnutls_strerror(rc));
    }
    for (size_t i = 0; i < cfg->n_trust; i++) {
        rc = gnutls_x509_trust_list_add_trust_file(
            d->trust, cfg->trust[i], NULL, GNUTLS_X509_FMT_PEM, 0, 0);
        if (rc <= 0) {
            fprintf(stderr, "%s: no trust anchor loaded: %s\n", cfg->trust[i],
                    rc < 0 ? gnutls_strerror(rc) : "no certificate in file");
            return -1;
        }
    }
    return 0;
}

rs_domains *domains_load(const rs_config *cfg)
{
    rs_domains *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->refs = 1;
    d->items = calloc(cfg->n_domains ? cfg->n_domains : 1, sizeof *d->items);
    if (!d->items)
        goto fail;
    for (size_t i = 0; i < cfg->n_domains; i++) {
        const config_domain *dc = &cfg->domains[i];
        rs_domain *dom = &d->items[i];
        d->n = i + 1;
        dom->profile = dc->profile;
        dom->name = strdup(dc->name);
        dom->description = strdup(dc->description ? dc->description
                                                  : dc->profile->description);
        dom->cert_file = strdup(dc->cert_file);
        dom->key_file = strdup(dc->key_file);
        if (!dom->name || !dom->description || !dom->cert_file || !dom->key_file)
            goto fail;
    }
    d->lazy = cfg->n_domains > DOMAINS_EAGER_MAX;
    if (!d->lazy && domains_load_all(d) < 0)
        goto fail;
    if (domains_index(d) < 0 || load_trust(d, cfg) < 0)
        goto fail;
    return d;
fail:
    domains_unref(d);
    return NULL;
}

int domains_creds(rs_domains *set, const rs_domain *d)
{
    if (d->creds == DOMAIN_CREDS_LOADED || (d->chain_len > 0 && d->key))
        return 0; /* loaded, or made by hand (tests) */
    if (d->creds == DOMAIN_CREDS_FAILED || !set || d < set->items ||
        d >= set->items + set->n || !d->cert_file)
        return -1;
    rs_domain *dom = &set->items[d - set->items];
    if (load_chain(dom) < 0) {
        dom->creds = DOMAIN_CREDS_FAILED;
        log_msg(RS_LOG_ERROR, "%s: its certificate or key cannot be loaded (see "
                "above): it presents nothing", dom->name);
        return -1;
    }
    dom->creds = DOMAIN_CREDS_LOADED;
    if (set->lazy && set->on_loaded)
        set->on_loaded(set->on_loaded_ud, set, (size_t)(d - set->items));
    return 0;
}

int domains_load_all(rs_domains *set)
{
    int rc = 0;
    for (size_t i = 0; i < set->n; i++)
        if (domains_creds(set, &set->items[i]) < 0)
            rc = -1;
    return rc;
}

int domains_index(rs_domains *d)
{
    name_index_free(&d->by_name);
    if (name_index_init(&d->by_name, d->n) < 0)
        return -1;
    for (size_t i = 0; i < d->n; i++)
        name_index_add(&d->by_name, d->items[i].name, i); /* config: no duplicates */
    return 0;
}

rs_domains *domains_ref(rs_domains *d)
{
    d->refs++;
    return d;
}

void domains_unref(rs_domains *d)
{
    if (!d || --d->refs > 0)
        return;
    for (size_t i = 0; i < d->n; i++) {
        rs_domain *dom = &d->items[i];
        for (unsigned c = 0; c < dom->chain_len; c++)
            gnutls_pcert_deinit(&dom->chain[c]);
        free(dom->chain);
        if (dom->key)
            gnutls_privkey_deinit(dom->key);
        free(dom->name);
        free(dom->description);
        free(dom->cert_file);
        free(dom->key_file);
    }
    free(d->items);
    name_index_free(&d->by_name);
    if (d->trust)
        gnutls_x509_trust_list_deinit(d->trust, 1);
    free(d);
}

const rs_domain *domains_find(const rs_domains *d, const char *name)
{
    size_t i = name_index_find(&d->by_name, name);
    return i == NAME_INDEX_NONE ? NULL : &d->items[i];
}

const rs_domain *domains_direct_tls_default(const rs_domains *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->items[i].profile->policy.starttls == CATALOG_TLS_DIRECT_ONLY)
            return &d->items[i];
    return d->n ? &d->items[0] : NULL;
}
