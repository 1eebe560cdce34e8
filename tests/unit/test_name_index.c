/* test_name_index.c -- the domain name index (name_index.h): lookups
 * without regard to case, duplicates found, absent names absent, and a
 * table of 10,000 names that grows past its first size. */
#include "check.h"
#include "name_index.h"

#include <stdio.h>
#include <stdlib.h>

#define MANY 10000

int main(void)
{
    rs_name_index x;
    CHECK(name_index_find(&(rs_name_index){0}, "a.example") == NAME_INDEX_NONE);
    CHECK(name_index_init(&x, 3) == 0);
    CHECK(name_index_add(&x, "valid.example", 0) == NAME_INDEX_NONE);
    CHECK(name_index_add(&x, "expired.example", 1) == NAME_INDEX_NONE);
    CHECK(name_index_add(&x, "VALID.example", 2) == 0); /* a duplicate */
    CHECK(name_index_find(&x, "Valid.Example") == 0);
    CHECK(name_index_find(&x, "expired.example") == 1);
    CHECK(name_index_find(&x, "expired.example.") == NAME_INDEX_NONE);
    CHECK(name_index_find(&x, "") == NAME_INDEX_NONE);
    name_index_free(&x);

    static char names[MANY][32];
    CHECK(name_index_init(&x, MANY) == 0);
    for (size_t i = 0; i < MANY; i++) {
        snprintf(names[i], sizeof names[i], "d%zu.many.example", i);
        CHECK(name_index_add(&x, names[i], i) == NAME_INDEX_NONE);
    }
    size_t wrong = 0;
    for (size_t i = 0; i < MANY; i++) {
        char upper[32];
        snprintf(upper, sizeof upper, "D%zu.MANY.example", i);
        wrong += name_index_find(&x, upper) != i;
    }
    CHECK(wrong == 0);
    CHECK(name_index_find(&x, "d10000.many.example") == NAME_INDEX_NONE);
    name_index_free(&x);
    return check_done();
}
