/* web_client.c -- who is asking: the address every use of the client's
 * address in the web module takes (/clients, probe budgets, logs). The TCP
 * peer, unless the peer is one of http.trusted_proxies: then X-Forwarded-For
 * names the client. The header is read from the right, as the proxies
 * appended to it; entries a trusted proxy added are skipped, and the first
 * other entry is the client. Whatever a client wrote into the header itself
 * lies further left and is never reached while the proxy appends. An entry
 * that is not an address ends the walk at the hop that passed it on.
 * Without trusted proxies the header is ignored. */
#include "web_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "netaddr.h"

#define XFF_VALUES_MAX 16  /* X-Forwarded-For header lines looked at (the last) */
#define XFF_ENTRY_MAX 64   /* longest entry taken for an address */

/* The X-Forwarded-For lines of a request, the last XFF_VALUES_MAX. */
typedef struct xff_lines {
    const char *v[XFF_VALUES_MAX];
    size_t n;
} xff_lines;

static enum MHD_Result collect_xff(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value)
{
    (void)kind;
    xff_lines *x = cls;
    if (!key || !value || strcasecmp(key, "X-Forwarded-For") != 0)
        return MHD_YES;
    if (x->n == XFF_VALUES_MAX) {
        memmove(x->v, x->v + 1, (XFF_VALUES_MAX - 1) * sizeof x->v[0]);
        x->n--;
    }
    x->v[x->n++] = value;
    return MHD_YES;
}

/* An IPv4-mapped IPv6 address as the IPv4 address it is (how the stream
 * listeners and the report name such a client). */
static void unmap(struct sockaddr_storage *ss)
{
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
    if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
        return;
    struct sockaddr_in in4;
    memset(&in4, 0, sizeof in4);
    in4.sin_family = AF_INET;
    in4.sin_port = s6->sin6_port;
    memcpy(&in4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
    memset(ss, 0, sizeof *ss);
    memcpy(ss, &in4, sizeof in4);
}

/* One entry (len bytes, spaces trimmed) as an address: "192.0.2.7",
 * "192.0.2.7:4711", "2001:db8::1" or "[2001:db8::1]:4711". */
static bool entry_address(const char *s, size_t len, struct sockaddr_storage *out)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= XFF_ENTRY_MAX)
        return false;
    char text[XFF_ENTRY_MAX];
    memcpy(text, s, len);
    text[len] = '\0';
    char *host = text;
    if (text[0] == '[') {
        char *close = strchr(text, ']');
        if (!close || (close[1] && close[1] != ':'))
            return false;
        *close = '\0';
        host = text + 1;
    } else {
        char *colon = strchr(text, ':');
        if (colon && !strchr(colon + 1, ':'))
            *colon = '\0'; /* IPv4 with a port */
    }
    if (!netaddr_literal(host, 0, out))
        return false;
    unmap(out);
    return true;
}

static bool trusted(const config_http *http, const struct sockaddr *sa)
{
    for (size_t i = 0; i < http->n_trusted_proxies; i++)
        if (netaddr_cidr_contains(&http->trusted_proxies[i], sa))
            return true;
    return false;
}

bool web__peer_trusted(const rs_web *w, const struct sockaddr *sa)
{
    return trusted(&w->srv->cfg->http, sa);
}

bool web__client_address(const web_req *q, struct sockaddr_storage *out)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(q->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
        return false;
    memset(out, 0, sizeof *out);
    memcpy(out, sa, sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                             : sizeof(struct sockaddr_in6));
    unmap(out);
    const config_http *http = &q->w->srv->cfg->http;
    if (!http->n_trusted_proxies || !trusted(http, (const struct sockaddr *)out))
        return true; /* X-Forwarded-For from anyone else is ignored */
    xff_lines x = {.n = 0};
    MHD_get_connection_values(q->conn, MHD_HEADER_KIND, collect_xff, &x);
    for (size_t i = x.n; i-- > 0;) {
        const char *v = x.v[i];
        for (size_t end = strlen(v); end > 0;) {
            size_t start = end;
            while (start > 0 && v[start - 1] != ',')
                start--;
            struct sockaddr_storage hop;
            if (!entry_address(v + start, end - start, &hop))
                return true; /* not an address: the last trusted hop it is */
            *out = hop;
            if (!trusted(http, (const struct sockaddr *)&hop))
                return true;
            end = start > 0 ? start - 1 : 0;
        }
    }
    return true; /* every hop is a trusted proxy: the first of them */
}
