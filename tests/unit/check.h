/* check.h -- the unit tests' minimal harness: CHECK records a failure with
 * file:line and goes on; check_done() prints a summary and gives the exit code. */
#ifndef RS_CHECK_H
#define RS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed_;
static int check_passed_;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) {                                                          \
            check_passed_++;                                                 \
        } else {                                                             \
            check_failed_++;                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
        }                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                      \
    do {                                                                     \
        const char *check_a_ = (a), *check_b_ = (b);                         \
        if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) {       \
            check_passed_++;                                                 \
        } else {                                                             \
            check_failed_++;                                                 \
            fprintf(stderr, "%s:%d: CHECK_STR failed: %s = \"%s\", want \"%s\"\n", \
                    __FILE__, __LINE__, #a, check_a_ ? check_a_ : "(null)",  \
                    check_b_ ? check_b_ : "(null)");                         \
        }                                                                    \
    } while (0)

static inline int check_done(void)
{
    printf("%d checks passed, %d failed\n", check_passed_, check_failed_);
    return check_failed_ ? 1 : 0;
}

#endif
