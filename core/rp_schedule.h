/* rp_schedule.h — the team's business hours and holidays.
 *
 * A schedule is a weekly timetable in the team's time zone (any number of
 * intervals per weekday, so split shifts work; an interval may cross
 * midnight) plus named holidays: inclusive date ranges on the team's
 * calendar, given in YAML or imported from iCalendar (.ics) files with
 * libical. rp_schedule_state() answers, for one instant: are we open, is it a
 * holiday (which, until when), and when do we open next.
 *
 * The schedule owns its time zone, holiday names and intervals;
 * rp_schedule_free() releases everything. Strings in an rp_sched_state are
 * borrowed from the schedule. Errors come back as rp_status with an rp_error
 * message that names the offending text (and file:line for .ics input).
 * rp_schedule_state() updates caches in the schedule and its zone, so a
 * schedule is used by one thread at a time.
 */
#ifndef RP_SCHEDULE_H
#define RP_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp_error.h"
#include "rp_tz.h"

/* Same value as in rp_message.h: no such instant. */
#ifndef RP_TIME_UNKNOWN
#define RP_TIME_UNKNOWN INT64_MIN
#endif

typedef struct rp_schedule rp_schedule;

/* Takes ownership of team_tz (also on failure). NULL on ENOMEM. A new
 * schedule has no hours (always closed) and no holidays. */
rp_schedule *rp_schedule_new(rp_tz *team_tz);
void rp_schedule_free(rp_schedule *s);
rp_tz *rp_schedule_tz(rp_schedule *s);

/* Hours of one weekday (0 = Monday .. 6 = Sunday), replacing what it had:
 * "09:00-12:30, 13:30-18:00", "22:00-06:00" (ends next day), "closed" or "".
 * RP_EINVAL with a message naming the bad part. */
rp_status rp_schedule_set_day(rp_schedule *s, int wday, const char *spec, rp_error *err);

/* Weekday names "mon".."sun" (also "monday"..), case-insensitive; -1 if not. */
int rp_weekday_parse(const char *s);

/* "2026-12-24" -> 20261224; RP_EINVAL if not a valid calendar date. */
rp_status rp_date_parse(const char *s, int32_t *yyyymmdd, rp_error *err);

/* A holiday from first to last day inclusive (yyyymmdd). RP_EINVAL when
 * last < first. name is copied. */
rp_status rp_schedule_add_holiday(rp_schedule *s, const char *name, int32_t first,
                                  int32_t last, rp_error *err);

/* Every VEVENT of an iCalendar text becomes a holiday: all-day events cover
 * DTSTART up to the day before DTEND; timed events cover the days they touch;
 * RRULE recurrences are expanded up to 10 years from DTSTART. name appears in
 * errors. RP_EPARSE for text libical cannot read or an event without DTSTART. */
rp_status rp_schedule_load_ics(rp_schedule *s, const char *data, size_t len, const char *name,
                               rp_error *err);

typedef struct rp_sched_state {
    bool open;           /* in hours and not on a holiday */
    bool in_hours;       /* in the weekly hours (holidays ignored) */
    const char *holiday; /* name of the holiday covering now, else NULL */
    int64_t holiday_end; /* first instant after that holiday (team midnight), else RP_TIME_UNKNOWN */
    int64_t next_open;   /* now when open, else the next opening; RP_TIME_UNKNOWN when there
                          * is none within 400 days (no hours configured) */
} rp_sched_state;

rp_status rp_schedule_state(rp_schedule *s, int64_t now, rp_sched_state *out, rp_error *err);

#endif
