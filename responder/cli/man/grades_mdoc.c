/* grades_mdoc.c -- the grade's table of rules (grade_rules, grade.c) as an
 * mdoc list: the part of xmpp-responder.8 between its "grades:begin" and
 * "grades:end" marks. tests/cli/test_man.py compares the page with this
 * output and, with --update, writes it in; nobody edits that part by hand. */
#include <stdio.h>

#include "grade.h"

int main(void)
{
    grade_rules_mdoc(stdout);
    return ferror(stdout) ? 1 : 0;
}
