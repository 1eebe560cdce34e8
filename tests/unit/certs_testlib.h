/* certs_testlib.h -- for the certificate tests (test_certs.c,
 * test_cert_shapes.c): a scratch directory for certgen, and the
 * certificates of a PEM file read back. */
#ifndef RS_TEST_CERTS_TESTLIB_H
#define RS_TEST_CERTS_TESTLIB_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/* mkdtemp(dir) (a template "...XXXXXX") and dir/certs into certs; -1 with
 * a message when the directory cannot be made. */
static inline int scratch_make(char *dir, char *certs, size_t len)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(certs, len, "%s/certs", dir);
    return 0;
}

static inline int scratch_rm_entry(const char *path, const struct stat *st,
                                   int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* Remove dir and everything under it. */
static inline void scratch_remove(const char *dir)
{
    nftw(dir, scratch_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* All certificates of a PEM file; *n = 0 when unreadable. */
static inline gnutls_x509_crt_t *load_chain(const char *path, unsigned *n)
{
    gnutls_datum_t data = {NULL, 0};
    gnutls_x509_crt_t *crts = NULL;
    *n = 0;
    if (gnutls_load_file(path, &data) < 0)
        return NULL;
    if (gnutls_x509_crt_list_import2(&crts, n, &data, GNUTLS_X509_FMT_PEM, 0) < 0)
        *n = 0;
    gnutls_free(data.data);
    return crts;
}

static inline void free_chain(gnutls_x509_crt_t *crts, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        gnutls_x509_crt_deinit(crts[i]);
    gnutls_free(crts);
}

#endif
