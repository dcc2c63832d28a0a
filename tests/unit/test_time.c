#include "rp_test.h"

#include "rp_datefmt.h"
#include "rp_schedule.h"
#include "rp_tz.h"

/* Expected instants below were worked out independently of ICU (Python's
 * zoneinfo over the IANA database); each carries its wall-clock reading. */

static rp_tz *zone(const char *name)
{
    rp_tz *tz = NULL;
    rp_error err;
    rp_status st = rp_tz_open(name, &tz, &err);
    if (st != RP_OK)
        fail_msg("rp_tz_open(%s): %s", name, err.msg);
    return tz;
}

static void expect_civil(rp_tz *tz, int64_t t, const char *want, int wday, int32_t off)
{
    rp_civil c;
    rp_error err;
    assert_int_equal(rp_tz_civil(tz, t, &c, &err), RP_OK);
    char got[32];
    snprintf(got, sizeof got, "%04d-%02d-%02d %02d:%02d:%02d", c.year, c.month, c.day, c.hour,
             c.minute, c.second);
    if (strcmp(got, want) != 0)
        fail_msg("%s at %lld: got %s, want %s", rp_tz_name(tz), (long long)t, got, want);
    assert_int_equal(c.wday, wday);
    assert_int_equal(c.utc_offset, off);
}

static int64_t from_civil(rp_tz *tz, int y, int mo, int d, int h, int mi)
{
    int64_t t = 0;
    rp_error err;
    assert_int_equal(rp_tz_from_civil(tz, y, mo, d, h, mi, &t, &err), RP_OK);
    return t;
}

/* ---- rp_tz ------------------------------------------------------------------ */

static void test_tz_open(void **st)
{
    (void)st;
    static const char *bad[] = {"Mars/Olympus", "", "Europe/Berlin ", "Etc/Unknown",
                                "europe/nowhere", "../../etc/passwd", "Europe/Berlin\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        static char sentinel;
        rp_tz *tz = (rp_tz *)(void *)&sentinel; /* must be reset to NULL */
        rp_error err;
        rp_error_clear(&err);
        assert_int_equal(rp_tz_open(bad[i], &tz, &err), RP_ECONFIG);
        assert_null(tz);
        assert_non_null(strstr(err.msg, "unknown time zone"));
    }
    rp_error err;
    rp_tz *tz = NULL;
    assert_int_equal(rp_tz_open("Mars/Olympus", &tz, &err), RP_ECONFIG);
    assert_string_equal(err.msg, "unknown time zone 'Mars/Olympus'");
    tz = zone("UTC");
    assert_string_equal(rp_tz_name(tz), "UTC");
    expect_civil(tz, 0, "1970-01-01 00:00:00", 3, 0);
    expect_civil(tz, -1, "1969-12-31 23:59:59", 2, 0);
    expect_civil(tz, 951782400, "2000-02-29 00:00:00", 1, 0);
    rp_tz_free(tz);
    rp_tz_free(NULL);
    /* a linked (old) name is accepted and keeps the name it was opened by */
    tz = zone("Asia/Calcutta");
    assert_string_equal(rp_tz_name(tz), "Asia/Calcutta");
    expect_civil(tz, 1763942400, "2025-11-24 05:30:00", 0, 19800);
    rp_tz_free(tz);
}

static void test_tz_range(void **st)
{
    (void)st;
    rp_tz *tz = zone("Europe/Berlin");
    rp_civil c;
    rp_error err;
    int64_t t;
    assert_int_equal(rp_tz_civil(tz, INT64_MAX, &c, &err), RP_EINVAL);
    assert_int_equal(rp_tz_civil(tz, INT64_MIN, &c, &err), RP_EINVAL);
    assert_int_equal(rp_tz_from_civil(tz, 2026, 2, 29, 9, 0, &t, &err), RP_EINVAL);
    assert_non_null(strstr(err.msg, "2026-02-29"));
    assert_int_equal(rp_tz_from_civil(tz, 2026, 13, 1, 9, 0, &t, &err), RP_EINVAL);
    assert_int_equal(rp_tz_from_civil(tz, 2026, 1, 1, 24, 0, &t, &err), RP_EINVAL);
    assert_int_equal(rp_tz_from_civil(tz, 2026, 1, 1, 9, 60, &t, &err), RP_EINVAL);
    assert_int_equal(rp_tz_from_civil(tz, 0, 1, 1, 9, 0, &t, &err), RP_EINVAL);
    /* far ends still convert, also with nothing cached */
    rp_tz_free(tz);
    tz = zone("Europe/Berlin");
    assert_int_equal(from_civil(tz, 9999, 12, 31, 23, 59), 253402297140);
    expect_civil(tz, 253402297140, "9999-12-31 23:59:00", 4, 3600);
    rp_tz_free(tz);
    tz = zone("UTC");
    assert_int_equal(from_civil(tz, 1, 1, 1, 0, 0), -62135596800);
    expect_civil(tz, -62135596800, "0001-01-01 00:00:00", 0, 0);
    rp_tz_free(tz);
    tz = zone("America/New_York");
    assert_int_equal(from_civil(tz, 9999, 12, 31, 23, 59), 253402318740);
    rp_tz_free(tz);
}

/* Europe switches on the last Sundays of March and October, the US on the
 * second Sunday of March and the first of November: in 2026 on four
 * different days. */
static void test_tz_dst_europe(void **st)
{
    (void)st;
    rp_tz *tz = zone("Europe/Berlin");
    /* spring forward 2026-03-29 02:00 CET -> 03:00 CEST */
    expect_civil(tz, 1774745999, "2026-03-29 01:59:59", 6, 3600);
    expect_civil(tz, 1774746000, "2026-03-29 03:00:00", 6, 7200);
    assert_int_equal(from_civil(tz, 2026, 3, 29, 1, 59), 1774745940);
    assert_int_equal(from_civil(tz, 2026, 3, 29, 3, 0), 1774746000);
    /* 02:30 does not exist: moved forward by the gap, to 03:30 CEST */
    assert_int_equal(from_civil(tz, 2026, 3, 29, 2, 30), 1774747800);
    expect_civil(tz, 1774747800, "2026-03-29 03:30:00", 6, 7200);
    assert_int_equal(from_civil(tz, 2026, 3, 29, 2, 0), 1774746000);
    /* fall back 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice */
    expect_civil(tz, 1792889999, "2026-10-25 02:59:59", 6, 7200);
    expect_civil(tz, 1792890000, "2026-10-25 02:00:00", 6, 3600);
    assert_int_equal(from_civil(tz, 2026, 10, 25, 2, 30), 1792888200); /* first: CEST */
    expect_civil(tz, 1792891800, "2026-10-25 02:30:00", 6, 3600);    /* second: CET */
    assert_int_equal(from_civil(tz, 2026, 10, 25, 3, 0), 1792893600);
    /* the US dates change nothing here */
    expect_civil(tz, 1772967600, "2026-03-08 12:00:00", 6, 3600);
    expect_civil(tz, 1793530800, "2026-11-01 12:00:00", 6, 3600);
    assert_int_equal(from_civil(tz, 2026, 3, 30, 9, 0), 1774854000);
    assert_int_equal(from_civil(tz, 2026, 10, 26, 9, 0), 1793001600);
    rp_tz_free(tz);
}

static void test_tz_dst_us(void **st)
{
    (void)st;
    rp_tz *tz = zone("America/New_York");
    /* spring forward 2026-03-08 02:00 EST -> 03:00 EDT */
    expect_civil(tz, 1772953199, "2026-03-08 01:59:59", 6, -18000);
    expect_civil(tz, 1772953200, "2026-03-08 03:00:00", 6, -14400);
    assert_int_equal(from_civil(tz, 2026, 3, 8, 2, 30), 1772955000); /* 03:30 EDT */
    /* fall back 2026-11-01 02:00 EDT -> 01:00 EST */
    expect_civil(tz, 1793512799, "2026-11-01 01:59:59", 6, -14400);
    expect_civil(tz, 1793512800, "2026-11-01 01:00:00", 6, -18000);
    assert_int_equal(from_civil(tz, 2026, 11, 1, 1, 30), 1793511000); /* first: EDT */
    expect_civil(tz, 1793514600, "2026-11-01 01:30:00", 6, -18000); /* second: EST */
    /* on the European dates New York is already / still on EDT */
    expect_civil(tz, 1774800000, "2026-03-29 12:00:00", 6, -14400);
    expect_civil(tz, 1792944000, "2026-10-25 12:00:00", 6, -14400);
    assert_int_equal(from_civil(tz, 2026, 3, 9, 9, 0), 1773061200);
    assert_int_equal(from_civil(tz, 2026, 11, 2, 9, 0), 1793628000);
    /* jumping back and forth across changes keeps answers right */
    expect_civil(tz, 1772953200, "2026-03-08 03:00:00", 6, -14400);
    expect_civil(tz, 1772953199, "2026-03-08 01:59:59", 6, -18000);
    expect_civil(tz, 1793512800, "2026-11-01 01:00:00", 6, -18000);
    expect_civil(tz, 1793512799, "2026-11-01 01:59:59", 6, -14400);
    rp_tz_free(tz);
}

/* every instant of a year, hour by hour, agrees with the round trip */
static void test_tz_round_trip(void **st)
{
    (void)st;
    static const char *zones[] = {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                                  "Asia/Kathmandu", "America/Santiago"};
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        rp_tz *tz = zone(zones[z]);
        for (int64_t t = 1767225600; t < 1767225600 + 366 * 86400; t += 1800) {
            rp_civil c;
            rp_error err;
            assert_int_equal(rp_tz_civil(tz, t, &c, &err), RP_OK);
            int64_t back = from_civil(tz, c.year, c.month, c.day, c.hour, c.minute);
            /* equal, or the earlier of two readings of a repeated time */
            if (back != t - c.second) {
                rp_civil c2;
                assert_int_equal(rp_tz_civil(tz, back, &c2, &err), RP_OK);
                if (!(back < t && c2.hour == c.hour && c2.minute == c.minute &&
                      c2.day == c.day))
                    fail_msg("%s: %lld -> %lld", zones[z], (long long)t, (long long)back);
            }
        }
        rp_tz_free(tz);
    }
}

/* ---- schedule --------------------------------------------------------------- */

static rp_schedule *office(const char *tzname)
{
    rp_schedule *s = rp_schedule_new(zone(tzname));
    assert_non_null(s);
    rp_error err;
    for (int d = 0; d < 5; d++)
        assert_int_equal(rp_schedule_set_day(s, d, "09:00-12:30, 13:30-18:00", &err), RP_OK);
    assert_int_equal(rp_schedule_set_day(s, 5, "closed", &err), RP_OK);
    assert_int_equal(rp_schedule_set_day(s, 6, "", &err), RP_OK);
    return s;
}

static rp_sched_state state(rp_schedule *s, int64_t now)
{
    rp_sched_state out;
    rp_error err;
    rp_status st = rp_schedule_state(s, now, &out, &err);
    if (st != RP_OK)
        fail_msg("rp_schedule_state(%lld): %s", (long long)now, err.msg);
    return out;
}

#define EXPECT_STATE(s, now, want_open, want_in, want_hol, want_end, want_next)                  \
    do {                                                                                         \
        rp_sched_state x_ = state((s), (now));                                                   \
        assert_int_equal(x_.open, (want_open));                                                  \
        assert_int_equal(x_.in_hours, (want_in));                                                \
        if ((want_hol) == NULL)                                                                  \
            assert_null(x_.holiday);                                                             \
        else                                                                                     \
            assert_string_equal(x_.holiday, (const char *)(want_hol));                           \
        assert_int_equal(x_.holiday_end, (want_end));                                            \
        assert_int_equal(x_.next_open, (want_next));                                             \
    } while (0)

#define NONE RP_TIME_UNKNOWN

static void test_parse_helpers(void **st)
{
    (void)st;
    assert_int_equal(rp_weekday_parse("mon"), 0);
    assert_int_equal(rp_weekday_parse("Tue"), 1);
    assert_int_equal(rp_weekday_parse("WEDNESDAY"), 2);
    assert_int_equal(rp_weekday_parse("sun"), 6);
    assert_int_equal(rp_weekday_parse("Sunday"), 6);
    assert_int_equal(rp_weekday_parse("thurs"), -1);
    assert_int_equal(rp_weekday_parse("mo"), -1);
    assert_int_equal(rp_weekday_parse(""), -1);
    assert_int_equal(rp_weekday_parse("mondays"), -1);

    int32_t d = 0;
    rp_error err;
    assert_int_equal(rp_date_parse("2026-12-24", &d, &err), RP_OK);
    assert_int_equal(d, 20261224);
    assert_int_equal(rp_date_parse("2028-02-29", &d, &err), RP_OK);
    assert_int_equal(d, 20280229);
    assert_int_equal(rp_date_parse("2026-02-29", &d, &err), RP_EINVAL);
    assert_string_equal(err.msg, "'2026-02-29' is not a valid calendar date");
    static const char *bad[] = {"2026-1-05", "2026-12-24x", "26-12-24", "2026/12/24",
                                "2026-00-10", "2026-04-31", "", " 2026-12-24"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(rp_date_parse(bad[i], &d, &err), RP_EINVAL);
}

static void test_set_day_errors(void **st)
{
    (void)st;
    rp_schedule *s = office("Europe/Berlin");
    rp_error err;
    static const struct {
        int day;
        const char *spec, *msg;
    } cases[] = {
        {0, "9-17", "monday: '9-17' is not a time range like 09:00-17:30"},
        {1, "09:00-12:00, 13:00", "tuesday: '13:00' is not a time range like 09:00-17:30"},
        {2, "09:00-12:00,", "wednesday: '' is not a time range like 09:00-17:30"},
        {3, "25:00-26:00", "thursday: '25:00-26:00' is not a time range"},
        {4, "09:60-10:00", "friday: '09:60-10:00' is not a time range"},
        {5, "10:00-10:00", "saturday: '10:00-10:00' is an empty range"},
        {6, "24:00-02:00", "sunday: '24:00-02:00': 24:00 can only end a range"},
        {0, "open", "monday: 'open' is not a time range"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rp_error_clear(&err);
        assert_int_equal(rp_schedule_set_day(s, cases[i].day, cases[i].spec, &err), RP_EINVAL);
        if (strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
            fail_msg("case %zu: \"%s\" does not start with \"%s\"", i, err.msg, cases[i].msg);
    }
    assert_int_equal(rp_schedule_set_day(s, 7, "closed", &err), RP_EINVAL);
    assert_int_equal(rp_schedule_set_day(s, -1, "closed", &err), RP_EINVAL);
    /* a failed call leaves the day as it was: Tuesday 2026-11-24 10:00 is open */
    EXPECT_STATE(s, 1795510800, true, true, NULL, NONE, 1795510800);
    /* blanks are fine, "CLOSED" in any case */
    assert_int_equal(rp_schedule_set_day(s, 1, " 9:00 - 12:30 ,13:30-18:00 ", &err), RP_OK);
    EXPECT_STATE(s, 1795510800, true, true, NULL, NONE, 1795510800);
    assert_int_equal(rp_schedule_set_day(s, 1, "CLOSED", &err), RP_OK);
    /* closed on Tuesday: next opening Wednesday 09:00 */
    EXPECT_STATE(s, 1795510800, false, false, NULL, NONE, 1795593600);

    assert_int_equal(rp_schedule_add_holiday(s, "x", 20261227, 20261224, &err), RP_EINVAL);
    assert_string_equal(err.msg, "holiday 'x' ends (20261224) before it starts (20261227)");
    assert_int_equal(rp_schedule_add_holiday(s, "x", 20261332, 20261401, &err), RP_EINVAL);
    rp_schedule_free(s);
}

/* split shift on Tuesday 2026-11-24, Europe/Berlin (CET, +01:00) */
static void test_split_shift(void **st)
{
    (void)st;
    rp_schedule *s = office("Europe/Berlin");
    EXPECT_STATE(s, 1795510800, true, true, NULL, NONE, 1795510800);         /* 10:00 */
    EXPECT_STATE(s, 1795519800 - 1, true, true, NULL, NONE, 1795519800 - 1); /* 12:29:59 */
    EXPECT_STATE(s, 1795519800, false, false, NULL, NONE, 1795523400);       /* 12:30 -> 13:30 */
    EXPECT_STATE(s, 1795520700, false, false, NULL, NONE, 1795523400);       /* 12:45 -> 13:30 */
    EXPECT_STATE(s, 1795523400, true, true, NULL, NONE, 1795523400);         /* 13:30 */
    EXPECT_STATE(s, 1795539600, false, false, NULL, NONE, 1795593600);       /* 18:00 -> Wed 9:00 */
    /* Friday 2026-11-27 18:00 -> Monday 2026-11-30 09:00 */
    EXPECT_STATE(s, 1795539600 + 3 * 86400, false, false, NULL, NONE, 1795593600 + 5 * 86400);
    rp_schedule_free(s);
}

static void test_next_open_across_dst(void **st)
{
    (void)st;
    rp_schedule *s = office("Europe/Berlin");
    /* Fri 2026-03-27 18:00 CET -> Mon 2026-03-30 09:00 CEST (07:00 UTC) */
    EXPECT_STATE(s, 1774630800, false, false, NULL, NONE, 1774854000);
    /* Sun 2026-03-29 12:00 CEST, the day of the change */
    EXPECT_STATE(s, 1774778400, false, false, NULL, NONE, 1774854000);
    /* Fri 2026-10-23 19:00 CEST -> Mon 2026-10-26 09:00 CET (08:00 UTC) */
    EXPECT_STATE(s, 1792774800, false, false, NULL, NONE, 1793001600);
    /* the US weekends do not move Berlin: Fri 2026-03-06 18:00 CET -> Mon 09:00 CET */
    EXPECT_STATE(s, 1772816400, false, false, NULL, NONE, 1773043200);
    rp_schedule_free(s);

    s = office("America/New_York");
    /* Fri 2026-03-06 18:30 EST -> Mon 2026-03-09 09:00 EDT (13:00 UTC) */
    EXPECT_STATE(s, 1772839800, false, false, NULL, NONE, 1773061200);
    /* Fri 2026-10-30 18:30 EDT -> Mon 2026-11-02 09:00 EST (14:00 UTC) */
    EXPECT_STATE(s, 1793399400, false, false, NULL, NONE, 1793628000);
    /* Mon 2026-11-02 09:00 EST is open, 08:59:59 is not */
    EXPECT_STATE(s, 1793628000, true, true, NULL, NONE, 1793628000);
    EXPECT_STATE(s, 1793627999, false, false, NULL, NONE, 1793628000);
    rp_schedule_free(s);
}

/* hours that fall in the skipped or repeated hour of a change */
static void test_hours_in_dst_gap_and_overlap(void **st)
{
    (void)st;
    rp_error err;
    rp_schedule *s = rp_schedule_new(zone("Europe/Berlin"));
    assert_non_null(s);
    assert_int_equal(rp_schedule_set_day(s, 6, "02:30-04:00", &err), RP_OK);
    /* Sun 2026-03-29 00:00 CET: 02:30 never shows; the clock enters the hours
     * when it jumps to 03:00 CEST (01:00 UTC) */
    EXPECT_STATE(s, 1774738800, false, false, NULL, NONE, 1774746000);
    EXPECT_STATE(s, 1774746000, true, true, NULL, NONE, 1774746000);
    /* hours wholly inside the gap do not happen that day: next Sunday 02:10 CEST */
    assert_int_equal(rp_schedule_set_day(s, 6, "02:10-02:50", &err), RP_OK);
    EXPECT_STATE(s, 1774738800, false, false, NULL, NONE, 1775347800);
    rp_schedule_free(s);

    s = rp_schedule_new(zone("America/New_York"));
    assert_non_null(s);
    assert_int_equal(rp_schedule_set_day(s, 6, "01:30-01:45", &err), RP_OK);
    /* Sun 2026-11-01: 01:40 EST (the second 01:40) is in hours */
    EXPECT_STATE(s, 1793515200, true, true, NULL, NONE, 1793515200);
    /* 01:50 EDT: out; the clock goes back and reads 01:30 again at 06:30 UTC */
    EXPECT_STATE(s, 1793512200, false, false, NULL, NONE, 1793514600);
    rp_schedule_free(s);
}

static void test_overnight(void **st)
{
    (void)st;
    rp_error err;
    rp_schedule *s = rp_schedule_new(zone("Europe/Berlin"));
    assert_non_null(s);
    assert_int_equal(rp_schedule_set_day(s, 4, "22:00-06:00", &err), RP_OK);
    /* Thu 2026-11-26 12:00 -> Fri 22:00 */
    EXPECT_STATE(s, 1795690800, false, false, NULL, NONE, 1795813200);
    /* Fri 23:00 open; Sat 05:59 still open (Friday's hours); Sat 06:00 closed */
    EXPECT_STATE(s, 1795816800, true, true, NULL, NONE, 1795816800);
    EXPECT_STATE(s, 1795841940, true, true, NULL, NONE, 1795841940);
    EXPECT_STATE(s, 1795842000, false, false, NULL, NONE, 1796418000);
    /* a holiday on Saturday closes the morning part even though it is in hours */
    assert_int_equal(rp_schedule_add_holiday(s, "Betriebsruhe", 20261128, 20261128, &err), RP_OK);
    EXPECT_STATE(s, 1795841940, false, true, "Betriebsruhe", 1795906800, 1796418000);
    /* ... but Friday night before it is open */
    EXPECT_STATE(s, 1795816800, true, true, NULL, NONE, 1795816800);
    /* 24:00 as an end: Sunday until midnight */
    assert_int_equal(rp_schedule_set_day(s, 6, "18:00-24:00", &err), RP_OK);
    EXPECT_STATE(s, 1795906800 + 86400 - 1, true, true, NULL, NONE, 1795906800 + 86400 - 1);
    EXPECT_STATE(s, 1795906800 + 86400, false, false, NULL, NONE, 1796418000);
    /* a whole day */
    assert_int_equal(rp_schedule_set_day(s, 0, "00:00-24:00", &err), RP_OK);
    EXPECT_STATE(s, 1795906800 + 86400, true, true, NULL, NONE, 1795906800 + 86400);
    rp_schedule_free(s);
}

static void test_holidays(void **st)
{
    (void)st;
    rp_error err;
    rp_schedule *s = office("Europe/Berlin");
    /* Fri 2026-12-04 .. Mon 2026-12-07 */
    assert_int_equal(rp_schedule_add_holiday(s, "Brückentage", 20261204, 20261207, &err), RP_OK);
    /* Saturday 11:00: a holiday until Tue 00:00, open Tue 09:00 */
    EXPECT_STATE(s, 1796464800, false, false, "Brückentage", 1796684400, 1796716800);
    /* Friday 10:00 is in hours but a holiday */
    EXPECT_STATE(s, 1796374800, false, true, "Brückentage", 1796684400, 1796716800);
    /* Tuesday 00:00 is no longer a holiday */
    EXPECT_STATE(s, 1796684400, false, false, NULL, NONE, 1796716800);
    /* Thursday before, 18:30: the next opening skips the holiday */
    EXPECT_STATE(s, 1796319000, false, false, NULL, NONE, 1796716800);

    /* overlapping and adjacent holidays: the end is that of the whole run */
    assert_int_equal(rp_schedule_add_holiday(s, "Weihnachten", 20261224, 20261226, &err), RP_OK);
    assert_int_equal(rp_schedule_add_holiday(s, "Betriebsferien", 20261226, 20261231, &err),
                     RP_OK);
    assert_int_equal(rp_schedule_add_holiday(s, "Neujahr", 20270101, 20270101, &err), RP_OK);
    /* Fri 2026-12-25 10:00: ends Sat 2027-01-02 00:00; open Mon 2027-01-04 09:00 */
    EXPECT_STATE(s, 1798189200, false, true, "Weihnachten", 1798844400, 1799049600);
    EXPECT_STATE(s, 1798362000, false, false, "Betriebsferien", 1798844400, 1799049600);
    rp_schedule_free(s);

    /* no hours at all: never opens */
    s = rp_schedule_new(zone("Europe/Berlin"));
    assert_non_null(s);
    EXPECT_STATE(s, 1796464800, false, false, NULL, NONE, NONE);
    rp_schedule_free(s);

    /* hours, but a holiday longer than the 400 days looked at */
    s = office("Europe/Berlin");
    assert_int_equal(rp_schedule_add_holiday(s, "Sabbatical", 20260101, 20271231, &err), RP_OK);
    EXPECT_STATE(s, 1780308000, false, true, "Sabbatical", 1830294000, NONE);
    rp_schedule_free(s);
}

/* ---- iCalendar ------------------------------------------------------------------- */

static const char ics_good[] =
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//replyd//test//EN\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:xmas@test\r\n"
    "DTSTART;VALUE=DATE:20261225\r\n"
    "DTEND;VALUE=DATE:20261227\r\n"
    "SUMMARY:Weihnachten\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:mayday@test\r\n"
    "DTSTART;VALUE=DATE:20260501\r\n"
    "RRULE:FREQ=YEARLY\r\n"
    "EXDATE;VALUE=DATE:20280501\r\n"
    "SUMMARY:Tag der Arbeit\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:inventory@test\r\n"
    "DTSTART;TZID=America/New_York:20261123T200000\r\n"
    "DTEND;TZID=America/New_York:20261123T230000\r\n"
    "SUMMARY:Inventur\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:move@test\r\n"
    "DTSTART:20260910T160000Z\r\n"
    "DTEND:20260911T080000Z\r\n"
    "SUMMARY:Umzug\\, Teil 1\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:plain@test\r\n"
    "DTSTART;VALUE=DATE:20260803\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:cancelled@test\r\n"
    "DTSTART;VALUE=DATE:20260804\r\n"
    "STATUS:CANCELLED\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n";

static void test_ics(void **st)
{
    (void)st;
    rp_error err;
    rp_schedule *s = office("Europe/Berlin");
    assert_int_equal(rp_schedule_load_ics(s, ics_good, strlen(ics_good), "de.ics", &err), RP_OK);
    /* all-day, two days: Fri 25 and Sat 26, DTEND (27) excluded */
    EXPECT_STATE(s, 1798189200, false, true, "Weihnachten", 1798326000, 1798444800);
    EXPECT_STATE(s, 1798362000, false, false, NULL, NONE, 1798444800); /* Sun 27 */
    /* yearly: 2026 .. 2035, except 2028 */
    EXPECT_STATE(s, 1903852800, false, true, "Tag der Arbeit", 1903903200, 1903935600); /* 2030 */
    EXPECT_STATE(s, 2061619200, false, true, "Tag der Arbeit", 2061669600, 2061702000); /* 2035 */
    EXPECT_STATE(s, 2093241600, true, true, NULL, NONE, 2093241600); /* 2036: past 10 years */
    EXPECT_STATE(s, 1840780800, true, true, NULL, NONE, 1840780800); /* 2028: EXDATE */
    /* 20:00-23:00 in New York is Tuesday 02:00-05:00 in Berlin */
    EXPECT_STATE(s, 1795424400, true, true, NULL, NONE, 1795424400);              /* Mon 23 */
    EXPECT_STATE(s, 1795510800, false, true, "Inventur", 1795561200, 1795593600); /* Tue 24 */
    /* UTC 16:00 to 08:00 next day: Thu 10 and Fri 11 September in Berlin */
    EXPECT_STATE(s, 1789034400, false, true, "Umzug, Teil 1", 1789164000, 1789369200);
    EXPECT_STATE(s, 1789120800, false, true, "Umzug, Teil 1", 1789164000, 1789369200);
    /* no SUMMARY: "holiday"; no DTEND: one day */
    EXPECT_STATE(s, 1785744000, false, true, "holiday", 1785794400, 1785826800);
    /* cancelled events are not holidays */
    EXPECT_STATE(s, 1785830400, true, true, NULL, NONE, 1785830400);
    rp_schedule_free(s);
}

/* TZIDs: a zone defined only by the file's own VTIMEZONE, a Windows name
 * (Outlook) and an IANA name behind a vendor prefix, read in a team zone far
 * away. 08:00-17:00 in Berlin is 16:00-01:00 in Tokyo. */
static void test_ics_vtimezone(void **st)
{
    (void)st;
    static const char ics[] = "BEGIN:VCALENDAR\r\n"
                              "VERSION:2.0\r\n"
                              "PRODID:-//replyd//test//EN\r\n"
                              "BEGIN:VTIMEZONE\r\n"
                              "TZID:Firmenzeit\r\n"
                              "BEGIN:STANDARD\r\n"
                              "DTSTART:19961027T030000\r\n"
                              "TZOFFSETFROM:+0200\r\n"
                              "TZOFFSETTO:+0100\r\n"
                              "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n"
                              "END:STANDARD\r\n"
                              "BEGIN:DAYLIGHT\r\n"
                              "DTSTART:19960331T020000\r\n"
                              "TZOFFSETFROM:+0100\r\n"
                              "TZOFFSETTO:+0200\r\n"
                              "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n"
                              "END:DAYLIGHT\r\n"
                              "END:VTIMEZONE\r\n"
                              "BEGIN:VEVENT\r\n"
                              "DTSTART;TZID=Firmenzeit:20261124T080000\r\n"
                              "DTEND;TZID=Firmenzeit:20261124T170000\r\n"
                              "SUMMARY:Betriebsversammlung\r\n"
                              "END:VEVENT\r\n"
                              "BEGIN:VEVENT\r\n"
                              "DTSTART;TZID=W. Europe Standard Time:20261201T080000\r\n"
                              "DTEND;TZID=W. Europe Standard Time:20261201T090000\r\n"
                              "SUMMARY:Schulung\r\n"
                              "END:VEVENT\r\n"
                              "BEGIN:VEVENT\r\n"
                              "DTSTART;TZID=/mozilla.org/20050126_1/America/New_York:20261207T200000\r\n"
                              "DURATION:PT1H\r\n"
                              "SUMMARY:Audit\r\n"
                              "END:VEVENT\r\n"
                              "END:VCALENDAR\r\n";
    rp_error err;
    rp_schedule *s = office("Asia/Tokyo");
    assert_int_equal(rp_schedule_load_ics(s, ics, strlen(ics), "outlook.ics", &err), RP_OK);
    /* Mon 23 open; Tue 24 and Wed 25 holiday until Thu 00:00 JST; Thu 09:00 open */
    EXPECT_STATE(s, 1795395600, true, true, NULL, NONE, 1795395600);
    EXPECT_STATE(s, 1795482000, false, true, "Betriebsversammlung", 1795618800, 1795651200);
    EXPECT_STATE(s, 1795568400, false, true, "Betriebsversammlung", 1795618800, 1795651200);
    EXPECT_STATE(s, 1795654800, true, true, NULL, NONE, 1795654800);
    /* 08:00 W. Europe on Tue 1 December is 16:00 the same day in Tokyo */
    EXPECT_STATE(s, 1796086800, false, true, "Schulung", 1796137200, 1796169600);
    /* 20:00 in New York on Monday 7 December is Tuesday 10:00 in Tokyo */
    EXPECT_STATE(s, 1796605200, true, true, NULL, NONE, 1796605200);
    EXPECT_STATE(s, 1796691600, false, true, "Audit", 1796742000, 1796774400);
    rp_schedule_free(s);

    /* a floating time is the team's: 02:30 on 2026-03-29 does not exist in
     * Berlin and reads as 03:30 CEST, still that Sunday */
    static const char floating[] = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260329T023000\n"
                                   "DTEND:20260329T233000\nSUMMARY:Wartung\nEND:VEVENT\n"
                                   "END:VCALENDAR\n";
    s = office("Europe/Berlin");
    assert_int_equal(rp_schedule_load_ics(s, floating, strlen(floating), "f.ics", &err), RP_OK);
    /* Sun 12:00 CEST: holiday until Mon 00:00 CEST; Sat 28 and Mon 30 are not */
    EXPECT_STATE(s, 1774778400, false, false, "Wartung", 1774821600, 1774854000);
    EXPECT_STATE(s, 1774778400 - 86400, false, false, NULL, NONE, 1774854000);
    EXPECT_STATE(s, 1774854000, true, true, NULL, NONE, 1774854000);
    rp_schedule_free(s);
}

/* several RRULEs with EXDATE and RDATE in one event */
static void test_ics_recurrence(void **st)
{
    (void)st;
    static const char ics[] = "BEGIN:VCALENDAR\n"
                              "BEGIN:VEVENT\n"
                              "DTSTART;VALUE=DATE:20260105\n"
                              "RRULE:FREQ=YEARLY;COUNT=3\n"
                              "EXDATE;VALUE=DATE:20270105\n"
                              "RRULE:FREQ=MONTHLY;COUNT=2\n"
                              "RDATE;VALUE=DATE:20260310\n"
                              "SUMMARY:Inventur\n"
                              "END:VEVENT\n"
                              "END:VCALENDAR\n";
    rp_error err;
    rp_schedule *s = office("Europe/Berlin");
    assert_int_equal(rp_schedule_load_ics(s, ics, strlen(ics), "r.ics", &err), RP_OK);
    EXPECT_STATE(s, 1767603600, false, true, "Inventur", 1767654000, 1767686400); /* 2026-01-05 */
    EXPECT_STATE(s, 1830675600, false, true, "Inventur", 1830726000, 1830758400); /* 2028-01-05 */
    EXPECT_STATE(s, 1770282000, false, true, "Inventur", 1770332400, 1770364800); /* 2026-02-05 */
    EXPECT_STATE(s, 1773133200, false, true, "Inventur", 1773183600, 1773216000); /* 2026-03-10 */
    EXPECT_STATE(s, 1799139600, true, true, NULL, NONE, 1799139600); /* 2027-01-05: EXDATE */
    /* a second file (with a byte order mark) adds to the first */
    static const char more[] = "\xEF\xBB\xBF"
                               "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20270105\n"
                               "SUMMARY:Nachholtermin\nEND:VEVENT\nEND:VCALENDAR\n";
    assert_int_equal(rp_schedule_load_ics(s, more, strlen(more), "m.ics", &err), RP_OK);
    EXPECT_STATE(s, 1799139600, false, true, "Nachholtermin", 1799190000, 1799222400);
    EXPECT_STATE(s, 1767603600, false, true, "Inventur", 1767654000, 1767686400);
    rp_schedule_free(s);
}

static void test_ics_errors(void **st)
{
    (void)st;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"hello world\n", "bad.ics: not a complete iCalendar text"},
        {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260105\n",
         "bad.ics: not a complete iCalendar text"},
        {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260105\nEND:VEVENT\n"
         "BEGIN:VEVENT\nDTSTART;VALUE=DATE:2026\nEND:VEVENT\nEND:VCALENDAR\n",
         "bad.ics:5: Can't parse as DATE value in DTSTART property"},
        {"BEGIN:VCALENDAR\nX-WR-CALNAME:ok\nFOO BAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260105\n"
         "END:VEVENT\nEND:VCALENDAR\n",
         "bad.ics: Got a data line, but could not find a property name"},
        {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n",
         "bad.ics:2: event without DTSTART"},
        {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\nEND:VEVENT\n"
         "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20260230\nEND:VEVENT\nEND:VCALENDAR\n",
         "bad.ics:5: event with an invalid DTSTART"},
        {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260105\n"
         "DTEND;VALUE=DATE:20260101\nEND:VEVENT\nEND:VCALENDAR\n",
         "bad.ics:2: event ends before it starts"},
        {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=Mars/Olympus:20261120T200000\n"
         "END:VEVENT\nEND:VCALENDAR\n",
         "bad.ics:2: unknown TZID: Mars/Olympus"},
        {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260105\nRRULE:FREQ=SOMETIMES\n"
         "END:VEVENT\nEND:VCALENDAR\n",
         "bad.ics:2: Can't parse as RECUR value in RRULE property"},
        {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260105\nSUMMARY:\xff\xfe\n"
         "END:VEVENT\nEND:VCALENDAR\n",
         "bad.ics:2: SUMMARY is not valid UTF-8"},
        {"BEGIN:VTODO\nDTSTART:20260105T100000Z\nEND:VTODO\n", "bad.ics: no VCALENDAR"},
        {"END:VCALENDAR\nBEGIN:VCALENDAR\nEND:VCALENDAR\n", "bad.ics:1: END without BEGIN"},
        {"BEGIN:VCALENDAR\nEND:VCALENDAR\nEND:VCALENDAR\n", "bad.ics:3: END without BEGIN"},
        /* blanks before the colon, past any short prefix */
        {"BEGIN:VCALENDAR\nEND:VCALENDAR\nEND                                          :X\n",
         "bad.ics:3: END without BEGIN"},
        /* a byte order mark is skipped as libical does */
        {"\xEF\xBB\xBF" "END:VCALENDAR\n", "bad.ics:1: END without BEGIN"},
        /* CR line ends after the last LF, long lines included */
        {"BEGIN:VCALENDAR\nX-A:b\rX-LONG:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaEND:VCALENDAR\rEND:VCALENDAR\rEND:VCALENDAR\r",
         "bad.ics:5: END without BEGIN"},
        /* old Mac line ends */
        {"BEGIN:VCALENDAR\rEND:VCALENDAR\rEND:VCALENDAR\r", "bad.ics:3: END without BEGIN"},
        /* folded lines count for the line numbers */
        {"BEGIN:VCALENDAR\r\nX-WR-CALNAME:Feier\r\n tage\r\nBEGIN:VEV\r\n ENT\r\n"
         "SUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
         "bad.ics:4: event without DTSTART"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rp_schedule *s = office("Europe/Berlin");
        rp_error err;
        rp_error_clear(&err);
        rp_status got = rp_schedule_load_ics(s, cases[i].text, strlen(cases[i].text), "bad.ics",
                                             &err);
        if (got != RP_EPARSE)
            fail_msg("case %zu: status %d (%s)", i, (int)got, err.msg);
        if (strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
            fail_msg("case %zu: \"%s\" does not start with \"%s\"", i, err.msg, cases[i].msg);
        /* nothing of a broken file is kept: Fri 2026-01-02 10:00 stays open */
        EXPECT_STATE(s, 1767344400, true, true, NULL, NONE, 1767344400);
        rp_schedule_free(s);
    }
    rp_schedule *s = office("Europe/Berlin");
    rp_error err;
    assert_int_equal(rp_schedule_load_ics(s, "", 0, "empty.ics", &err), RP_EPARSE);
    assert_string_equal(err.msg, "empty.ics: empty calendar");
    /* libical would stop reading at a line this long and drop the rest */
    char *big = malloc(9000);
    assert_non_null(big);
    int k = snprintf(big, 9000, "BEGIN:VCALENDAR\nX-LONG:");
    memset(big + k, 'a', 8500);
    strcpy(big + k + 8500, "\nEND:VCALENDAR\n");
    assert_int_equal(rp_schedule_load_ics(s, big, strlen(big), "long.ics", &err), RP_EPARSE);
    assert_string_equal(err.msg, "long.ics:2: line longer than 8000 bytes");
    free(big);
    const char nul[] = "BEGIN:VCALENDAR\n\0END:VCALENDAR\n";
    assert_int_equal(rp_schedule_load_ics(s, nul, sizeof nul - 1, "nul.ics", &err), RP_EPARSE);
    assert_string_equal(err.msg, "nul.ics: contains a NUL byte");
    rp_schedule_free(s);
}

/* ---- formatted dates ---------------------------------------------------------- */

static const char *fmt(rp_datefmt *f, rp_buf *b, const char *lang, const char *tz, int64_t t,
                       rp_datefmt_style style)
{
    rp_error err;
    rp_buf_reset(b);
    rp_status st = rp_datefmt_format(f, lang, tz, t, style, b, &err);
    if (st != RP_OK)
        fail_msg("format %s %s: %s", lang, tz, err.msg);
    return b->data;
}

static void test_datefmt(void **st)
{
    (void)st;
    rp_datefmt *f = rp_datefmt_new();
    assert_non_null(f);
    rp_buf b = {0};
    /* Monday 2025-11-24 09:00 local in each zone */
    const int64_t ny = 1763992800, berlin = 1763971200, tokyo = 1763942400;
    assert_string_equal(fmt(f, &b, "en", "America/New_York", ny, RP_DATEFMT_DATETIME),
                        "Monday, November 24, 9:00 AM EST");
    assert_string_equal(fmt(f, &b, "en", "America/New_York", ny, RP_DATEFMT_DATE),
                        "Monday, November 24");
    assert_string_equal(fmt(f, &b, "en", "America/New_York", ny, RP_DATEFMT_TIME), "9:00 AM EST");
    assert_string_equal(fmt(f, &b, "en", "America/New_York", ny + 8 * 3600 + 1800,
                            RP_DATEFMT_TIME),
                        "5:30 PM EST");
    assert_string_equal(fmt(f, &b, "de", "Europe/Berlin", berlin, RP_DATEFMT_DATETIME),
                        "Montag, 24. November, 09:00 MEZ");
    assert_string_equal(fmt(f, &b, "de", "Europe/Berlin", berlin, RP_DATEFMT_DATE),
                        "Montag, 24. November");
    assert_string_equal(fmt(f, &b, "de", "Europe/Berlin", berlin, RP_DATEFMT_TIME), "09:00 MEZ");
    /* summer time has its own name */
    assert_string_equal(fmt(f, &b, "de", "Europe/Berlin", 1774854000, RP_DATEFMT_DATETIME),
                        "Montag, 30. März, 09:00 MESZ");
    assert_string_equal(fmt(f, &b, "ja", "Asia/Tokyo", tokyo, RP_DATEFMT_DATETIME),
                        "11月24日(月) 9:00 JST");
    assert_string_equal(fmt(f, &b, "ja", "Asia/Tokyo", tokyo, RP_DATEFMT_DATE), "11月24日(月)");
    assert_string_equal(fmt(f, &b, "ja", "Asia/Tokyo", tokyo, RP_DATEFMT_TIME), "9:00 JST");
    assert_string_equal(fmt(f, &b, "JA", "Asia/Tokyo", tokyo, RP_DATEFMT_DATE), "11月24日(月)");
    assert_string_equal(fmt(f, &b, "ja", "Europe/Berlin", berlin, RP_DATEFMT_DATETIME),
                        "11月24日(月) 9:00 GMT+1");

    static const struct {
        const char *lang, *weekday, *month, *time;
    } words[] = {
        {"fr", "lundi", "24 novembre", "09:00"},
        {"it", "lunedì", "24 novembre", "09:00"},
        {"es", "lunes", "24 de noviembre", "9:00"},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        const char *s = fmt(f, &b, words[i].lang, "Europe/Berlin", berlin, RP_DATEFMT_DATETIME);
        if (!strstr(s, words[i].weekday) || !strstr(s, words[i].month) ||
            !strstr(s, words[i].time))
            fail_msg("%s: \"%s\"", words[i].lang, s);
        assert_int_equal(strncmp(s, words[i].weekday, strlen(words[i].weekday)), 0);
        s = fmt(f, &b, words[i].lang, "Europe/Berlin", berlin, RP_DATEFMT_DATE);
        assert_non_null(strstr(s, words[i].month));
        assert_null(strstr(s, words[i].time));
    }
    assert_string_equal(fmt(f, &b, "fr", "Europe/Paris", berlin, RP_DATEFMT_DATETIME),
                        "lundi 24 novembre, 09:00 UTC+1");
    assert_string_equal(fmt(f, &b, "it", "Europe/Rome", berlin, RP_DATEFMT_DATETIME),
                        "lunedì 24 novembre, 09:00 CET");
    assert_string_equal(fmt(f, &b, "es", "Europe/Madrid", berlin, RP_DATEFMT_DATETIME),
                        "lunes, 24 de noviembre, 9:00 CET");
    /* "en-GB" style tags are understood */
    assert_string_equal(fmt(f, &b, "en-GB", "Europe/London", berlin, RP_DATEFMT_DATE),
                        "Monday, 24 November");

    /* no narrow or plain no-break spaces anywhere */
    static const char *langs[] = {"en", "de", "fr", "it", "es", "ja"};
    for (size_t i = 0; i < 6; i++)
        for (int style = 0; style < 3; style++) {
            const char *s = fmt(f, &b, langs[i], "America/New_York", ny, (rp_datefmt_style)style);
            assert_null(strstr(s, "\xe2\x80\xaf"));
            assert_null(strstr(s, "\xc2\xa0"));
        }
    /* appends */
    rp_buf_reset(&b);
    rp_error err;
    assert_int_equal(rp_buf_append_str(&b, "Ab "), RP_OK);
    assert_int_equal(rp_datefmt_format(f, "de", "Europe/Berlin", berlin, RP_DATEFMT_DATE, &b, &err),
                     RP_OK);
    assert_string_equal(b.data, "Ab Montag, 24. November");

    /* more combinations than the cache holds still come out right */
    static const char *zones[] = {"Europe/Berlin", "Europe/Paris", "Europe/Rome", "Europe/Madrid",
                                  "Asia/Tokyo"};
    for (int round = 0; round < 2; round++)
        for (size_t z = 0; z < 5; z++)
            for (size_t i = 0; i < 6; i++)
                (void)fmt(f, &b, langs[i], zones[z], berlin, RP_DATEFMT_TIME);
    assert_string_equal(fmt(f, &b, "de", "Europe/Berlin", berlin, RP_DATEFMT_DATETIME),
                        "Montag, 24. November, 09:00 MEZ");

    /* errors */
    rp_buf_reset(&b);
    assert_int_equal(rp_datefmt_format(f, "de", "Mars/Olympus", berlin, RP_DATEFMT_DATE, &b, &err),
                     RP_EINVAL);
    assert_string_equal(err.msg, "unknown time zone 'Mars/Olympus'");
    assert_int_equal(rp_datefmt_format(f, "", "Europe/Berlin", berlin, RP_DATEFMT_DATE, &b, &err),
                     RP_EINVAL);
    assert_int_equal(rp_datefmt_format(f, "de;rm", "Europe/Berlin", berlin, RP_DATEFMT_DATE, &b,
                                       &err),
                     RP_EINVAL);
    assert_int_equal(rp_datefmt_format(f, "de", "Europe/Berlin", INT64_MAX, RP_DATEFMT_DATE, &b,
                                       &err),
                     RP_EINVAL);
    assert_int_equal(rp_datefmt_format(f, "de", "Europe/Berlin", berlin, (rp_datefmt_style)7, &b,
                                       &err),
                     RP_EINVAL);
    assert_int_equal(b.len, 0);
    rp_buf_free(&b);
    rp_datefmt_free(f);
    rp_datefmt_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tz_open),
        cmocka_unit_test(test_tz_range),
        cmocka_unit_test(test_tz_dst_europe),
        cmocka_unit_test(test_tz_dst_us),
        cmocka_unit_test(test_tz_round_trip),
        cmocka_unit_test(test_parse_helpers),
        cmocka_unit_test(test_set_day_errors),
        cmocka_unit_test(test_split_shift),
        cmocka_unit_test(test_next_open_across_dst),
        cmocka_unit_test(test_hours_in_dst_gap_and_overlap),
        cmocka_unit_test(test_overnight),
        cmocka_unit_test(test_holidays),
        cmocka_unit_test(test_ics),
        cmocka_unit_test(test_ics_vtimezone),
        cmocka_unit_test(test_ics_recurrence),
        cmocka_unit_test(test_ics_errors),
        cmocka_unit_test(test_datefmt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
