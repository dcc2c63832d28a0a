/* rp_datefmt.h — dates and times written the way each language writes them.
 *
 * ICU formats an instant for a language (en, de, fr, it, es, ja) in an IANA
 * time zone: "Monday, November 24, 9:00 AM EST", "Montag, 24. November,
 * 09:00 MEZ", "11月24日(月) 9:00". Formatters are expensive to build, so an
 * rp_datefmt keeps one per (language, zone, style) it has used; it is not
 * thread-safe. The caller owns it (rp_datefmt_free). Errors: RP_EINVAL for an
 * unknown zone or a time ICU rejects, RP_ENOMEM.
 */
#ifndef RP_DATEFMT_H
#define RP_DATEFMT_H

#include <stdint.h>

#include "rp_buf.h"
#include "rp_error.h"

typedef enum rp_datefmt_style {
    RP_DATEFMT_DATETIME = 0, /* weekday, day, month, time, zone */
    RP_DATEFMT_DATE = 1,     /* weekday, day, month */
    RP_DATEFMT_TIME = 2,     /* time and zone */
} rp_datefmt_style;

typedef struct rp_datefmt rp_datefmt;

rp_datefmt *rp_datefmt_new(void); /* NULL on ENOMEM */
void rp_datefmt_free(rp_datefmt *f);

/* Append the formatted instant t (Unix seconds) to out. */
rp_status rp_datefmt_format(rp_datefmt *f, const char *lang, const char *tz, int64_t t,
                            rp_datefmt_style style, rp_buf *out, rp_error *err);

#endif
