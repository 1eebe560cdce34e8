/* fuzz_jid.c -- libFuzzer target for JIDs (jid.c), which parse every 'to'
 * and 'from' a peer sends.
 *
 * Any input is refused or parsed into terminated parts; a parsed JID
 * formats (full and bare) and parses back to the same parts, and its domain
 * passes jid_domain_valid. jid_domain_valid on the raw input must agree with
 * jid_parse for inputs without '@' and '/'. Aborts on a broken contract.
 */
#include "jid.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char text[4 * JID_PART_MAX + 8];
static jid parsed, again;
static char full[3 * JID_PART_MAX + 8];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= sizeof text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    bool ok = jid_parse(text, &parsed);
    if (strlen(text) == size && !memchr(text, '@', size) && !memchr(text, '/', size)) {
        /* A bare domain: both entry points agree. */
        if (ok != jid_domain_valid(text))
            abort();
    }
    if (!ok)
        return 0;
    if (!memchr(parsed.local, '\0', sizeof parsed.local) ||
        !memchr(parsed.domain, '\0', sizeof parsed.domain) ||
        !memchr(parsed.resource, '\0', sizeof parsed.resource))
        abort();
    if (parsed.domain[0] == '\0' || !jid_domain_valid(parsed.domain))
        abort();
    if (!jid_format(&parsed, full, sizeof full))
        abort();
    if (!jid_parse(full, &again) || strcmp(again.local, parsed.local) != 0 ||
        strcmp(again.domain, parsed.domain) != 0 ||
        strcmp(again.resource, parsed.resource) != 0)
        abort();
    if (!jid_format_bare(&parsed, full, sizeof full) || !jid_parse(full, &again) ||
        strcmp(again.domain, parsed.domain) != 0 || again.resource[0] != '\0')
        abort();
    return 0;
}
