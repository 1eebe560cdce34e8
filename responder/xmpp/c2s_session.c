/* c2s_session.c -- what a client of the test account may do once
 * authenticated: bind a resource, then talk to its own domain (ping, disco,
 * version: the services), its echo contact and its own account (roster,
 * session, presence). Anything addressed elsewhere is answered
 * service-unavailable by us and never routed out: the account is public, so
 * the responder must not become anybody's relay. */
#include "c2s_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jid.h"
#include "router.h"
#include "stanza.h"

/* ---- sending to the client ------------------------------------------------- */

/* el (consumed, built in jabber:server) goes to s in jabber:client. */
static void session_send(rs_c2s_stream *s, xmlNodePtr el)
{
    if (!el || !stanza_rename_ns(el, NS_SERVER, NS_CLIENT)) {
        xmlFreeNode(el);
        conn_log(s->conn, RS_LOG_ERROR, "dropped", "out of memory");
        return;
    }
    conn_send_node(s->conn, el);
    xmlFreeNode(el);
}

/* A reply to stanza in from the account's point of view: from 'from' (NULL:
 * none, for what the client sent without 'to'), to the session. */
static xmlNodePtr session_reply(const rs_c2s_stream *s, xmlNodePtr stanza,
                                const char *type, const char *from)
{
    xmlNodePtr el = stanza_new(NS_SERVER, (const char *)stanza->name);
    if (!el)
        return NULL;
    stanza_set(el, "from", from);
    stanza_set(el, "to", s->jid);
    stanza_set(el, "type", type);
    stanza_set(el, "id", stanza_attr(stanza, "id"));
    return el;
}

/* An error reply (never to an error or an iq result). */
static void session_error(rs_c2s_stream *s, xmlNodePtr stanza, const char *from,
                          const char *type, const char *condition, const char *text)
{
    const char *t = stanza_attr(stanza, "type");
    if (strcmp(t, "error") == 0 || strcmp(t, "result") == 0)
        return;
    xmlNodePtr el = session_reply(s, stanza, "error", from);
    if (!el)
        return;
    xmlNodePtr err = stanza_add(el, NULL, "error");
    stanza_set(err, "type", type);
    stanza_add(err, NS_STANZAS, condition);
    if (text)
        stanza_add_text(stanza_add(err, NS_STANZAS, "text"), text);
    session_send(s, el);
}

/* ---- binding ----------------------------------------------------------------- */

/* ---- the sessions by full JID ----------------------------------------------- */

#define BY_JID_FIRST 256 /* buckets at the first bind */

static size_t jid_hash(const char *s)
{
    size_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)tolower((unsigned char)*s)) * 16777619u;
    return h;
}

static rs_c2s_stream *find_session(rs_c2s *hub, const char *full)
{
    if (!hub->by_jid_size)
        return NULL;
    for (rs_c2s_stream *o = hub->by_jid[jid_hash(full) & (hub->by_jid_size - 1)]; o;
         o = o->jid_next)
        if (strcasecmp(o->jid, full) == 0)
            return o;
    return NULL;
}

/* Twice the buckets (the first ones at the first bind) once sessions would
 * outnumber them. -1 when there are none and no memory for them; a table
 * that cannot grow stays as it is (longer chains, same answers). */
static int by_jid_room(rs_c2s *hub)
{
    if (hub->n_sessions < hub->by_jid_size)
        return 0;
    size_t size = hub->by_jid_size ? hub->by_jid_size * 2 : BY_JID_FIRST;
    rs_c2s_stream **b = calloc(size, sizeof *b);
    if (!b)
        return hub->by_jid_size ? 0 : -1;
    for (size_t i = 0; i < hub->by_jid_size; i++)
        for (rs_c2s_stream *o = hub->by_jid[i], *next; o; o = next) {
            next = o->jid_next;
            size_t j = jid_hash(o->jid) & (size - 1);
            o->jid_next = b[j];
            b[j] = o;
        }
    free(hub->by_jid);
    hub->by_jid = b;
    hub->by_jid_size = size;
    return 0;
}

static void by_jid_remove(rs_c2s *hub, rs_c2s_stream *s)
{
    rs_c2s_stream **pp = &hub->by_jid[jid_hash(s->jid) & (hub->by_jid_size - 1)];
    for (; *pp; pp = &(*pp)->jid_next)
        if (*pp == s) {
            *pp = s->jid_next;
            s->jid_next = NULL;
            return;
        }
}

/* The resource asked for, if it makes a valid JID, else a random one. */
static bool choose_jid(rs_c2s_stream *s, xmlNodePtr bind)
{
    xmlNodePtr r = stanza_child(bind, NS_BIND, "resource");
    char *asked = r ? stanza_text(r) : NULL;
    jid j;
    char full[sizeof s->jid];
    bool ok = false;
    if (asked && asked[0]) {
        snprintf(full, sizeof full, "%s@%s/%.1023s", C2S_ACCOUNT, s->dom->name, asked);
        ok = jid_parse(full, &j) && j.resource[0];
    }
    free(asked);
    if (!ok) {
        char id[DIALBACK_STREAM_ID];
        if (dialback_stream_id(id) < 0)
            return false;
        snprintf(full, sizeof full, "%s@%s/responder-%.8s", C2S_ACCOUNT,
                 s->dom->name, id);
    }
    snprintf(s->jid, sizeof s->jid, "%s", full);
    return true;
}

void c2s__session_bind(rs_c2s_stream *s, xmlNodePtr el)
{
    xmlNodePtr bind = stanza_child(el, NS_BIND, "bind");
    if (!stanza_is(el, NS_CLIENT, "iq") || strcmp(stanza_attr(el, "type"), "set") != 0 ||
        !bind) {
        conn_stream_error(s->conn, "not-authorized", "bind a resource first");
        return;
    }
    rs_c2s *hub = s->hub;
    /* no cap of its own: a bound session holds the slot its stream took in
     * the client pool (admission.h), and gives it up when idle for long */
    if (!choose_jid(s, bind)) {
        conn_stream_error(s->conn, "internal-server-error", "no randomness");
        return;
    }
    rs_c2s_stream *old = find_session(hub, s->jid);
    if (old) { /* RFC 6120 7.7.2.2: the new session wins */
        c2s__session_end(old);
        conn_stream_error(old->conn, "conflict", "replaced by a new session");
    }
    if (by_jid_room(hub) < 0) {
        conn_stream_error(s->conn, "internal-server-error", "out of memory");
        return;
    }
    xmlNodePtr ok = session_reply(s, el, "result", NULL);
    if (ok)
        stanza_add_text(stanza_add(stanza_add(ok, NS_BIND, "bind"), NULL, "jid"), s->jid);
    session_send(s, ok);
    s->next = hub->sessions;
    if (s->next)
        s->next->pprev = &s->next;
    s->pprev = &hub->sessions;
    hub->sessions = s;
    size_t b = jid_hash(s->jid) & (hub->by_jid_size - 1);
    s->jid_next = hub->by_jid[b];
    hub->by_jid[b] = s;
    hub->n_sessions++;
    s->state = C2S_READY;
    conn_set_bound(s->conn);
    conn_set_names(s->conn, s->dom->name, s->jid);
    conn_set_timeout(s->conn, hub->srv->cfg->limits.idle_timeout);
    conn_set_idle_on_read(s->conn, hub->srv->cfg->limits.idle_timeout);
    conn_log(s->conn, RS_LOG_INFO, "bound", "jid=%s sessions=%u", s->jid,
             hub->n_sessions);
    clients_bound(s->rec);
}

void c2s__session_end(rs_c2s_stream *s)
{
    if (!s->hub || !s->pprev)
        return;
    *s->pprev = s->next;
    if (s->next)
        s->next->pprev = s->pprev;
    s->pprev = NULL;
    s->next = NULL;
    by_jid_remove(s->hub, s);
    s->hub->n_sessions--;
}

/* ---- the account's own stanzas (no 'to', or its bare JID) ---------------------- */

static void own_iq(rs_c2s_stream *s, xmlNodePtr iq)
{
    const char *type = stanza_attr(iq, "type");
    xmlNodePtr q = stanza_first_child(iq);
    if (strcmp(type, "result") == 0 || strcmp(type, "error") == 0)
        return;
    if (strcmp(type, "get") == 0 && stanza_is(q, NS_ROSTER, "query")) {
        /* one contact: the echo contact, subscribed both ways */
        xmlNodePtr el = session_reply(s, iq, "result", NULL);
        xmlNodePtr item = el ? stanza_add(stanza_add(el, NS_ROSTER, "query"), NULL,
                                          "item") : NULL;
        char echo[300];
        snprintf(echo, sizeof echo, "%s@%s", ECHO_LOCALPART, s->dom->name);
        stanza_set(item, "jid", echo);
        stanza_set(item, "name", "Echo");
        stanza_set(item, "subscription", "both");
        session_send(s, el);
    } else if (strcmp(type, "set") == 0 && stanza_is(q, NS_SESSION, "session")) {
        session_send(s, session_reply(s, iq, "result", NULL)); /* RFC 3921 */
    } else if (strcmp(type, "get") == 0 && stanza_is(q, NS_PING, "ping")) {
        session_send(s, session_reply(s, iq, "result", NULL));
        clients_answered(s->rec, false);
    } else if (stanza_is(q, NS_ROSTER, "query")) {
        session_error(s, iq, NULL, "cancel", "not-allowed",
                      "the test account's roster is fixed");
    } else {
        session_error(s, iq, NULL, "cancel", "service-unavailable", NULL);
    }
}

/* Initial presence: the echo contact answers as if probed, through the
 * services (their presence budget counts it). */
static void own_presence(rs_c2s_stream *s, xmlNodePtr pres)
{
    if (stanza_attr(pres, "type")[0])
        return; /* unavailable and the rest: nothing to do */
    xmlNodePtr probe = stanza_new(NS_SERVER, "presence");
    if (!probe)
        return;
    char echo[300];
    snprintf(echo, sizeof echo, "%s@%s", ECHO_LOCALPART, s->dom->name);
    stanza_set(probe, "type", "probe");
    stanza_set(probe, "from", s->jid);
    stanza_set(probe, "to", echo);
    router_deliver_client(s->hub->srv, s->dom, s->key, probe);
    xmlFreeNode(probe);
}

/* ---- routing ------------------------------------------------------------------ */

void c2s__session_stanza(rs_c2s_stream *s, xmlNodePtr el)
{
    bool iq = stanza_is(el, NS_CLIENT, "iq"), msg = stanza_is(el, NS_CLIENT, "message"),
         pres = stanza_is(el, NS_CLIENT, "presence");
    if (!iq && !msg && !pres) {
        conn_stream_error(s->conn, "unsupported-stanza-type",
                          "iq, message and presence only");
        return;
    }
    conn_set_timeout(s->conn, s->hub->srv->cfg->limits.idle_timeout);
    conn_set_active(s->conn); /* the last to give way in a full pool */
    /* RFC 6120 8.1.2.1: the server stamps 'from' */
    xmlSetProp(el, BAD_CAST "from", BAD_CAST s->jid);
    const char *to = stanza_attr(el, "to");
    jid j;
    char bare[600];
    snprintf(bare, sizeof bare, "%s@%s", C2S_ACCOUNT, s->dom->name);
    if (!to[0] || strcasecmp(to, bare) == 0) {
        if (iq)
            own_iq(s, el);
        else if (pres)
            own_presence(s, el);
        return; /* a message to oneself: nothing to echo it to */
    }
    if (!jid_parse(to, &j)) {
        session_error(s, el, to, "modify", "jid-malformed", NULL);
        return;
    }
    bool ours = strcasecmp(j.domain, s->dom->name) == 0 &&
                (!j.local[0] || strcmp(j.local, ECHO_LOCALPART) == 0);
    if (!ours) {
        /* never routed out: no open relay */
        session_error(s, el, to, "cancel", "service-unavailable",
                      "the test account may talk to its own domain and echo contact only");
        conn_log(s->conn, RS_LOG_INFO, "refused", "stanza to %s: not routed", to);
        return;
    }
    if (!stanza_rename_ns(el, NS_CLIENT, NS_SERVER)) {
        conn_close(s->conn, "out of memory");
        return;
    }
    if (iq && stanza_is(stanza_first_child(el), NS_PING, "ping"))
        clients_answered(s->rec, false);
    else if (msg && j.local[0])
        clients_answered(s->rec, true);
    router_deliver_client(s->hub->srv, s->dom, s->key, el);
}

/* ---- delivery ------------------------------------------------------------------ */

void c2s_deliver(void *ud, xmlNodePtr el)
{
    rs_c2s *hub = ud;
    jid j;
    char bare[2 * JID_PART_MAX + 2];
    if (!hub || !jid_parse(stanza_attr(el, "to"), &j)) {
        xmlFreeNode(el);
        return;
    }
    if (j.resource[0]) { /* the usual case: one session, by its full JID */
        rs_c2s_stream *s = find_session(hub, stanza_attr(el, "to"));
        if (s)
            session_send(s, el);
        else
            xmlFreeNode(el);
        return;
    }
    /* a bare JID: the account's sessions on that domain (64 at most), by a
     * walk over the bound sessions; our services answer full JIDs, so this
     * is rare */
    snprintf(bare, sizeof bare, "%s@%s", j.local, j.domain);
    rs_c2s_stream *to[64];
    size_t n = 0;
    for (rs_c2s_stream *s = hub->sessions; s && n < 64; s = s->next) {
        const char *slash = strchr(s->jid, '/');
        if (slash && (size_t)(slash - s->jid) == strlen(bare) &&
            strncasecmp(s->jid, bare, strlen(bare)) == 0)
            to[n++] = s;
    }
    for (size_t i = 0; i + 1 < n; i++)
        session_send(to[i], xmlCopyNode(el, 1));
    if (n)
        session_send(to[n - 1], el);
    else
        xmlFreeNode(el);
}
