/* Fuzz the iCalendar holiday import, then ask the schedule about a few
 * instants so that whatever was imported is also looked up. */
#include <stdint.h>
#include <stdlib.h>

#include "rp_schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rp_tz *tz = NULL;
    rp_error err;
    rp_error_clear(&err);
    if (rp_tz_open("Europe/Berlin", &tz, &err) != RP_OK)
        abort();
    rp_schedule *s = rp_schedule_new(tz);
    if (!s)
        abort();
    if (rp_schedule_set_day(s, 0, "09:00-12:30, 13:30-18:00", &err) != RP_OK ||
        rp_schedule_set_day(s, 4, "22:00-06:00", &err) != RP_OK)
        abort();
    rp_status st = rp_schedule_load_ics(s, (const char *)data, size, "fuzz.ics", &err);
    if (st != RP_OK && err.msg[0] == '\0')
        abort();
    static const int64_t probes[] = {1767225600, 1774746000, 1798189200, 1903852800};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        rp_sched_state out;
        if (rp_schedule_state(s, probes[i], &out, &err) != RP_OK)
            abort();
        if (out.open && out.next_open != probes[i])
            abort();
        if (out.holiday && out.holiday_end <= probes[i])
            abort();
    }
    rp_schedule_free(s);
    return 0;
}
