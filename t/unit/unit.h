/* unit.h: what every C unit test shares: the two counters, ok() and the
 * closing line. Each test is its own program, so these are static: one
 * copy per binary, nothing to link. */
#ifndef OS_UNIT_H
#define OS_UNIT_H

#include <stdio.h>

static int passed, failed;

/* One check: counted, and a line naming it when it fails. */
static void ok(int cond, const char *what)
{
    if (cond) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL %s\n", what);
}

/* The closing "N passed, N failed" line that make unit reads; the exit
 * status to return from main. */
static int unit_done(void)
{
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#endif
