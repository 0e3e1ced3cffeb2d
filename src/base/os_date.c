/* os_date.c: ISO 8601 date digits (os_date.h).
 *
 * Layer base, the ground floor: calls nothing else of the module's.
 */
#include "os_date.h"

int os_date_digits(const char *s, int n, int *out)
{
    int i;

    *out = 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        *out = *out * 10 + (s[i] - '0');
    }
    return 1;
}

static int days_in(int year, int month)
{
    static const int days[] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return month == 2 && leap ? 29 : days[month - 1];
}

int os_date_ymd(const char *s, int *y, int *m, int *d)
{
    /* && stops at the first byte that is not as expected: a NUL within
     * the 10 bytes is never passed. */
    return os_date_digits(s, 4, y) && s[4] == '-'
        && os_date_digits(s + 5, 2, m) && s[7] == '-'
        && os_date_digits(s + 8, 2, d) && *y >= 1 && *m >= 1 && *m <= 12
        && *d >= 1 && *d <= days_in(*y, *m);
}
