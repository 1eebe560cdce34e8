/* jid.c -- XMPP addresses (RFC 7622) split into bounded parts.
 *
 * No stringprep or PRECIS: the responder only compares domains it hosts (plain
 * ASCII labels it configured) and echoes addresses back verbatim, so ASCII
 * lower-casing of the domain is the only normalisation done. Parts are checked
 * for length, UTF-8 validity and the bytes RFC 7622 forbids outright, which is
 * what keeps garbage out of logs, routing keys and generated XML.
 */
#include "jid.h"

#include <stdio.h>
#include <string.h>

#include <libxml/xmlstring.h>
#include "utf8.h"

/* Control characters (C0 and DEL) never belong in any part. */
static bool jid_is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* Copy n bytes of s into dst (JID_PART_MAX + 1 bytes) and check it is
 * non-empty, not too long and valid UTF-8. */
static bool jid_copy_part(char *dst, const char *s, size_t n)
{
    if (n == 0 || n > JID_PART_MAX)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return utf8_valid(dst, n);
}

/* RFC 7622 section 3.3.1 forbids " & ' / : < > @ and spaces in a localpart. */
static bool jid_local_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (jid_is_control(c) || c == ' ' || strchr("\"&'/:<>@", c) != NULL)
            return false;
    }
    return true;
}

/* A domainpart is a DNS name (ASCII letters, digits, '-', '_', or UTF-8
 * U-labels) or an IP literal ("[...]" with ':' and hex digits). Empty labels
 * are refused: "a..b" or ".a" name no host. */
static bool jid_domain_bytes_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ascii_ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                        c == '.' || c == '[' || c == ']' || c == ':';
        if (c < 0x80 && !ascii_ok)
            return false;
        if (c == '.' && (i == 0 || s[i - 1] == '.'))
            return false;
    }
    return true;
}

/* Check a domainpart of n bytes and store its normal form (one trailing dot
 * removed, ASCII lower-cased) into dst. */
static bool jid_domain_part(char *dst, const char *s, size_t n)
{
    if (n > 0 && s[n - 1] == '.')
        n--; /* the fully qualified form names the same domain */
    if (!jid_domain_bytes_ok(s, n) || (n > 0 && s[n - 1] == '.'))
        return false;
    if (!jid_copy_part(dst, s, n))
        return false;
    for (char *p = dst; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return true;
}

/* Resources are opaque (RFC 7622 uses the OpaqueString profile, which allows
 * spaces, as in "home laptop"); only control characters are refused. */
static bool jid_resource_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (jid_is_control((unsigned char)s[i]))
            return false;
    return true;
}

bool jid_parse(const char *s, jid *out)
{
    memset(out, 0, sizeof *out);
    if (s == NULL)
        return false;
    /* The first '/' starts the resource, which may itself hold '@' and '/'. */
    const char *slash = strchr(s, '/');
    size_t head = slash ? (size_t)(slash - s) : strlen(s);
    const char *at = memchr(s, '@', head);
    const char *domain = at ? at + 1 : s;
    size_t domain_len = head - (size_t)(domain - s);

    if (at != NULL) {
        size_t local_len = (size_t)(at - s);
        if (!jid_local_ok(s, local_len) || !jid_copy_part(out->local, s, local_len))
            goto fail;
    }
    if (!jid_domain_part(out->domain, domain, domain_len))
        goto fail;
    if (slash != NULL) {
        size_t res_len = strlen(slash + 1);
        if (!jid_resource_ok(slash + 1, res_len) ||
            !jid_copy_part(out->resource, slash + 1, res_len))
            goto fail;
    }
    return true;
fail:
    memset(out, 0, sizeof *out);
    return false;
}

bool jid_domain_valid(const char *d)
{
    char scratch[JID_PART_MAX + 1];
    if (d == NULL)
        return false;
    /* '@' and '/' are refused by the byte check, as in jid_parse. */
    return jid_domain_part(scratch, d, strlen(d));
}

/* snprintf into buf and report whether everything fitted. */
static bool jid_put(char *buf, size_t n, const jid *j, bool full)
{
    bool res = full && j->resource[0] != '\0';
    int w = snprintf(buf, n, "%s%s%s%s%s", j->local, j->local[0] ? "@" : "",
                     j->domain, res ? "/" : "", res ? j->resource : "");
    return w >= 0 && (size_t)w < n;
}

bool jid_format(const jid *j, char *buf, size_t n)
{
    return jid_put(buf, n, j, true);
}

bool jid_format_bare(const jid *j, char *buf, size_t n)
{
    return jid_put(buf, n, j, false);
}
