/* rp_tz.h — IANA time zones: Unix time <-> local wall-clock time.
 *
 * Backed by ICU's calendar and time zone data, so daylight-saving changes are
 * right for every zone (Europe and the US switch on different dates). An
 * rp_tz is opened once and reused; it is not thread-safe (ICU calendars are
 * mutable), so each thread opens its own. The caller owns the rp_tz and
 * releases it with rp_tz_free(). Errors: RP_ECONFIG for an unknown zone name,
 * RP_EINVAL for a time ICU cannot represent, RP_ENOMEM.
 */
#ifndef RP_TZ_H
#define RP_TZ_H

#include <stdint.h>

#include "rp_error.h"

typedef struct rp_civil {
    int year, month, day;      /* month 1..12 */
    int hour, minute, second;
    int wday;                  /* 0 = Monday .. 6 = Sunday */
    int32_t utc_offset;        /* seconds east of UTC, DST included */
} rp_civil;

typedef struct rp_tz rp_tz;

/* "Europe/Berlin", "America/New_York", "UTC". */
rp_status rp_tz_open(const char *iana, rp_tz **out, rp_error *err);
void rp_tz_free(rp_tz *tz); /* NULL is fine */
const char *rp_tz_name(const rp_tz *tz);

/* Local wall-clock time at Unix time t. */
rp_status rp_tz_civil(rp_tz *tz, int64_t t, rp_civil *out, rp_error *err);

/* Unix time of a local wall-clock time. A time skipped by a spring-forward
 * change is moved forward by the gap (02:30 -> 03:30); a time repeated by a
 * fall-back change is its first (earlier) occurrence. */
rp_status rp_tz_from_civil(rp_tz *tz, int year, int month, int day, int hour, int minute,
                           int64_t *out, rp_error *err);

/* The date as yyyymmdd, e.g. 20261124. */
static inline int32_t rp_civil_ymd(const rp_civil *c)
{
    return (int32_t)(c->year * 10000 + c->month * 100 + c->day);
}

#endif
