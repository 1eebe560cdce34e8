/* sasl.c -- SASL EXTERNAL payloads, base64 by GnuTLS. */
#include "sasl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

char *sasl_external_auth(const char *authzid)
{
    gnutls_datum_t in = {(unsigned char *)authzid, (unsigned)strlen(authzid)};
    gnutls_datum_t b64 = {0};
    if (in.size && gnutls_base64_encode2(&in, &b64) < 0)
        return NULL;
    const char *payload = in.size ? (const char *)b64.data : "=";
    size_t n = strlen(payload) + 128;
    char *out = malloc(n);
    if (out)
        snprintf(out, n,
                 "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                 "mechanism='EXTERNAL'>%s</auth>", payload);
    gnutls_free(b64.data);
    return out;
}

int sasl_external_authzid(const char *payload, char *out, size_t n)
{
    if (payload[0] == '\0' || strcmp(payload, "=") == 0) {
        if (n)
            out[0] = '\0';
        return 0;
    }
    gnutls_datum_t in = {(unsigned char *)payload, (unsigned)strlen(payload)};
    gnutls_datum_t raw = {0};
    if (gnutls_base64_decode2(&in, &raw) < 0)
        return -1;
    int rc = -1;
    if (raw.size < n && !memchr(raw.data, '\0', raw.size)) {
        memcpy(out, raw.data, raw.size);
        out[raw.size] = '\0';
        rc = 0;
    }
    gnutls_free(raw.data);
    return rc;
}
