/* os_date.h: the fixed-width digits of ISO 8601 dates and times, for the
 * places that read them (OrderStreamParam date and timestamptz values,
 * XLSX date and time cells). Needs only APR.
 *
 * Layer base, the ground floor: calls nothing else of the module's.
 */
#ifndef OS_DATE_H
#define OS_DATE_H

#include <apr.h>

/* Exactly n decimal digits at s (no sign, no space), their value in *out;
 * 0 when one is not a digit (*out is then unspecified). */
int os_date_digits(const char *s, int n, int *out);

/* "YYYY-MM-DD" at s (10 bytes readable, or a NUL before): a day the
 * proleptic Gregorian calendar has, year 1 to 9999, in *y, *m, *d; 0
 * when it is not one. What follows the 10 bytes is the caller's. */
int os_date_ymd(const char *s, int *y, int *m, int *d);

#endif /* OS_DATE_H */
