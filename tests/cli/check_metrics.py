#!/usr/bin/python3
"""check_metrics.py -- the /metrics exposition has the families we promise.

Usage: check_metrics.py FILE
  Every expected family has # HELP and # TYPE of the right type; every
  sample line is NAME[{labels}] VALUE with a number as value; counters are
  whole and not negative; the stream gauges list both directions. Prints
  what is missing; exit 0 when nothing is.
"""
import re
import sys

EXPECTED = {
    "xmpp_responder_build_info": "gauge",
    "xmpp_responder_start_time_seconds": "gauge",
    "xmpp_responder_test_domains": "gauge",
    "xmpp_responder_report_peers": "gauge",
    "xmpp_responder_streams_open": "gauge",
    "xmpp_responder_streams_total": "counter",
    "xmpp_responder_tls_handshakes_total": "counter",
    "xmpp_responder_auth_total": "counter",
    "xmpp_responder_pings_answered_total": "counter",
    "xmpp_responder_echoes_total": "counter",
    "xmpp_responder_echo_commands_total": "counter",
    "xmpp_responder_echo_rate_limited_total": "counter",
    "xmpp_responder_stream_errors_total": "counter",
    "xmpp_responder_connections_refused_total": "counter",
    "xmpp_responder_s2s_bytes_total": "counter",
    "xmpp_responder_probes_started_total": "counter",
    "xmpp_responder_outcomes_recorded_total": "counter",
    # the two pools (admission.h)
    "xmpp_responder_pool_streams": "gauge",
    "xmpp_responder_pool_capacity": "gauge",
    "xmpp_responder_client_streams_evicted_total": "counter",
    "xmpp_responder_client_streams_refused_total": "counter",
}
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')

helps, types, samples, problems = set(), {}, [], []
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if line.startswith("# HELP "):
        helps.add(line.split()[2])
    elif line.startswith("# TYPE "):
        parts = line.split()
        types[parts[2]] = parts[3]
    elif line and not line.startswith("#"):
        m = SAMPLE.match(line)
        if not m:
            problems.append("unparsable line: %r" % line)
            continue
        try:
            value = float(m.group(4))
        except ValueError:
            problems.append("value is not a number: %r" % line)
            continue
        samples.append((m.group(1), m.group(3) or "", value))

for name, kind in EXPECTED.items():
    if name not in helps:
        problems.append("no HELP for " + name)
    if types.get(name) != kind:
        problems.append("TYPE of %s is %s, want %s" % (name, types.get(name), kind))
    if not any(s[0] == name for s in samples):
        problems.append("no sample of " + name)
for name, labels, value in samples:
    if types.get(name) == "counter" and (value < 0 or value != int(value)):
        problems.append("counter %s{%s} = %r" % (name, labels, value))
for d in ("in", "out"):
    if not any(s[0] == "xmpp_responder_streams_open" and
               'direction="%s"' % d in s[1] for s in samples):
        problems.append("no streams_open series for direction " + d)
for family in ("xmpp_responder_pool_streams", "xmpp_responder_pool_capacity"):
    for pool in ("servers", "clients"):
        if not any(s[0] == family and 'pool="%s"' % pool in s[1] for s in samples):
            problems.append("no %s series for pool %s" % (family, pool))
for session in ("unbound", "bound"):
    if not any(s[0] == "xmpp_responder_client_streams_evicted_total" and
               'session="%s"' % session in s[1] for s in samples):
        problems.append("no client_streams_evicted_total series for session " + session)
domains = [s[2] for s in samples if s[0] == "xmpp_responder_test_domains"]
print("families=%d samples=%d test_domains=%s problems=%d" %
      (len(types), len(samples), domains[0] if domains else "?", len(problems)))
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
