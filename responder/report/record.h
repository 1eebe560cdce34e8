/* record.h -- the outcome record of one stream: what the transport saw
 * (through a conn observer) and what the owning stream machine decided. It
 * goes to the report through evidence.h when the owner says it is worth
 * showing and when the stream closes, so conn.c knows nothing of the
 * report's data model. */
#ifndef RS_RECORD_H
#define RS_RECORD_H

#include "conn.h"
#include "report.h"

typedef struct rs_record rs_record;

/* A record for c, fed by c's events from now on; it lives until c is
 * freed. NULL on allocation failure (the owner should refuse the stream:
 * a stream we cannot account for is one we do not serve). */
rs_record *record_attach(rs_conn *c);

/* The fields the owner fills (auth, auth_used, auth_offered, stanza,
 * peer_cert, error_in, refused_by, ...); the rest come from events. Valid
 * until the loop turn ends: an idle stream's outcome is packed small (the
 * conn's idle event) and unpacked here when used again. */
report_outcome *record_outcome(rs_record *r);

/* While text (a string constant) is set, the record's close reason is text and the stream
 * counts as failed by the network, whatever the transport saw: for our
 * streams before the remote's header, where the detail (refused, reset,
 * closed) would make a port scanner of us (s2s_out.h). NULL clears it. */
void record_set_public_close(rs_record *r, const char *text);

/* The step the stream is at now (the owner's state machine says so after
 * each transition): a stream that ends unauthenticated records the step it
 * ended at, unless the owner set the outcome's step itself. */
void record_set_step(rs_record *r, report_step step);

/* Put the outcome so far in the report, marked open (after authentication
 * and the first stanza, so live streams show up). */
void record_update(rs_record *r);

#endif
