/* services.h -- what every test domain answers (once the sender is
 * authenticated): XEP-0199 ping, the echo contact echo@DOMAIN (messages with
 * commands, presence subscription), XEP-0030 disco#info with the profile's description,
 * XEP-0092 version, service-unavailable for other iq get/set. Stanzas of type
 * error are never answered. Replies come from the exact JID addressed. */
#ifndef RS_SERVICES_H
#define RS_SERVICES_H

#include <libxml/tree.h>

#include "daemon.h"

typedef struct rs_services rs_services;

/* The services of srv (their reply budgets). NULL on allocation failure. */
rs_services *services_new(rs_daemon *srv);

/* Handle a stanza from remote (authenticated) to a JID at dom. Messages to
 * the echo contact: "help" lists the commands, "report" answers with what we
 * saw of the sender's domain (report.h), anything else is echoed; at most
 * limits.echo_per_minute replies per remote domain and minute. Every other
 * service has its own budget per remote domain and minute (ping_per_minute,
 * disco_per_minute, also for error replies, version_per_minute,
 * presence_per_minute); replies over it are dropped, logged once a minute
 * and counted in stats_counters.limited. */
void services_handle(rs_services *s, const rs_domain *dom,
                     const char *remote, xmlNodePtr stanza);

/* The same for a stanza of a client session on dom (c2s.h), already in
 * the jabber:server namespace with its 'from' stamped: the budgets count per
 * client_key (the client's address), and replies go to dom, where the
 * router hands them to the session. */
void services_handle_client(rs_services *s, const rs_domain *dom,
                            const char *client_key, xmlNodePtr stanza);

/* Release the services' state (the reply budgets). */
void services_free(rs_services *s);

#endif
