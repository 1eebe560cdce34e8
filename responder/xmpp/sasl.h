/* sasl.h -- SASL EXTERNAL for s2s (XEP-0178): the payload carries the
 * authorization identity, base64-encoded, or "=" for none. */
#ifndef RS_SASL_H
#define RS_SASL_H

#include <stddef.h>

/* The <auth/> element to send for authzid (our domain), malloc'd. */
char *sasl_external_auth(const char *authzid);

/* Decode the text of a received <auth mechanism='EXTERNAL'>: "" or "=" give
 * an empty authzid. 0, or -1 when the payload is not valid base64 or does not
 * fit in n. */
int sasl_external_authzid(const char *payload, char *out, size_t n);

#endif
