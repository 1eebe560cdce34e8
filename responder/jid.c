/* jid.c -- temporary minimal JID parsing (to be replaced by the xml work). */
#include "jid.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool jid_domain_valid(const char *d)
{
    size_t n = strlen(d);
    if (n == 0 || n > 253)
        return false;
    for (const char *p = d; *p; p++)
        if ((unsigned char)*p <= 0x20 || strchr("@/<>\"&'", *p))
            return false;
    return true;
}

bool jid_parse(const char *s, jid *out)
{
    memset(out, 0, sizeof *out);
    const char *slash = strchr(s, '/');
    const char *at = strchr(s, '@');
    if (at && slash && at > slash)
        at = NULL;
    const char *dom = at ? at + 1 : s;
    size_t dlen = slash ? (size_t)(slash - dom) : strlen(dom);
    if (dlen == 0 || dlen > JID_PART_MAX)
        return false;
    if (at) {
        size_t llen = (size_t)(at - s);
        if (llen == 0 || llen > JID_PART_MAX)
            return false;
        memcpy(out->local, s, llen);
    }
    for (size_t i = 0; i < dlen; i++)
        out->domain[i] = (char)tolower((unsigned char)dom[i]);
    if (dlen && out->domain[dlen - 1] == '.')
        out->domain[dlen - 1] = '\0';
    if (slash) {
        if (!slash[1] || strlen(slash + 1) > JID_PART_MAX)
            return false;
        strcpy(out->resource, slash + 1);
    }
    return jid_domain_valid(out->domain);
}

bool jid_format(const jid *j, char *buf, size_t n)
{
    int w = snprintf(buf, n, "%s%s%s%s%s", j->local, j->local[0] ? "@" : "",
                     j->domain, j->resource[0] ? "/" : "", j->resource);
    return w >= 0 && (size_t)w < n;
}

bool jid_format_bare(const jid *j, char *buf, size_t n)
{
    int w = snprintf(buf, n, "%s%s%s", j->local, j->local[0] ? "@" : "", j->domain);
    return w >= 0 && (size_t)w < n;
}
