/* policy.h -- what `xmpp-responder probe` expects of a target (strict,
 * pedantic, lenient or the operator's file: xmpp-responder(8), --policy)
 * and whether a probe's results meet it. Pure functions over the catalog
 * (no I/O except policy_load reading a file), so they are unit-tested on
 * their own. Rows whose profile the catalog does not know are never
 * checked. */
#ifndef RS_POLICY_H
#define RS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "catalog.h"

#define POLICY_FILE_MAX (1u << 20) /* bytes of a policy file */
#define POLICY_LINE_MAX 1024       /* bytes of one line of it */

typedef enum {
    POLICY_STRICT,
    POLICY_PEDANTIC,
    POLICY_LENIENT,
    POLICY_FILE
} policy_kind;

/* One line of a policy file. */
typedef struct policy_rule {
    const catalog_profile *profile; /* the row it is about */
    catalog_expect expect;          /* accept or refuse */
    int line;                   /* where it was written */
} policy_rule;

typedef struct rs_policy {
    policy_kind kind;
    char *name;                 /* "strict", ... or the file's path */
    policy_rule *rules;         /* POLICY_FILE only */
    size_t n_rules;
} rs_policy;

/* How a row compares with the policy. */
typedef enum {
    POLICY_OK,        /* as the policy expects */
    POLICY_DIFF,      /* differs: the target fails the policy */
    POLICY_ADVISORY,  /* differs where the specs leave room (strict only) */
    POLICY_UNCHECKED  /* the policy says nothing about this row */
} policy_mark;

typedef struct policy_verdict {
    policy_mark mark;
    bool checked;       /* the policy expects something of this row */
    catalog_expect expect;  /* what, when checked */
    int line;           /* POLICY_FILE: the rule's line; else 0 */
} policy_verdict;

/* Parse a policy file's text (len bytes; NUL bytes are an error). Every
 * problem is printed to errs as "NAME:LINE: message". Returns the number of
 * problems; on 0 *out holds the policy (release with policy_free), otherwise
 * *out is left empty. */
int policy_parse(const char *text, size_t len, const char *name,
                 rs_policy *out, FILE *errs);

/* spec is "strict", "pedantic", "lenient" or a file's path (a file called
 * like a keyword can be given as ./strict). Problems go to errs as above
 * ("PATH: message" when the file cannot be read). Returns the number of
 * problems, 0 on success. */
int policy_load(const char *spec, rs_policy *out, FILE *errs);

void policy_free(rs_policy *p);

/* What p says of a row with profile prof (NULL = unknown to the catalog)
 * whose ping was answered (accepted) or not. */
policy_verdict policy_judge(const rs_policy *p, const catalog_profile *prof,
                            bool accepted);

/* "OK", "DIFF", "advisory", "-". */
const char *policy_mark_name(policy_mark m);

/* One sentence for a row that is not OK: what happened, what the policy
 * expects, and why (from the catalog). */
void policy_explain(const rs_policy *p, const catalog_profile *prof, bool accepted,
                    const policy_verdict *v, char *out, size_t n);

#endif
