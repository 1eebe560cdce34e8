/* jid.h -- XMPP addresses (RFC 7622), parsed into bounded parts. */
#ifndef RS_JID_H
#define RS_JID_H

#include <stdbool.h>
#include <stddef.h>

#define JID_PART_MAX 1023 /* RFC 7622: each part at most 1023 bytes */

/* A parsed JID. Empty strings mean "absent". */
typedef struct jid {
    char local[JID_PART_MAX + 1];    /* before '@', may be empty */
    char domain[JID_PART_MAX + 1];   /* lower-cased, no trailing dot */
    char resource[JID_PART_MAX + 1]; /* after '/', may be empty */
} jid;

/* Parse s into out. false for empty domain, over-long parts, empty local or
 * resource after a separator, bad bytes (control chars, spaces, '<>"&\'' in
 * local, '@' or '/' in domain). */
bool jid_parse(const char *s, jid *out);

/* true when d is a syntactically valid domain part (what jid_parse accepts). */
bool jid_domain_valid(const char *d);

/* Write the full form into buf (local@domain/resource). false if too small. */
bool jid_format(const jid *j, char *buf, size_t n);

/* Write the bare form (local@domain) into buf. false if too small. */
bool jid_format_bare(const jid *j, char *buf, size_t n);

#endif
