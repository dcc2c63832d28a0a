#include "rp_schedule.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>
#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "rp_buf.h"
#include "rp_message.h"
#include "rp_text.h"

#define SCHED_MAX_INTERVALS 16  /* per weekday */
#define SCHED_SEARCH_DAYS 400   /* how far rp_schedule_state looks for the next opening */
#define SCHED_MAX_HOLIDAYS 100000
#define SCHED_HOLIDAY_NAME_MAX 200
#define ICS_RRULE_YEARS 10
#define ICS_MAX_OCCURRENCES 4000 /* per RRULE, whatever its frequency */

typedef struct interval {
    int start, end; /* minutes after midnight; end > start, up to 2880 when it ends next day */
} interval;

typedef struct holiday {
    char *name;
    int64_t first, last; /* day numbers (days since 1970-01-01), inclusive */
} holiday;

typedef struct span {
    int64_t first, last;
} span;

struct rp_schedule {
    rp_tz *tz;
    interval hours[7][SCHED_MAX_INTERVALS];
    int nhours[7];
    holiday *hol;
    size_t nhol, caphol;
    span *spans; /* holidays merged (overlapping or adjacent), sorted; rebuilt lazily */
    size_t nspans;
    bool spans_dirty;
};

/* ---- calendar arithmetic ------------------------------------------------ */


static int weekday_of(int64_t dn) /* 0 = Monday */
{
    return (int)(((dn % 7) + 7 + 3) % 7);
}

static bool valid_date(int y, int m, int d)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
        return false;
    int n = dm[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        n = 29;
    return d <= n;
}

/* Holidays must leave room for the midnight after their last day. */
#define SCHED_MIN_DAY (-719162)  /* 0001-01-01 */
#define SCHED_MAX_DAY 2932530    /* 9998-12-31 */

static bool ymd_to_day(int32_t ymd, int64_t *dn)
{
    int y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
    if (ymd <= 0 || !valid_date(y, m, d))
        return false;
    *dn = rp_days_from_civil(y, m, d);
    return *dn >= SCHED_MIN_DAY && *dn <= SCHED_MAX_DAY;
}

/* ---- construction ------------------------------------------------------- */

rp_schedule *rp_schedule_new(rp_tz *team_tz)
{
    if (!team_tz)
        return NULL;
    rp_schedule *s = calloc(1, sizeof *s);
    if (!s) {
        rp_tz_free(team_tz);
        return NULL;
    }
    s->tz = team_tz;
    return s;
}

void rp_schedule_free(rp_schedule *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nhol; i++)
        free(s->hol[i].name);
    free(s->hol);
    free(s->spans);
    rp_tz_free(s->tz);
    free(s);
}

rp_tz *rp_schedule_tz(rp_schedule *s)
{
    return s->tz;
}

static const char *const day_names[7] = {"monday", "tuesday", "wednesday", "thursday",
                                         "friday", "saturday", "sunday"};

int rp_weekday_parse(const char *s)
{
    if (!s)
        return -1;
    size_t n = strlen(s);
    for (int i = 0; i < 7; i++) {
        if ((n == 3 || n == strlen(day_names[i])) && strncasecmp(s, day_names[i], n) == 0)
            return i;
    }
    return -1;
}

rp_status rp_date_parse(const char *s, int32_t *yyyymmdd, rp_error *err)
{
    int v[3] = {0, 0, 0};
    static const int width[3] = {4, 2, 2};
    const char *p = s;
    if (!s)
        return rp_error_set(err, RP_EINVAL, "missing date");
    for (int f = 0; f < 3; f++) {
        for (int i = 0; i < width[f]; i++, p++) {
            if (*p < '0' || *p > '9')
                return rp_error_set(err, RP_EINVAL, "'%.40s' is not a date (YYYY-MM-DD)", s);
            v[f] = v[f] * 10 + (*p - '0');
        }
        if (f < 2 && *p++ != '-')
            return rp_error_set(err, RP_EINVAL, "'%.40s' is not a date (YYYY-MM-DD)", s);
    }
    if (*p != '\0')
        return rp_error_set(err, RP_EINVAL, "'%.40s' is not a date (YYYY-MM-DD)", s);
    if (!valid_date(v[0], v[1], v[2]))
        return rp_error_set(err, RP_EINVAL, "'%.40s' is not a valid calendar date", s);
    *yyyymmdd = v[0] * 10000 + v[1] * 100 + v[2];
    return RP_OK;
}

/* "HH:MM" (or "H:MM") at *p, skipping blanks before; minutes after midnight */
static bool parse_hhmm(const char **pp, int *minutes)
{
    const char *p = *pp;
    while (*p == ' ' || *p == '\t')
        p++;
    int h = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 3) {
        h = h * 10 + (*p++ - '0');
        digits++;
    }
    if (digits < 1 || digits > 2 || *p++ != ':')
        return false;
    if (p[0] < '0' || p[0] > '5' || p[1] < '0' || p[1] > '9')
        return false;
    int m = (p[0] - '0') * 10 + (p[1] - '0');
    p += 2;
    if (h > 24 || (h == 24 && m != 0))
        return false;
    *minutes = h * 60 + m;
    while (*p == ' ' || *p == '\t')
        p++;
    *pp = p;
    return true;
}

rp_status rp_schedule_set_day(rp_schedule *s, int wday, const char *spec, rp_error *err)
{
    if (wday < 0 || wday > 6)
        return rp_error_set(err, RP_EINVAL, "weekday %d out of range", wday);
    const char *day = day_names[wday];
    interval iv[SCHED_MAX_INTERVALS];
    int n = 0;
    const char *p = spec ? spec : "";
    while (*p == ' ' || *p == '\t')
        p++;
    size_t rest = strlen(p);
    while (rest > 0 && (p[rest - 1] == ' ' || p[rest - 1] == '\t'))
        rest--;
    if (rest == 0 || (rest == 6 && strncasecmp(p, "closed", 6) == 0)) {
        s->nhours[wday] = 0;
        return RP_OK;
    }
    for (;;) {
        const char *part = p;
        size_t plen = strcspn(part, ",");
        int a, b;
        const char *q = part;
        bool ok = parse_hhmm(&q, &a) && *q++ == '-' && parse_hhmm(&q, &b) &&
                  (*q == ',' || *q == '\0');
        while (plen > 0 && (part[plen - 1] == ' ' || part[plen - 1] == '\t'))
            plen--;
        while (plen > 0 && (*part == ' ' || *part == '\t')) {
            part++;
            plen--;
        }
        if (!ok)
            return rp_error_set(err, RP_EINVAL,
                                "%s: '%.*s' is not a time range like 09:00-17:30", day,
                                (int)(plen > 40 ? 40 : plen), part);
        if (a == 1440)
            return rp_error_set(err, RP_EINVAL, "%s: '%.*s': 24:00 can only end a range", day,
                                (int)(plen > 40 ? 40 : plen), part);
        if (a == b)
            return rp_error_set(err, RP_EINVAL, "%s: '%.*s' is an empty range", day,
                                (int)(plen > 40 ? 40 : plen), part);
        if (n == SCHED_MAX_INTERVALS)
            return rp_error_set(err, RP_EINVAL, "%s: more than %d time ranges", day,
                                SCHED_MAX_INTERVALS);
        iv[n].start = a;
        iv[n].end = b > a ? b : b + 1440; /* "22:00-06:00" ends the next morning */
        n++;
        if (*q == '\0')
            break;
        p = q + 1;
    }
    memcpy(s->hours[wday], iv, (size_t)n * sizeof iv[0]);
    s->nhours[wday] = n;
    return RP_OK;
}

/* ---- holidays ------------------------------------------------------------ */

/* name copied into a plain one-line label: control characters become spaces,
 * at most SCHED_HOLIDAY_NAME_MAX bytes (cut at a character boundary) */
static char *holiday_label(const char *name)
{
    if (!name)
        name = "";
    while (*name == ' ' || *name == '\t' || *name == '\r' || *name == '\n')
        name++;
    size_t n = strlen(name);
    if (n > SCHED_HOLIDAY_NAME_MAX) {
        n = SCHED_HOLIDAY_NAME_MAX;
        while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
            n--;
    }
    while (n > 0 && (unsigned char)name[n - 1] <= ' ')
        n--;
    if (n == 0)
        return rp_strdup("holiday");
    char *c = rp_strndup(name, n);
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)c[i] < 0x20 || c[i] == 0x7F)
            c[i] = ' ';
    return c;
}

static rp_status push_holiday(rp_schedule *s, const char *name, int64_t first, int64_t last,
                              rp_error *err)
{
    if (s->nhol >= SCHED_MAX_HOLIDAYS)
        return rp_error_set(err, RP_ELIMIT, "more than %d holidays", SCHED_MAX_HOLIDAYS);
    if (s->nhol == s->caphol) {
        size_t cap = s->caphol ? s->caphol * 2 : 16;
        holiday *h = realloc(s->hol, cap * sizeof *h);
        if (!h)
            return rp_error_set(err, RP_ENOMEM, "out of memory");
        s->hol = h;
        s->caphol = cap;
    }
    char *label = holiday_label(name);
    if (!label)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    s->hol[s->nhol].name = label;
    s->hol[s->nhol].first = first;
    s->hol[s->nhol].last = last;
    s->nhol++;
    s->spans_dirty = true;
    return RP_OK;
}

rp_status rp_schedule_add_holiday(rp_schedule *s, const char *name, int32_t first, int32_t last,
                                  rp_error *err)
{
    int64_t a, b;
    if (!ymd_to_day(first, &a))
        return rp_error_set(err, RP_EINVAL, "holiday '%.60s': %d is not a valid date",
                            name ? name : "", (int)first);
    if (!ymd_to_day(last, &b))
        return rp_error_set(err, RP_EINVAL, "holiday '%.60s': %d is not a valid date",
                            name ? name : "", (int)last);
    if (b < a)
        return rp_error_set(err, RP_EINVAL, "holiday '%.60s' ends (%d) before it starts (%d)",
                            name ? name : "", (int)last, (int)first);
    return push_holiday(s, name, a, b, err);
}

static int span_cmp(const void *x, const void *y)
{
    const span *a = x, *b = y;
    return a->first < b->first ? -1 : a->first > b->first;
}

static rp_status build_spans(rp_schedule *s, rp_error *err)
{
    if (!s->spans_dirty)
        return RP_OK;
    span *sp = NULL;
    size_t n = 0;
    if (s->nhol > 0) {
        sp = malloc(s->nhol * sizeof *sp);
        if (!sp)
            return rp_error_set(err, RP_ENOMEM, "out of memory");
        for (size_t i = 0; i < s->nhol; i++) {
            sp[i].first = s->hol[i].first;
            sp[i].last = s->hol[i].last;
        }
        qsort(sp, s->nhol, sizeof *sp, span_cmp);
        for (size_t i = 0; i < s->nhol; i++) {
            if (n > 0 && sp[i].first <= sp[n - 1].last + 1) {
                if (sp[i].last > sp[n - 1].last)
                    sp[n - 1].last = sp[i].last;
            } else {
                sp[n++] = sp[i];
            }
        }
    }
    free(s->spans);
    s->spans = sp;
    s->nspans = n;
    s->spans_dirty = false;
    return RP_OK;
}

/* the merged holiday span containing day dn, or NULL */
static const span *span_at(const rp_schedule *s, int64_t dn)
{
    size_t lo = 0, hi = s->nspans;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->spans[mid].last < dn)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->nspans && s->spans[lo].first <= dn)
        return &s->spans[lo];
    return NULL;
}

/* ---- state ---------------------------------------------------------------- */

/* The local times of day d that are in hours, as [a, b) seconds after
 * midnight: the day's own ranges and the morning part of the day before's
 * ranges that run past midnight. */
static int day_segments(const rp_schedule *s, int64_t dn, int seg[][2])
{
    int w = weekday_of(dn), p = (w + 6) % 7, n = 0;
    for (int i = 0; i < s->nhours[w]; i++) {
        const interval *iv = &s->hours[w][i];
        seg[n][0] = iv->start * 60;
        seg[n][1] = (iv->end > 1440 ? 1440 : iv->end) * 60;
        n++;
    }
    for (int i = 0; i < s->nhours[p]; i++) {
        const interval *iv = &s->hours[p][i];
        if (iv->end > 1440) {
            seg[n][0] = 0;
            seg[n][1] = (iv->end - 1440) * 60;
            n++;
        }
    }
    return n;
}

typedef struct local {
    int64_t dn; /* local date as a day number */
    int sod;    /* seconds after local midnight */
} local;

static rp_status local_at(rp_tz *tz, int64_t t, local *l, int32_t *off, rp_error *err)
{
    rp_civil c;
    rp_status st = rp_tz_civil(tz, t, &c, err);
    if (st != RP_OK)
        return st;
    l->dn = rp_days_from_civil(c.year, c.month, c.day);
    l->sod = c.hour * 3600 + c.minute * 60 + c.second;
    if (off)
        *off = c.utc_offset;
    return RP_OK;
}

static rp_status day_start(rp_tz *tz, int64_t dn, int64_t *t, rp_error *err)
{
    int y, m, d;
    rp_civil_from_days(dn, &y, &m, &d);
    return rp_tz_from_civil(tz, y, m, d, 0, 0, t, err);
}

typedef struct cand {
    int64_t best; /* INT64_MAX while none */
    int64_t lower;
} cand;

static rp_status consider(rp_tz *tz, cand *c, int64_t t, int64_t dn, int a, int b, rp_error *err)
{
    if (t < c->lower || t >= c->best)
        return RP_OK;
    local l;
    rp_status st = local_at(tz, t, &l, NULL, err);
    if (st != RP_OK)
        return st;
    if (l.dn == dn && l.sod >= a && l.sod < b)
        c->best = t;
    return RP_OK;
}

/* The first instant >= c->lower whose local date is dn and whose local time
 * is in [a, b), kept in c->best when earlier than what it holds. The clock
 * enters [a, b) either by reaching a (once, or twice when a fall-back change
 * repeats it) or by jumping into it at a change of UTC offset. */
static rp_status first_entry(rp_tz *tz, cand *c, int64_t dn, int a, int b, int64_t tr,
                             rp_error *err)
{
    int64_t L = dn * 86400 + a;
    int32_t offs[2];
    rp_civil cv;
    rp_status st = rp_tz_civil(tz, L - 86400, &cv, err);
    if (st != RP_OK)
        return st;
    offs[0] = cv.utc_offset;
    if ((st = rp_tz_civil(tz, L + 86400, &cv, err)) != RP_OK)
        return st;
    offs[1] = cv.utc_offset;
    for (int i = 0; i < 2; i++) {
        if (i == 1 && offs[1] == offs[0])
            break;
        if ((st = consider(tz, c, L - offs[i], dn, a, b, err)) != RP_OK)
            return st;
    }
    if (tr != INT64_MIN)
        st = consider(tz, c, tr, dn, a, b, err);
    return st;
}

/* The instant the UTC offset changes near local day dn, or INT64_MIN when it
 * does not (a day has at most one change in practice). */
static rp_status change_near(rp_tz *tz, int64_t dn, int64_t *tr, rp_error *err)
{
    int64_t lo = dn * 86400 - 15 * 3600, hi = dn * 86400 + 86400 + 15 * 3600;
    rp_civil c;
    rp_status st = rp_tz_civil(tz, lo, &c, err);
    if (st != RP_OK)
        return st;
    int32_t olo = c.utc_offset;
    if ((st = rp_tz_civil(tz, hi, &c, err)) != RP_OK)
        return st;
    *tr = INT64_MIN;
    if (c.utc_offset == olo)
        return RP_OK;
    /* offset(lo) == olo, offset(hi) != olo: find the first t with a different one */
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if ((st = rp_tz_civil(tz, mid, &c, err)) != RP_OK)
            return st;
        if (c.utc_offset == olo)
            lo = mid;
        else
            hi = mid;
    }
    *tr = hi;
    return RP_OK;
}

static const char *holiday_name_at(const rp_schedule *s, int64_t dn)
{
    for (size_t i = 0; i < s->nhol; i++)
        if (s->hol[i].first <= dn && dn <= s->hol[i].last)
            return s->hol[i].name;
    return "holiday";
}

rp_status rp_schedule_state(rp_schedule *s, int64_t now, rp_sched_state *out, rp_error *err)
{
    out->open = false;
    out->in_hours = false;
    out->holiday = NULL;
    out->holiday_end = RP_TIME_UNKNOWN;
    out->next_open = RP_TIME_UNKNOWN;
    rp_status st = build_spans(s, err);
    if (st != RP_OK)
        return st;
    local l;
    if ((st = local_at(s->tz, now, &l, NULL, err)) != RP_OK)
        return st;
    int seg[2 * SCHED_MAX_INTERVALS][2];
    int n = day_segments(s, l.dn, seg);
    for (int i = 0; i < n; i++)
        if (l.sod >= seg[i][0] && l.sod < seg[i][1])
            out->in_hours = true;
    const span *sp = span_at(s, l.dn);
    if (sp) {
        out->holiday = holiday_name_at(s, l.dn);
        if ((st = day_start(s->tz, sp->last + 1, &out->holiday_end, err)) != RP_OK)
            return st;
    }
    out->open = out->in_hours && !sp;
    if (out->open) {
        out->next_open = now;
        return RP_OK;
    }
    bool any = false;
    for (int w = 0; w < 7; w++)
        any = any || s->nhours[w] > 0;
    if (!any)
        return RP_OK;
    cand c = {INT64_MAX, now};
    /* days in order; one more after the first hit, in case a change of UTC
     * offset at midnight puts part of the next date before it */
    int64_t found_day = INT64_MIN;
    for (int64_t dn = l.dn; dn <= l.dn + SCHED_SEARCH_DAYS && dn <= SCHED_MAX_DAY; dn++) {
        if (found_day != INT64_MIN && dn > found_day + 1)
            break;
        if ((sp = span_at(s, dn)) != NULL) {
            dn = sp->last; /* the loop steps past the span */
            continue;
        }
        n = day_segments(s, dn, seg);
        if (n == 0)
            continue;
        int64_t tr;
        if ((st = change_near(s->tz, dn, &tr, err)) != RP_OK)
            return st;
        int64_t before = c.best;
        for (int i = 0; i < n; i++)
            if ((st = first_entry(s->tz, &c, dn, seg[i][0], seg[i][1], tr, err)) != RP_OK)
                return st;
        if (c.best != before && found_day == INT64_MIN)
            found_day = dn;
    }
    if (c.best != INT64_MAX)
        out->next_open = c.best;
    return RP_OK;
}

/* ---- iCalendar import ------------------------------------------------------- */

typedef struct ics_ctx {
    rp_schedule *s;
    const char *name;
    icalcomponent *cal; /* the VCALENDAR being read, for its VTIMEZONEs */
    int *lines;         /* line of each BEGIN:VEVENT, in order */
    size_t nlines;
    size_t event;       /* index of the event being read */
    rp_tz *zone;        /* the last TZID opened, kept for the next time it is named */
    char *zone_name;
    rp_error *err;
} ics_ctx;

static int ev_line(const ics_ctx *x)
{
    return x->event < x->nlines ? x->lines[x->event] : 0;
}

static rp_status ics_err(ics_ctx *x, const char *what, const char *detail)
{
    int line = ev_line(x);
    if (line > 0)
        return rp_error_set(x->err, RP_EPARSE, "%s:%d: %s%s%.120s", x->name, line, what,
                            detail ? ": " : "", detail ? detail : "");
    return rp_error_set(x->err, RP_EPARSE, "%s: %s%s%.120s", x->name, what, detail ? ": " : "",
                        detail ? detail : "");
}

/* Does the content line at p (n bytes) start with the given tag ("BEGIN",
 * "END") as its property name, as libical reads one? */
static bool line_is(const char *p, size_t n, const char *tag)
{
    size_t k = strlen(tag);
    if (n < k || strncasecmp(p, tag, k) != 0)
        return false;
    while (k < n && isspace((unsigned char)p[k]))
        k++;
    return k < n && (p[k] == ':' || p[k] == ';');
}

#define ICS_MAX_LINE 8000 /* libical stops reading at the first longer line */

/* A pass over the text before libical sees it: the line of every
 * BEGIN:VEVENT (libical keeps events in that order, so errors can name
 * lines), and the faults libical would only print to stderr or skip
 * quietly: an END with no BEGIN, an overlong line. */
static rp_status scan_lines(ics_ctx *x, const char *data, size_t len)
{
    char *p = malloc(ICS_MAX_LINE); /* the logical line, unfolded */
    if (!p)
        return rp_error_set(x->err, RP_ENOMEM, "out of memory");
    rp_status st = RP_OK;
    size_t cap = 0;
    long depth = 0;
    int line = 0;
    for (size_t i = 0; i < len && st == RP_OK;) {
        int first_line = line < 2000000000 ? line + 1 : line;
        /* physical lines are joined where the next one starts with a blank
         * (and the one before is not empty), as libical does */
        size_t n = 0, logical = 0, start = i, end;
        for (bool first = true;; first = false) {
            const char *nl = memchr(data + start, '\n', len - start);
            size_t e = nl ? (size_t)(nl - data) : len;
            if (line < 2000000000)
                line++;
            for (size_t k = first ? start : start + 1; k < e && n < ICS_MAX_LINE; k++)
                if (!(data[k] == '\r' && k + 1 == e))
                    p[n++] = data[k];
            logical += e - start;
            if (e >= len) {
                end = len;
                break;
            }
            if (e + 1 < len && (data[e + 1] == ' ' || data[e + 1] == '\t') && logical > 0) {
                start = e + 1;
                continue;
            }
            end = e;
            break;
        }
        i = end < len ? end + 1 : len;
        if (logical >= ICS_MAX_LINE) {
            st = rp_error_set(x->err, RP_EPARSE, "%s:%d: line longer than %d bytes", x->name,
                              first_line, ICS_MAX_LINE);
        } else if (line_is(p, n, "BEGIN")) {
            depth++;
            const char *v = memchr(p, ':', n);
            if (v && (size_t)(p + n - v) >= 7 && strncasecmp(v + 1, "VEVENT", 6) == 0) {
                if (x->nlines == cap) {
                    size_t nc = cap ? cap * 2 : 16;
                    int *l = realloc(x->lines, nc * sizeof *l);
                    if (!l) {
                        st = rp_error_set(x->err, RP_ENOMEM, "out of memory");
                        break;
                    }
                    x->lines = l;
                    cap = nc;
                }
                x->lines[x->nlines++] = first_line;
            }
        } else if (line_is(p, n, "END") && --depth < 0) {
            st = rp_error_set(x->err, RP_EPARSE, "%s:%d: END without BEGIN", x->name, first_line);
        }
    }
    free(p);
    return st;
}

static bool time_ok(struct icaltimetype t)
{
    return !icaltime_is_null_time(t) && valid_date(t.year, t.month, t.day) &&
           (t.is_date || (t.hour >= 0 && t.hour < 24 && t.minute >= 0 && t.minute < 60 &&
                          t.second >= 0 && t.second <= 60));
}

static const char *prop_tzid(icalproperty *p)
{
    icalparameter *par = p ? icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER) : NULL;
    return par ? icalparameter_get_tzid(par) : NULL;
}

/* An rp_tz for a TZID that names a zone ICU knows: an IANA name, an IANA
 * name behind a vendor prefix ("/mozilla.org/20050126_1/Europe/Berlin"), or
 * a Windows name ("W. Europe Standard Time"). NULL when none of these. */
static rp_tz *open_tzid(const char *tzid)
{
    rp_tz *tz = NULL;
    rp_error e;
    if (strlen(tzid) > 200)
        return NULL;
    for (const char *p = tzid; p; p = strchr(p, '/')) {
        if (*p == '/')
            p++;
        if (*p && rp_tz_open(p, &tz, &e) == RP_OK)
            return tz;
    }
    UChar win[201], id[128];
    for (size_t i = 0;; i++) {
        if ((unsigned char)tzid[i] >= 0x80)
            return NULL; /* Windows names are plain ASCII */
        win[i] = (UChar)(unsigned char)tzid[i];
        if (!tzid[i])
            break;
    }
    UErrorCode uerr = U_ZERO_ERROR;
    int32_t n = ucal_getTimeZoneIDForWindowsID(win, -1, NULL, id,
                                               (int32_t)(sizeof id / sizeof id[0]), &uerr);
    if (U_FAILURE(uerr) || n <= 0 || n >= (int32_t)(sizeof id / sizeof id[0]))
        return NULL;
    char name[128];
    u_UCharsToChars(id, name, n);
    name[n] = '\0';
    if (rp_tz_open(name, &tz, &e) != RP_OK)
        return NULL;
    return tz;
}

/* The instant of a date-time of the event: UTC, in its TZID (a zone ICU
 * knows, see open_tzid, else a VTIMEZONE of the file), or floating in the
 * team's zone. A date is the team's midnight. */
static rp_status ics_instant(ics_ctx *x, struct icaltimetype t, const char *tzid, int64_t *out)
{
    rp_error e;
    if (t.is_date)
        return day_start(x->s->tz, rp_days_from_civil(t.year, t.month, t.day), out, x->err) == RP_OK
                   ? RP_OK
                   : ics_err(x, "date out of range", NULL);
    if (icaltime_is_utc(t)) {
        *out = rp_days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 +
               (t.second > 59 ? 59 : t.second);
        return RP_OK;
    }
    rp_tz *tz = x->s->tz;
    if (tzid && *tzid) {
        if (!x->zone_name || strcmp(x->zone_name, tzid) != 0) {
            rp_tz *z = open_tzid(tzid);
            if (!z) {
                icaltimezone *iz = x->cal ? icalcomponent_get_timezone(x->cal, tzid) : NULL;
                if (!iz)
                    return ics_err(x, "unknown TZID", tzid);
                t.zone = iz;
                *out = (int64_t)icaltime_as_timet_with_zone(t, iz);
                return RP_OK;
            }
            char *zn = rp_strdup(tzid);
            if (!zn) {
                rp_tz_free(z);
                return rp_error_set(x->err, RP_ENOMEM, "out of memory");
            }
            rp_tz_free(x->zone);
            free(x->zone_name);
            x->zone = z;
            x->zone_name = zn;
        }
        tz = x->zone;
    }
    if (rp_tz_from_civil(tz, t.year, t.month, t.day, t.hour, t.minute, out, &e) != RP_OK)
        return ics_err(x, "time out of range", NULL);
    *out += t.second > 59 ? 59 : t.second;
    return RP_OK;
}

static rp_status team_day(ics_ctx *x, int64_t t, int64_t *dn)
{
    local l;
    rp_error e;
    if (local_at(x->s->tz, t, &l, NULL, &e) != RP_OK)
        return ics_err(x, "time out of range", NULL);
    *dn = l.dn;
    return RP_OK;
}

typedef struct ev_shape {
    bool all_day;
    int64_t days;   /* all-day: number of days (>= 1) */
    int64_t length; /* timed: seconds from start to end (>= 0) */
    const char *tzid;
} ev_shape;

/* one occurrence starting at t becomes a holiday */
static rp_status add_occurrence(ics_ctx *x, const char *label, const ev_shape *sh,
                                struct icaltimetype t)
{
    if (!time_ok(t))
        return ics_err(x, "invalid date", NULL);
    int64_t first = 0, last = 0;
    if (sh->all_day) {
        first = rp_days_from_civil(t.year, t.month, t.day);
        last = first + sh->days - 1;
    } else {
        int64_t a;
        rp_status st = ics_instant(x, t, sh->tzid, &a);
        if (st == RP_OK)
            st = team_day(x, a, &first);
        if (st == RP_OK)
            st = team_day(x, sh->length > 0 ? a + sh->length - 1 : a, &last);
        if (st != RP_OK)
            return st;
    }
    if (first < SCHED_MIN_DAY || last > SCHED_MAX_DAY || last < first)
        return ics_err(x, "date out of range", NULL);
    rp_error e;
    rp_status st = push_holiday(x->s, label, first, last, &e);
    if (st != RP_OK)
        return rp_error_set(x->err, st, "%s: %s", x->name, e.msg);
    return RP_OK;
}

/* The recurrence properties of one event. libical keeps a single property
 * cursor per component, so they are taken out in one pass before anything
 * else walks the event. */
#define ICS_MAX_RECUR_PROPS 64

typedef struct recur_props {
    icalproperty *rrule[ICS_MAX_RECUR_PROPS], *rdate[ICS_MAX_RECUR_PROPS];
    struct icaltimetype exdate[ICS_MAX_RECUR_PROPS];
    size_t nrrule, nrdate, nexdate;
} recur_props;

static bool collect_recur(icalcomponent *ev, recur_props *r)
{
    r->nrrule = r->nrdate = r->nexdate = 0;
    for (icalproperty *p = icalcomponent_get_first_property(ev, ICAL_ANY_PROPERTY); p;
         p = icalcomponent_get_next_property(ev, ICAL_ANY_PROPERTY)) {
        switch (icalproperty_isa(p)) {
        case ICAL_RRULE_PROPERTY:
            if (r->nrrule == ICS_MAX_RECUR_PROPS)
                return false;
            r->rrule[r->nrrule++] = p;
            break;
        case ICAL_RDATE_PROPERTY:
            if (r->nrdate == ICS_MAX_RECUR_PROPS)
                return false;
            r->rdate[r->nrdate++] = p;
            break;
        case ICAL_EXDATE_PROPERTY:
            if (r->nexdate == ICS_MAX_RECUR_PROPS)
                return false;
            r->exdate[r->nexdate++] = icalproperty_get_exdate(p);
            break;
        default:
            break;
        }
    }
    return true;
}

static bool excluded(const recur_props *r, struct icaltimetype t)
{
    for (size_t i = 0; i < r->nexdate; i++)
        if (r->exdate[i].year == t.year && r->exdate[i].month == t.month &&
            r->exdate[i].day == t.day)
            return true;
    return false;
}

static bool same_time(struct icaltimetype a, struct icaltimetype b)
{
    return a.year == b.year && a.month == b.month && a.day == b.day && a.hour == b.hour &&
           a.minute == b.minute && a.second == b.second;
}

/* the text of the first X-LIC-ERROR libical left in c or below, or NULL;
 * events are checked on their own, where their line is known */
static const char *first_parse_error(icalcomponent *c, bool skip_events)
{
    icalproperty *p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY);
    if (p) {
        const char *m = icalproperty_get_xlicerror(p);
        return m ? m : "parse error";
    }
    for (icalcomponent *k = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); k;
         k = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
        if (skip_events && icalcomponent_isa(k) == ICAL_VEVENT_COMPONENT)
            continue;
        const char *m = first_parse_error(k, skip_events);
        if (m)
            return m;
    }
    return NULL;
}

static rp_status ics_event(ics_ctx *x, icalcomponent *ev)
{
    const char *perr = first_parse_error(ev, false);
    if (perr)
        return ics_err(x, perr, NULL);
    if (icalcomponent_get_status(ev) == ICAL_STATUS_CANCELLED)
        return RP_OK;
    icalproperty *ps = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
    if (!ps)
        return ics_err(x, "event without DTSTART", NULL);
    struct icaltimetype start = icalproperty_get_dtstart(ps);
    if (!time_ok(start))
        return ics_err(x, "event with an invalid DTSTART", NULL);
    const char *summary = icalcomponent_get_summary(ev);
    if (summary && !rp_utf8_valid(summary, strlen(summary)))
        return ics_err(x, "SUMMARY is not valid UTF-8", NULL);
    ev_shape sh = {start.is_date != 0, 1, 0, prop_tzid(ps)};

    icalproperty *pe = icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY);
    icalproperty *pd = icalcomponent_get_first_property(ev, ICAL_DURATION_PROPERTY);
    if (pe) {
        struct icaltimetype end = icalproperty_get_dtend(pe);
        if (!time_ok(end))
            return ics_err(x, "event with an invalid DTEND", NULL);
        if (sh.all_day) {
            sh.days = rp_days_from_civil(end.year, end.month, end.day) -
                      rp_days_from_civil(start.year, start.month, start.day);
            if (sh.days < 0)
                return ics_err(x, "event ends before it starts", NULL);
            if (sh.days == 0)
                sh.days = 1;
        } else {
            int64_t a, b;
            rp_status st = ics_instant(x, start, sh.tzid, &a);
            if (st == RP_OK)
                st = ics_instant(x, end, prop_tzid(pe), &b);
            if (st != RP_OK)
                return st;
            if (b < a)
                return ics_err(x, "event ends before it starts", NULL);
            sh.length = b - a;
        }
    } else if (pd) {
        struct icaldurationtype d = icalproperty_get_duration(pd);
        int secs = icaldurationtype_as_int(d);
        if (d.is_neg || secs < 0)
            return ics_err(x, "event with a negative DURATION", NULL);
        if (sh.all_day)
            sh.days = secs / 86400 > 0 ? secs / 86400 : 1;
        else
            sh.length = secs;
    }
    if (sh.days > 366 * 100)
        return ics_err(x, "event longer than 100 years", NULL);

    recur_props *rp = malloc(sizeof *rp);
    if (!rp)
        return rp_error_set(x->err, RP_ENOMEM, "out of memory");
    rp_status st = RP_OK;
    if (!collect_recur(ev, rp))
        st = ics_err(x, "more than 64 RRULE, RDATE or EXDATE lines", NULL);
    if (st == RP_OK && !excluded(rp, start))
        st = add_occurrence(x, summary, &sh, start);
    /* recurrences: up to ICS_RRULE_YEARS after the start */
    int64_t limit = rp_days_from_civil(start.year + ICS_RRULE_YEARS, start.month,
                                    start.month == 2 && start.day == 29 ? 28 : start.day);
    for (size_t i = 0; i < rp->nrrule && st == RP_OK; i++) {
        struct icalrecurrencetype r = icalproperty_get_rrule(rp->rrule[i]);
        if (r.freq == ICAL_NO_RECURRENCE) {
            st = ics_err(x, "invalid RRULE", NULL);
            break;
        }
        icalrecur_iterator *it = icalrecur_iterator_new(r, start);
        if (!it) {
            st = ics_err(x, "invalid RRULE", icalrecurrencetype_as_string(&r));
            break;
        }
        for (int k = 0; k < ICS_MAX_OCCURRENCES && st == RP_OK; k++) {
            struct icaltimetype o = icalrecur_iterator_next(it);
            if (icaltime_is_null_time(o) || !valid_date(o.year, o.month, o.day))
                break;
            if (rp_days_from_civil(o.year, o.month, o.day) >= limit)
                break;
            if (same_time(o, start) || excluded(rp, o))
                continue;
            o.is_date = start.is_date;
            st = add_occurrence(x, summary, &sh, o);
        }
        icalrecur_iterator_free(it);
    }
    for (size_t i = 0; i < rp->nrdate && st == RP_OK; i++) {
        struct icaldatetimeperiodtype r = icalproperty_get_rdate(rp->rdate[i]);
        struct icaltimetype o = icaltime_is_null_time(r.time) ? r.period.start : r.time;
        if (!time_ok(o)) {
            st = ics_err(x, "invalid RDATE", NULL);
            break;
        }
        if (same_time(o, start) || excluded(rp, o))
            continue;
        o.is_date = start.is_date;
        st = add_occurrence(x, summary, &sh, o);
    }
    free(rp);
    return st;
}

static rp_status ics_walk(ics_ctx *x, icalcomponent *c, int depth)
{
    if (depth > 8)
        return ics_err(x, "components nested too deeply", NULL);
    icalcomponent_kind kind = icalcomponent_isa(c);
    if (kind == ICAL_VEVENT_COMPONENT) {
        rp_status st = ics_event(x, c);
        x->event++;
        return st;
    }
    icalcomponent *saved = x->cal;
    if (kind == ICAL_VCALENDAR_COMPONENT)
        x->cal = c;
    rp_status st = RP_OK;
    /* libical's own iteration state is kept per component, so take the
     * children into an array before visiting them */
    size_t n = (size_t)icalcomponent_count_components(c, ICAL_ANY_COMPONENT);
    if (n > 0) {
        icalcomponent **kids = malloc(n * sizeof *kids);
        if (!kids)
            return rp_error_set(x->err, RP_ENOMEM, "out of memory");
        size_t i = 0;
        for (icalcomponent *k = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT);
             k && i < n; k = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
            kids[i++] = k;
        for (size_t j = 0; j < i && st == RP_OK; j++) {
            icalcomponent_kind kk = icalcomponent_isa(kids[j]);
            if (kk == ICAL_VEVENT_COMPONENT || kk == ICAL_VCALENDAR_COMPONENT ||
                kk == ICAL_XROOT_COMPONENT)
                st = ics_walk(x, kids[j], depth + 1);
        }
        free(kids);
    }
    x->cal = saved;
    return st;
}

rp_status rp_schedule_load_ics(rp_schedule *s, const char *data, size_t len, const char *name,
                               rp_error *err)
{
    if (!name)
        name = "calendar";
    if (!data || len == 0)
        return rp_error_set(err, RP_EPARSE, "%s: empty calendar", name);
    if (memchr(data, '\0', len))
        return rp_error_set(err, RP_EPARSE, "%s: contains a NUL byte", name);
    /* libical skips a byte order mark, and after the last LF it splits lines
     * at CR (cutting long ones oddly): do both here, so that libical and
     * scan_lines read the same lines */
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    char *text = rp_strndup(data, len);
    if (!text)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    for (size_t i = len; i > 0 && text[i - 1] != '\n'; i--)
        if (text[i - 1] == '\r')
            text[i - 1] = '\n';
    ics_ctx x = {s, name, NULL, NULL, 0, 0, NULL, NULL, err};
    rp_status st = scan_lines(&x, text, len);
    if (st != RP_OK) {
        free(x.lines);
        free(text);
        return st;
    }
    /* libical reports through a process-wide errno and would abort on
     * errors if built with fatal errors: neither may leak into replyd */
    icalerror_set_errors_are_fatal(0);
    icalerror_clear_errno();
    icalcomponent *root = icalparser_parse_string(text);
    free(text);
    size_t before = s->nhol;
    const char *perr;
    if (!root) {
        st = rp_error_set(err, RP_EPARSE, "%s: not a complete iCalendar text", name);
    } else if (icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT &&
               icalcomponent_isa(root) != ICAL_XROOT_COMPONENT) {
        st = rp_error_set(err, RP_EPARSE, "%s: no VCALENDAR", name);
    } else if ((perr = first_parse_error(root, true)) != NULL) {
        st = rp_error_set(err, RP_EPARSE, "%s: %.200s", name, perr);
    } else {
        st = ics_walk(&x, root, 0);
    }
    if (root)
        icalcomponent_free(root);
    /* libical keeps a ring of scratch buffers per thread; nothing of it is
     * used past this point */
    icalmemory_free_ring();
    icalerror_clear_errno();
    free(x.lines);
    rp_tz_free(x.zone);
    free(x.zone_name);
    if (st != RP_OK) {
        /* all or nothing */
        for (size_t i = before; i < s->nhol; i++)
            free(s->hol[i].name);
        s->nhol = before;
        s->spans_dirty = true;
    }
    return st;
}
