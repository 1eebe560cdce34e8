/* tls_ceiling.c -- what one TLS handshake of an s2s stream costs GnuTLS
 * alone, with nothing else around it: the ceiling the daemon's CPU per new
 * session is compared with (issue 14).
 *
 * The same handshake the daemon does: TLS 1.3, X25519, an ECDSA P-256 server
 * certificate, the daemon's default priority on the server side, a client
 * certificate requested and presented (SASL EXTERNAL needs it), the client's
 * chain verified by the server afterwards as verify.c does. Certificates are
 * made in memory (a P-256 CA and one leaf with both EKUs). Client and server
 * run in their own threads over a fresh socketpair per handshake; each side
 * times its own CPU (CLOCK_THREAD_CPUTIME_ID) from gnutls_init to
 * gnutls_deinit, so the figures hold on a busy machine.
 *
 * Usage: tls_ceiling [HANDSHAKES (default 300)]
 * Prints "RESULT handshakes=N server_us=... client_us=..." and readable lines. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define SERVER_PRIORITY "NORMAL:-VERS-TLS1.1:-VERS-TLS1.0" /* tls.c's default */
#define CLIENT_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X25519"
#define NAME "ceiling.example"

static gnutls_certificate_credentials_t creds;
static unsigned handshakes;
static int handoff[2];          /* server -> client: the client's socket */
static double server_cpu, client_cpu; /* seconds, summed over handshakes */

static void die(const char *what, int r)
{
    fprintf(stderr, "tls_ceiling: %s: %s\n", what, gnutls_strerror(r));
    exit(1);
}

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void key_p256(gnutls_x509_privkey_t *k)
{
    int r;
    if ((r = gnutls_x509_privkey_init(k)) < 0 ||
        (r = gnutls_x509_privkey_generate(*k, GNUTLS_PK_ECDSA,
                                          GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0)
        die("key", r);
}

/* A certificate for key, signed by (ca, ca_key), or self-signed when ca is NULL. */
static gnutls_x509_crt_t make_cert(gnutls_x509_privkey_t key, gnutls_x509_crt_t ca,
                                   gnutls_x509_privkey_t ca_key, unsigned char serial)
{
    gnutls_x509_crt_t c;
    time_t t = time(NULL);
    int r;
    if ((r = gnutls_x509_crt_init(&c)) < 0)
        die("crt", r);
    gnutls_x509_crt_set_version(c, 3);
    gnutls_x509_crt_set_serial(c, &serial, 1);
    gnutls_x509_crt_set_activation_time(c, t - 3600);
    gnutls_x509_crt_set_expiration_time(c, t + 86400);
    gnutls_x509_crt_set_key(c, key);
    if (!ca) {
        gnutls_x509_crt_set_dn(c, "CN=Ceiling Test CA", NULL);
        gnutls_x509_crt_set_basic_constraints(c, 1, -1);
        gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
    } else {
        gnutls_x509_crt_set_dn(c, "CN=" NAME, NULL);
        gnutls_x509_crt_set_basic_constraints(c, 0, -1);
        gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_DIGITAL_SIGNATURE);
        gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME, NAME, strlen(NAME),
                                             GNUTLS_FSAN_SET);
        gnutls_x509_crt_set_key_purpose_oid(c, GNUTLS_KP_TLS_WWW_SERVER, 0);
        gnutls_x509_crt_set_key_purpose_oid(c, GNUTLS_KP_TLS_WWW_CLIENT, 0);
    }
    if ((r = gnutls_x509_crt_sign2(c, ca ? ca : c, ca ? ca_key : key, GNUTLS_DIG_SHA256, 0)) < 0)
        die("sign", r);
    return c;
}

/* One side's handshakes: the server makes each socketpair and hands the
 * client its end; each times its own CPU from gnutls_init to gnutls_deinit. */
static void *side(void *arg)
{
    bool is_server = arg != NULL;
    gnutls_priority_t prio;
    int r;
    if ((r = gnutls_priority_init(&prio, is_server ? SERVER_PRIORITY : CLIENT_PRIORITY,
                                  NULL)) < 0)
        die("priority", r);
    for (unsigned i = 0; i < handshakes; i++) {
        int sv[2];
        if (is_server ? socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 ||
                            write(handoff[1], &sv[1], sizeof sv[1]) != sizeof sv[1]
                      : read(handoff[0], &sv[0], sizeof sv[0]) != sizeof sv[0])
            exit(1);
        double t0 = thread_cpu();
        gnutls_session_t s;
        gnutls_init(&s, is_server ? GNUTLS_SERVER : GNUTLS_CLIENT);
        gnutls_priority_set(s, prio);
        gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds);
        if (is_server) {
            gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUEST);
        } else {
            gnutls_server_name_set(s, GNUTLS_NAME_DNS, NAME, strlen(NAME));
            gnutls_session_set_verify_cert(s, NAME, 0);
        }
        gnutls_transport_set_int(s, sv[0]);
        do
            r = gnutls_handshake(s);
        while (r < 0 && !gnutls_error_is_fatal(r));
        if (r < 0)
            die(is_server ? "server handshake" : "client handshake", r);
        unsigned status;
        if (is_server && (gnutls_certificate_verify_peers3(s, NAME, &status) < 0 || status)) {
            fprintf(stderr, "tls_ceiling: the client's certificate did not verify\n");
            exit(1);
        }
        if (!is_server && i == 0) {
            char *d = gnutls_session_get_desc(s);
            printf("# negotiated %s\n", d);
            gnutls_free(d);
        }
        gnutls_deinit(s);
        *(is_server ? &server_cpu : &client_cpu) += thread_cpu() - t0;
        close(sv[0]);
    }
    gnutls_priority_deinit(prio);
    return NULL;
}

int main(int argc, char **argv)
{
    handshakes = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 300;
    if (handshakes == 0 || handshakes > 1000000) {
        fprintf(stderr, "usage: tls_ceiling [HANDSHAKES]\n");
        return 2;
    }
    gnutls_x509_privkey_t ca_key, key;
    key_p256(&ca_key);
    key_p256(&key);
    gnutls_x509_crt_t ca = make_cert(ca_key, NULL, NULL, 1);
    gnutls_x509_crt_t leaf = make_cert(key, ca, ca_key, 2);
    gnutls_x509_crt_t chain[2] = {leaf, ca};
    int r;
    if ((r = gnutls_certificate_allocate_credentials(&creds)) < 0 ||
        (r = gnutls_certificate_set_x509_key(creds, chain, 1, key)) < 0 ||
        (r = gnutls_certificate_set_x509_trust(creds, &ca, 1)) < 0)
        die("credentials", r);
    if (pipe(handoff) < 0)
        return 1;
    pthread_t st, ct;
    static int server_role;
    pthread_create(&st, NULL, side, &server_role); /* non-NULL: the server */
    pthread_create(&ct, NULL, side, NULL);
    pthread_join(st, NULL);
    pthread_join(ct, NULL);
    double su = server_cpu * 1e6 / handshakes, cu = client_cpu * 1e6 / handshakes;
    printf("server side: %.0f us CPU per handshake (TLS 1.3, X25519, ECDSA P-256, "
           "client certificate verified)\n", su);
    printf("client side: %.0f us CPU per handshake\n", cu);
    printf("RESULT handshakes=%u server_us=%.0f client_us=%.0f\n", handshakes, su, cu);
    gnutls_certificate_free_credentials(creds);
    gnutls_x509_crt_deinit(leaf);
    gnutls_x509_crt_deinit(ca);
    gnutls_x509_privkey_deinit(key);
    gnutls_x509_privkey_deinit(ca_key);
    return 0;
}
