/* acme.c -- the ACME files of a public instance (acme.h): the http-01 tokens
 * the daemon serves, the renewal's plan, and installing each row's
 * certificate from uacme's confdir. */
#include "acme.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "atomic_file.h"

#define ACME_PATH_MAX 4096

bool acme_applies(const rs_config *cfg, const config_domain *d)
{
    return cfg->public_instance && d->profile && !d->cert_given &&
           d->profile->source != CATALOG_SOURCE_TEST_CA;
}

bool acme_token_valid(const char *token)
{
    size_t n = strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                             "0123456789-_");
    return n > 0 && n <= ACME_TOKEN_MAX && token[n] == '\0';
}

int acme_challenge_read(const char *state_dir, const char *token, char *out,
                        size_t cap, size_t *len)
{
    char path[ACME_PATH_MAX];
    if (!acme_token_valid(token) ||
        (size_t)snprintf(path, sizeof path, "%s/" ACME_CHALLENGE_DIR "/%s",
                         state_dir, token) >= sizeof path)
        return -1;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    ssize_t got = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= cap)
        got = read(fd, out, cap);
    close(fd);
    if (got <= 0 || (size_t)got != (size_t)st.st_size)
        return -1;
    /* the hook writes the key authorization; a trailing newline is not
       part of it (RFC 8555 8.3) */
    while (got > 0 && (out[got - 1] == '\n' || out[got - 1] == '\r'))
        got--;
    *len = (size_t)got;
    return 0;
}

/* ---- rows and uacme's files ------------------------------------------------------ */

/* uacme's identifier for d: the wildcard row asks for "*.BASE", stored
 * without the "*." (uacme strips it from directory names). */
static void row_ident(const rs_config *cfg, const config_domain *d, char *ident,
                      size_t n, const char **dir)
{
    if (d->profile->cert.names == CATALOG_NAMES_WILDCARD) {
        snprintf(ident, n, "*.%s", cfg->base_domain);
        *dir = cfg->base_domain;
    } else {
        snprintf(ident, n, "%s", d->name);
        *dir = d->name;
    }
}

/* A certificate file's leaf: notAfter, issuer CN and chain length. */
typedef struct cert_info {
    time_t not_after;   /* the leaf's */
    unsigned chain_len; /* certificates in the file */
    char issuer[160];   /* the leaf issuer's CN, or "?" */
} cert_info;

/* Read path's PEM chain; 0 with *info filled, -1 if unreadable. */
static int cert_read(const char *path, cert_info *info)
{
    gnutls_datum_t pem = {NULL, 0};
    gnutls_x509_crt_t *crts = NULL;
    unsigned n = 0;
    if (gnutls_load_file(path, &pem) < 0)
        return -1;
    int rc = gnutls_x509_crt_list_import2(&crts, &n, &pem, GNUTLS_X509_FMT_PEM, 0);
    gnutls_free(pem.data);
    if (rc < 0 || n == 0)
        return -1;
    info->not_after = gnutls_x509_crt_get_expiration_time(crts[0]);
    info->chain_len = n;
    size_t size = sizeof info->issuer;
    if (gnutls_x509_crt_get_issuer_dn_by_oid(crts[0], GNUTLS_OID_X520_COMMON_NAME,
                                             0, 0, info->issuer, &size) < 0)
        snprintf(info->issuer, sizeof info->issuer, "?");
    for (unsigned i = 0; i < n; i++)
        gnutls_x509_crt_deinit(crts[i]);
    gnutls_free(crts);
    return 0;
}

/* Which files of uacme's IDENT directory a search takes. */
typedef enum {
    PICK_EXPIRED, /* cert.pem, cert-*.pem whose leaf has expired */
    PICK_REVOKED  /* revoked-*.pem whose leaf has not expired */
} pick_kind;

/* The newest (latest notAfter) file of dir matching kind, into path. 0, or
 * -1 when none. */
static int pick_newest(const char *dir, pick_kind kind, time_t now, char *path,
                       size_t n, cert_info *best)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return -1;
    bool found = false;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        const char *f = e->d_name;
        size_t len = strlen(f);
        if (len < 4 || strcmp(f + len - 4, ".pem") != 0)
            continue;
        bool wanted = kind == PICK_REVOKED ? strncmp(f, "revoked-", 8) == 0
                                           : strcmp(f, "cert.pem") == 0 ||
                                                 strncmp(f, "cert-", 5) == 0;
        char one[ACME_PATH_MAX];
        cert_info info;
        if (!wanted || (size_t)snprintf(one, sizeof one, "%s/%s", dir, f) >= sizeof one ||
            cert_read(one, &info) < 0)
            continue;
        bool expired = info.not_after <= now;
        if (expired != (kind == PICK_EXPIRED))
            continue;
        if (!found || info.not_after > best->not_after) {
            found = true;
            *best = info;
            snprintf(path, n, "%s", one);
        }
    }
    closedir(dh);
    return found ? 0 : -1;
}

static const char *key_type(const config_domain *d, unsigned *bits)
{
    if (d->profile->cert.key == CATALOG_KEY_ECDSA_P256) {
        *bits = 256;
        return "EC";
    }
    *bits = 2048; /* RSA 1024 rows are never acme: no CA issues them */
    return "RSA";
}

/* ---- the plan ------------------------------------------------------------------- */

size_t acme_plan(const rs_config *cfg, int64_t now, unsigned days, FILE *out)
{
    size_t actions = 0;
    fprintf(out, "state\t%s\n", cfg->state_dir);
    for (size_t i = 0; i < cfg->n_domains; i++) {
        const config_domain *d = &cfg->domains[i];
        if (!acme_applies(cfg, d))
            continue;
        char ident[300], dir[ACME_PATH_MAX], path[ACME_PATH_MAX];
        const char *identdir;
        row_ident(cfg, d, ident, sizeof ident, &identdir);
        unsigned bits;
        const char *type = key_type(d, &bits);
        const char *action = d->profile->cert.names == CATALOG_NAMES_WILDCARD ? "dns01"
                                                                              : "issue";
        switch (d->profile->derived) {
        case CATALOG_DERIVED_OTHER_NAME:
            fprintf(out, "# %s: presents another acme domain's certificate, "
                    "nothing of its own to issue\n", d->name);
            continue;
        case CATALOG_DERIVED_REVOKED: {
            cert_info info;
            snprintf(dir, sizeof dir, "%s/" ACME_UACME_DIR "/%s", cfg->state_dir,
                     identdir);
            if (pick_newest(dir, PICK_REVOKED, (time_t)now, path, sizeof path,
                            &info) == 0 &&
                info.not_after > (time_t)now + (time_t)days * 86400) {
                fprintf(out, "# %s: revoked certificate %s valid until %lld\n",
                        d->name, path, (long long)info.not_after);
                continue;
            }
            action = "revoke";
            break;
        }
        default:
            break;
        }
        fprintf(out, "%s\t%s\t%s\t%u\t%s\n", action, d->name, type, bits, ident);
        actions++;
    }
    return actions;
}

/* ---- installing ------------------------------------------------------------------ */

/* Where one row's certificate comes from. */
typedef struct acme_source {
    char cert[ACME_PATH_MAX]; /* the PEM chain in uacme's confdir */
    char key[ACME_PATH_MAX];  /* its key */
    bool leaf_only;           /* send the leaf without its chain */
    char what[200];           /* what it is, for the summary */
} acme_source;

static int source_paths(const rs_config *cfg, const char *identdir, const char *file,
                        acme_source *src)
{
    int a = snprintf(src->cert, sizeof src->cert, "%s/" ACME_UACME_DIR "/%s/%s",
                     cfg->state_dir, identdir, file);
    int b = snprintf(src->key, sizeof src->key,
                     "%s/" ACME_UACME_DIR "/private/%s/key.pem", cfg->state_dir,
                     identdir);
    return a < 0 || (size_t)a >= sizeof src->cert || b < 0 ||
                   (size_t)b >= sizeof src->key
               ? -1
               : 0;
}

/* The acme domain whose certificate wrong-name presents: valid's when it
 * has one, else the first acme row's that has one. */
static const config_domain *other_name_donor(const rs_config *cfg)
{
    const config_domain *first = NULL;
    for (size_t i = 0; i < cfg->n_domains; i++) {
        const config_domain *d = &cfg->domains[i];
        acme_source s;
        if (!acme_applies(cfg, d) || d->profile->source != CATALOG_SOURCE_ACME ||
            d->profile->cert.names != CATALOG_NAMES_DNS ||
            source_paths(cfg, d->name, "cert.pem", &s) < 0 || access(s.cert, R_OK) != 0)
            continue;
        if (strcmp(d->profile->label, "valid") == 0)
            return d;
        if (!first)
            first = d;
    }
    return first;
}

/* Find d's source. 1 found, 0 nothing to derive from yet or a wildcard
 * without dns-01 (not an error), -1 missing (the renewal failed for it). */
static int find_source(const rs_config *cfg, const config_domain *d, time_t now,
                       acme_source *src)
{
    char ident[300], dir[ACME_PATH_MAX];
    const char *identdir;
    row_ident(cfg, d, ident, sizeof ident, &identdir);
    memset(src, 0, sizeof *src);
    cert_info info;
    switch (d->profile->derived) {
    case CATALOG_DERIVED_OTHER_NAME: {
        const config_domain *donor = other_name_donor(cfg);
        if (!donor || source_paths(cfg, donor->name, "cert.pem", src) < 0)
            return 0;
        snprintf(src->what, sizeof src->what, "the acme certificate of %s", donor->name);
        return 1;
    }
    case CATALOG_DERIVED_EXPIRED:
    case CATALOG_DERIVED_REVOKED: {
        bool expired = d->profile->derived == CATALOG_DERIVED_EXPIRED;
        char path[ACME_PATH_MAX];
        snprintf(dir, sizeof dir, "%s/" ACME_UACME_DIR "/%s", cfg->state_dir, identdir);
        if (pick_newest(dir, expired ? PICK_EXPIRED : PICK_REVOKED, now, path,
                        sizeof path, &info) < 0 ||
            source_paths(cfg, identdir, strrchr(path, '/') + 1, src) < 0)
            return 0;
        snprintf(src->what, sizeof src->what, "%s acme certificate %s",
                 expired ? "the newest expired" : "the newest revoked",
                 strrchr(path, '/') + 1);
        return 1;
    }
    case CATALOG_DERIVED_NO_CHAIN:
        src->leaf_only = true;
        /* fall through */
    case CATALOG_DERIVED_NONE:
        if (source_paths(cfg, identdir, "cert.pem", src) < 0)
            return -1;
        if (access(src->cert, R_OK) != 0)
            /* the wildcard waits for a dns-01 setup (acme-renew
               --dns-update), which the renewal said it lacks */
            return d->profile->cert.names == CATALOG_NAMES_WILDCARD ? 0 : -1;
        snprintf(src->what, sizeof src->what, "%s", src->leaf_only
                 ? "its acme leaf without the intermediates" : "its acme certificate");
        return 1;
    }
    return -1;
}

/* The PEM to present from src (the file as is, or its leaf alone), checked
 * against the key. 0, or -1 with why set. */
static int source_pem(const acme_source *src, gnutls_datum_t *cert,
                      gnutls_datum_t *key, const char **why)
{
    *why = "cannot read the certificate or its key";
    if (gnutls_load_file(src->cert, cert) < 0)
        return -1;
    if (gnutls_load_file(src->key, key) < 0)
        return -1;
    if (src->leaf_only) {
        gnutls_x509_crt_t leaf = NULL;
        gnutls_datum_t one = {NULL, 0};
        int rc = gnutls_x509_crt_init(&leaf);
        if (rc >= 0 && (rc = gnutls_x509_crt_import(leaf, cert, GNUTLS_X509_FMT_PEM)) >= 0)
            rc = gnutls_x509_crt_export2(leaf, GNUTLS_X509_FMT_PEM, &one);
        if (leaf)
            gnutls_x509_crt_deinit(leaf);
        if (rc < 0) {
            *why = "cannot read the leaf";
            return -1;
        }
        gnutls_free(cert->data);
        *cert = one;
    }
    /* GnuTLS refuses a key that does not belong to the leaf */
    gnutls_certificate_credentials_t creds;
    if (gnutls_certificate_allocate_credentials(&creds) < 0) {
        *why = "out of memory";
        return -1;
    }
    int rc = gnutls_certificate_set_x509_key_mem2(creds, cert, key,
                                                 GNUTLS_X509_FMT_PEM, NULL, 0);
    gnutls_certificate_free_credentials(creds);
    if (rc < 0) {
        *why = gnutls_strerror(rc);
        return -1;
    }
    return 0;
}

static int write_file(const char *path, const gnutls_datum_t *data, mode_t mode)
{
    rs_atomic_file a;
    if (atomic_file_open(&a, path, mode) < 0)
        return -1;
    if (fwrite(data->data, 1, data->size, a.f) != data->size) {
        atomic_file_abort(&a);
        return -1;
    }
    return atomic_file_commit(&a);
}

static int live_paths(const rs_config *cfg, const config_domain *d, char *cert,
                      char *key)
{
    int a = snprintf(cert, ACME_PATH_MAX, "%s/" ACME_LIVE_DIR "/%s.pem",
                     cfg->state_dir, d->name);
    int b = snprintf(key, ACME_PATH_MAX, "%s/" ACME_LIVE_DIR "/%s.key",
                     cfg->state_dir, d->name);
    return a < 0 || a >= ACME_PATH_MAX || b < 0 || b >= ACME_PATH_MAX ? -1 : 0;
}

/* Install d's certificate; 0, or -1 after saying why on out. */
static int install_one(const rs_config *cfg, const config_domain *d, time_t now,
                       FILE *out)
{
    char live_cert[ACME_PATH_MAX], live_key[ACME_PATH_MAX];
    acme_source src;
    if (live_paths(cfg, d, live_cert, live_key) < 0) {
        fprintf(out, "%s: the state directory's path is too long\n", d->name);
        return -1;
    }
    int found = find_source(cfg, d, now, &src);
    if (found == 0) {
        /* a derived row with nothing to derive from: the test CA's own
           certificate until there is (certcheck flags it meanwhile) */
        unlink(live_cert);
        unlink(live_key);
        fprintf(out, "%s: %s: presents the test CA's certificate\n", d->name,
                d->profile->source == CATALOG_SOURCE_ACME
                    ? "no acme certificate yet (a wildcard needs dns-01)"
                    : "nothing to derive it from yet");
        return 0;
    }
    if (found < 0) {
        fprintf(out, "%s: no acme certificate in %s%s\n", d->name,
                src.cert[0] ? src.cert : ACME_UACME_DIR,
                access(live_cert, R_OK) == 0 ? "; keeping the one installed" : "");
        return -1;
    }
    gnutls_datum_t cert = {NULL, 0}, key = {NULL, 0};
    const char *why = NULL;
    int rc = source_pem(&src, &cert, &key, &why);
    if (rc == 0 && (write_file(live_key, &key, 0600) < 0 ||
                    write_file(live_cert, &cert, 0644) < 0)) {
        why = strerror(errno);
        rc = -1;
    }
    gnutls_free(cert.data);
    gnutls_free(key.data);
    cert_info info;
    if (rc < 0) {
        fprintf(out, "%s: cannot install %s: %s\n", d->name, src.cert, why);
        return -1;
    }
    if (cert_read(live_cert, &info) < 0) {
        fprintf(out, "%s: cannot read back %s\n", d->name, live_cert);
        return -1;
    }
    char until[32];
    struct tm tm;
    strftime(until, sizeof until, "%Y-%m-%d",
             gmtime_r(&info.not_after, &tm) ? &tm : &(struct tm){0});
    fprintf(out, "%s: %s (issuer %s, %s %s, %u certificate%s sent)\n", d->name,
            src.what, info.issuer, info.not_after <= now ? "expired" : "valid until",
            until, info.chain_len, info.chain_len == 1 ? "" : "s");
    return 0;
}

size_t acme_install(const rs_config *cfg, int64_t now, FILE *out)
{
    char dir[ACME_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/acme", cfg->state_dir);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/" ACME_LIVE_DIR, cfg->state_dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        fprintf(out, "%s: %s\n", dir, strerror(errno));
        return 1;
    }
    size_t failed = 0;
    for (size_t i = 0; i < cfg->n_domains; i++)
        if (acme_applies(cfg, &cfg->domains[i]) &&
            install_one(cfg, &cfg->domains[i], (time_t)now, out) < 0)
            failed++;
    return failed;
}
