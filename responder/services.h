/* services.h -- what every test domain answers (once the sender is
 * authenticated): XEP-0199 ping, the echo contact echo@DOMAIN (messages and
 * presence subscription), XEP-0030 disco#info with the profile's description,
 * XEP-0092 version, service-unavailable for other iq get/set. Stanzas of type
 * error are never answered. Replies come from the exact JID addressed. */
#ifndef RS_SERVICES_H
#define RS_SERVICES_H

#include <libxml/tree.h>

#include "server.h"

#define ECHO_LOCALPART "echo"

/* Handle a stanza from remote (authenticated) to a JID at dom. */
void services_handle(rs_server *srv, const rs_domain *dom, const char *remote,
                     xmlNodePtr stanza);

#endif
