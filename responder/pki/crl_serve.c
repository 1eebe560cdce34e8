/* crl_serve.c -- the daemon's side of crl.h: keep the CRLs in STATE/certs
 * current on a libuv timer and hold their DER for the web routes. */
#include "crl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <uv.h>

#include "log.h"

#define CRL_DIR_MAX 4096

/* One CRL as served. */
typedef struct crl_served {
    unsigned char *der;        /* the CRL in DER, NULL = none readable */
    size_t der_len;            /* its length */
    time_t this_update;        /* its thisUpdate */
    time_t next_update;        /* its nextUpdate */
} crl_served;

struct rs_crl {
    uv_timer_t timer;          /* hourly look at the CRLs' age */
    char certs_dir[CRL_DIR_MAX]; /* STATE/certs */
    crl_served served[CRL_COUNT]; /* indexed like crl_specs */
};

/* Re-read one CRL file into c (the file is the truth: `init` may have added
 * a serial meanwhile). */
static void crl_load(rs_crl *c, int which)
{
    char path[CRL_DIR_MAX + 16];
    crl_served *sv = &c->served[which];
    snprintf(path, sizeof path, "%s/%s", c->certs_dir, crl_specs[which].file);
    gnutls_datum_t pem = {NULL, 0}, der = {NULL, 0};
    gnutls_x509_crl_t crl = NULL;
    int ret = gnutls_load_file(path, &pem);
    if (ret >= 0 && (ret = gnutls_x509_crl_init(&crl)) >= 0 &&
        (ret = gnutls_x509_crl_import(crl, &pem, GNUTLS_X509_FMT_PEM)) >= 0)
        ret = gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_DER, &der);
    unsigned char *copy = ret >= 0 ? malloc(der.size) : NULL;
    if (copy) {
        memcpy(copy, der.data, der.size);
        free(sv->der);
        sv->der = copy;
        sv->der_len = der.size;
        sv->this_update = gnutls_x509_crl_get_this_update(crl);
        sv->next_update = gnutls_x509_crl_get_next_update(crl);
    } else {
        log_msg(RS_LOG_WARN, "crl: cannot read %s: %s; serving the last one "
                "read", path, ret < 0 ? gnutls_strerror(ret) : "out of memory");
    }
    if (crl)
        gnutls_x509_crl_deinit(crl);
    gnutls_free(pem.data);
    gnutls_free(der.data);
}

/* Re-sign when due, then reload. */
static void crl_tick(rs_crl *c)
{
    char err[512];
    bool resigned = false;
    if (crl_refresh(c->certs_dir, CRL_RESIGN_SECS, &resigned, err, sizeof err) < 0)
        log_msg(RS_LOG_WARN, "crl: cannot re-sign: %s", err);
    else if (resigned)
        log_msg(RS_LOG_INFO, "crl: re-signed the CRLs in %s (valid %d days)",
                c->certs_dir, CRL_VALID_SECS / 86400);
    for (int i = 0; i < CRL_COUNT; i++)
        crl_load(c, i);
}

static void crl_on_timer(uv_timer_t *t)
{
    crl_tick(t->data);
}

rs_crl *crl_start(uv_loop_t *loop, const char *state_dir)
{
    char key[CRL_DIR_MAX + 32];
    rs_crl *c = calloc(1, sizeof *c);
    if (!c) {
        log_msg(RS_LOG_ERROR, "crl: out of memory");
        return NULL;
    }
    int n = snprintf(c->certs_dir, sizeof c->certs_dir, "%s/certs",
                     state_dir);
    snprintf(key, sizeof key, "%s/intermediate.key", c->certs_dir);
    if (n < 0 || (size_t)n >= sizeof c->certs_dir || access(key, R_OK) != 0) {
        log_msg(RS_LOG_INFO, "crl: no test intermediate in %s: no CRL to serve",
                c->certs_dir);
        free(c);
        return NULL;
    }
    crl_tick(c);
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    uv_timer_start(&c->timer, crl_on_timer, CRL_CHECK_SECS * 1000ull,
                   CRL_CHECK_SECS * 1000ull);
    uv_unref((uv_handle_t *)&c->timer); /* never what keeps the loop alive */
    return c;
}

const unsigned char *crl_der(const rs_crl *c, const char *url_path, size_t *len,
                             time_t *this_update, time_t *next_update)
{
    for (int i = 0; c && i < CRL_COUNT; i++) {
        const crl_served *sv = &c->served[i];
        if (strcmp(url_path, crl_specs[i].url_path) != 0 || !sv->der)
            continue;
        *len = sv->der_len;
        *this_update = sv->this_update;
        *next_update = sv->next_update;
        return sv->der;
    }
    return NULL;
}

static void crl_on_closed(uv_handle_t *h)
{
    rs_crl *c = h->data;
    for (int i = 0; i < CRL_COUNT; i++)
        free(c->served[i].der);
    free(c);
}

void crl_close(rs_crl *c)
{
    if (c)
        uv_close((uv_handle_t *)&c->timer, crl_on_closed);
}
