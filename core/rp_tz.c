#include "rp_tz.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "rp_buf.h"
#include "rp_message.h"

/* Instants handled: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, widened
 * by two days so that every local time of the years 1..9999 converts (the
 * conversion looks a day either side). Dates are proleptic Gregorian. */
#define RP_TZ_MIN_T (-62135596800LL - 2 * 86400)
#define RP_TZ_MAX_T (253402300799LL + 2 * 86400)

#define RP_TZ_NAME_MAX 64

/* A UTC offset ICU gave, and the instants [lo, hi) it holds for: the
 * stretch between two changes, usually half a year. */
typedef struct offset_span {
    int64_t lo, hi;
    int32_t offset;
} offset_span;

struct rp_tz {
    char *name;
    UCalendar *cal;
    /* the two spans used last, [0] the most recent; empty when lo == hi */
    offset_span span[2];
};


static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

static bool zone_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > RP_TZ_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '+'))
            return false;
    }
    return true;
}

rp_status rp_tz_open(const char *iana, rp_tz **out, rp_error *err)
{
    *out = NULL;
    if (!iana || !zone_name_ok(iana))
        return rp_error_set(err, RP_ECONFIG, "unknown time zone '%.64s'", iana ? iana : "(null)");
    UChar id[RP_TZ_NAME_MAX + 1];
    u_uastrcpy(id, iana);
    /* ICU quietly falls back to "Etc/Unknown" (GMT) for names it does not
     * know, so the name is checked against its zone list first. */
    UChar canon[128];
    UBool is_system = 0;
    UErrorCode uerr = U_ZERO_ERROR;
    ucal_getCanonicalTimeZoneID(id, -1, canon, (int32_t)(sizeof canon / sizeof canon[0]),
                                &is_system, &uerr);
    if (U_FAILURE(uerr) || !is_system)
        return rp_error_set(err, RP_ECONFIG, "unknown time zone '%s'", iana);
    rp_tz *tz = calloc(1, sizeof *tz);
    if (!tz)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    tz->name = rp_strdup(iana);
    if (!tz->name) {
        free(tz);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    uerr = U_ZERO_ERROR;
    tz->cal = ucal_open(id, -1, "en_US_POSIX", UCAL_GREGORIAN, &uerr);
    if (U_FAILURE(uerr) || !tz->cal) {
        rp_tz_free(tz);
        return rp_error_set(err, uerr == U_MEMORY_ALLOCATION_ERROR ? RP_ENOMEM : RP_ECONFIG,
                            "time zone '%s': %s", iana, u_errorName(uerr));
    }
    /* belt and braces: the calendar must really carry the zone asked for */
    UChar got[128];
    uerr = U_ZERO_ERROR;
    int32_t n = ucal_getTimeZoneID(tz->cal, got, (int32_t)(sizeof got / sizeof got[0]), &uerr);
    static const UChar unknown[] = {'E', 't', 'c', '/', 'U', 'n', 'k', 'n', 'o', 'w', 'n', 0};
    if (U_FAILURE(uerr) || n <= 0 || u_strcmp(got, unknown) == 0) {
        rp_tz_free(tz);
        return rp_error_set(err, RP_ECONFIG, "unknown time zone '%s'", iana);
    }
    *out = tz;
    return RP_OK;
}

void rp_tz_free(rp_tz *tz)
{
    if (!tz)
        return;
    if (tz->cal)
        ucal_close(tz->cal);
    free(tz->name);
    free(tz);
}

const char *rp_tz_name(const rp_tz *tz)
{
    return tz->name;
}

/* UTC offset (seconds) at instant t. Only when t lies outside both kept
 * spans is ICU asked, for the offset and the changes either side of t, so
 * rp_tz_civil is plain arithmetic nearly always. */
static rp_status offset_at(rp_tz *tz, int64_t t, int32_t *off, rp_error *err)
{
    if (t >= tz->span[0].lo && t < tz->span[0].hi) {
        *off = tz->span[0].offset;
        return RP_OK;
    }
    if (t >= tz->span[1].lo && t < tz->span[1].hi) {
        offset_span sp = tz->span[1];
        tz->span[1] = tz->span[0];
        tz->span[0] = sp;
        *off = sp.offset;
        return RP_OK;
    }
    if (t < RP_TZ_MIN_T || t > RP_TZ_MAX_T)
        return rp_error_set(err, RP_EINVAL, "time %lld is out of range", (long long)t);
    UErrorCode uerr = U_ZERO_ERROR;
    ucal_setMillis(tz->cal, (UDate)t * 1000.0, &uerr);
    int32_t zone = ucal_get(tz->cal, UCAL_ZONE_OFFSET, &uerr);
    int32_t dst = ucal_get(tz->cal, UCAL_DST_OFFSET, &uerr);
    if (U_FAILURE(uerr))
        return rp_error_set(err, RP_EINVAL, "time %lld: %s", (long long)t, u_errorName(uerr));
    offset_span sp = {INT64_MIN, INT64_MAX, (zone + dst) / 1000};
    /* [previous change, next change): the offset is the same throughout */
    UDate d = 0;
    uerr = U_ZERO_ERROR;
    if (ucal_getTimeZoneTransitionDate(tz->cal, UCAL_TZ_TRANSITION_PREVIOUS_INCLUSIVE, &d, &uerr) &&
        U_SUCCESS(uerr)) {
        int64_t s = (int64_t)(d / 1000.0);
        if ((double)s * 1000.0 < d)
            s++; /* first whole second at or after the change */
        sp.lo = s <= t ? s : t;
    } else if (U_FAILURE(uerr)) {
        sp.lo = t;
    } /* else: no change ever before t */
    uerr = U_ZERO_ERROR;
    if (ucal_getTimeZoneTransitionDate(tz->cal, UCAL_TZ_TRANSITION_NEXT, &d, &uerr) &&
        U_SUCCESS(uerr)) {
        int64_t s = (int64_t)(d / 1000.0);
        if ((double)s * 1000.0 < d)
            s++;
        sp.hi = s > t ? s : t + 1;
    } else if (U_FAILURE(uerr)) {
        sp.hi = t + 1;
    }
    tz->span[1] = tz->span[0];
    tz->span[0] = sp;
    *off = sp.offset;
    return RP_OK;
}

rp_status rp_tz_civil(rp_tz *tz, int64_t t, rp_civil *out, rp_error *err)
{
    int32_t off = 0;
    rp_status st = offset_at(tz, t, &off, err);
    if (st != RP_OK)
        return st;
    int64_t local = t + off;
    int64_t days = floor_div(local, 86400);
    int64_t sod = local - days * 86400;
    rp_civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(sod / 3600);
    out->minute = (int)(sod / 60 % 60);
    out->second = (int)(sod % 60);
    out->wday = (int)((days % 7 + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
    out->utc_offset = off;
    return RP_OK;
}

rp_status rp_tz_from_civil(rp_tz *tz, int year, int month, int day, int hour, int minute,
                           int64_t *out, rp_error *err)
{
    if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, month) || hour < 0 || hour > 23 || minute < 0 || minute > 59)
        return rp_error_set(err, RP_EINVAL, "invalid local time %04d-%02d-%02d %02d:%02d", year,
                            month, day, hour, minute);
    int64_t local = rp_days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60;
    /* The offsets in force a day either side; a change inside that window
     * makes the local time ambiguous (both fit) or skipped (neither fits). */
    int32_t before, after, o;
    rp_status st = offset_at(tz, local - 86400, &before, err);
    if (st == RP_OK)
        st = offset_at(tz, local + 86400, &after, err);
    if (st != RP_OK)
        return st;
    int64_t best = INT64_MAX;
    const int32_t cand[2] = {before, after};
    for (int i = 0; i < 2; i++) {
        int64_t t = local - cand[i];
        st = offset_at(tz, t, &o, err);
        if (st != RP_OK)
            return st;
        if (o == cand[i] && t < best)
            best = t;
    }
    if (best == INT64_MAX) {
        /* skipped by a spring-forward change: read with the offset before it,
         * which lands the same distance past the change */
        best = local - before;
    }
    *out = best;
    return RP_OK;
}
