/* fuzz_policy.c -- libFuzzer target for policy files (cli/policy.c), the
 * operator's "LABEL accept|refuse" table that `xmpp-responder probe
 * --policy FILE` reads.
 *
 * Any bytes are either refused with one "my.policy:LINE: message" line per
 * problem and an empty policy, or parsed into rules that each name a
 * catalog row, at most once, on a line inside the text. policy_judge then
 * agrees with the rules for every row of the catalog. Aborts on a broken
 * contract.
 */
#include "catalog.h"
#include "policy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "my.policy"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *msgs = NULL;
    size_t msgs_len = 0;
    FILE *errs = open_memstream(&msgs, &msgs_len);
    if (!errs)
        abort();
    rs_policy p;
    int problems = policy_parse((const char *)data, size, NAME, &p, errs);
    fclose(errs);
    if (problems < 0)
        abort();
    if (problems > 0) {
        if (msgs_len == 0 || strncmp(msgs, NAME ":", sizeof NAME) != 0 ||
            msgs[msgs_len - 1] != '\n' || p.rules != NULL || p.n_rules != 0)
            abort();
        free(msgs);
        return 0;
    }
    if (msgs_len != 0 || p.kind != POLICY_FILE)
        abort();
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    for (size_t i = 0; i < p.n_rules; i++) {
        const policy_rule *r = &p.rules[i];
        if (!r->profile || r->line < 1 || (size_t)r->line > lines)
            abort();
        for (size_t j = 0; j < i; j++)
            if (p.rules[j].profile == r->profile)
                abort(); /* duplicates are errors */
    }
    for (size_t k = 0; k < catalog_count(); k++) {
        const catalog_profile *prof = catalog_at(k);
        const policy_rule *rule = NULL;
        for (size_t i = 0; i < p.n_rules; i++)
            if (p.rules[i].profile == prof)
                rule = &p.rules[i];
        for (int accepted = 0; accepted < 2; accepted++) {
            policy_verdict v = policy_judge(&p, prof, accepted);
            if (v.checked != (rule != NULL))
                abort();
            if (rule && (v.expect != rule->expect || v.line != rule->line))
                abort();
            if (!rule && v.mark != POLICY_UNCHECKED)
                abort();
            char why[1024];
            if (v.mark != POLICY_OK) {
                policy_explain(&p, prof, accepted, &v, why, sizeof why);
                if (!memchr(why, '\0', sizeof why))
                    abort();
            }
        }
    }
    policy_free(&p);
    free(msgs);
    return 0;
}
