#include "rp_datefmt.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ucal.h>
#include <unicode/udat.h>
#include <unicode/udatpg.h>
#include <unicode/ustring.h>

/* Formatters kept per rp_datefmt; the oldest is replaced when all are used. */
#define RP_DATEFMT_CACHE 64
#define RP_DATEFMT_PATTERNS 32
#define RP_DATEFMT_LANG_MAX 32
#define RP_DATEFMT_TZ_MAX 64

typedef struct fmt_entry {
    char lang[RP_DATEFMT_LANG_MAX + 1];
    char tz[RP_DATEFMT_TZ_MAX + 1];
    rp_datefmt_style style;
    UDateFormat *fmt;
} fmt_entry;

/* The pattern depends on language and style only, and the pattern generator
 * that finds it is costly to build: patterns are kept apart from the
 * per-zone formatters, so a new zone for a known language is cheap. */
typedef struct pat_entry {
    char lang[RP_DATEFMT_LANG_MAX + 1];
    rp_datefmt_style style;
    UChar pat[128];
    int32_t plen;
} pat_entry;

struct rp_datefmt {
    fmt_entry e[RP_DATEFMT_CACHE];
    size_t n;    /* entries in use */
    size_t next; /* the one to replace when full */
    pat_entry p[RP_DATEFMT_PATTERNS];
    size_t np, pnext;
};

/* Same range as rp_tz: years 1..9999. */
#define RP_DATEFMT_MIN_T (-62135596800LL)
#define RP_DATEFMT_MAX_T 253402300799LL

rp_datefmt *rp_datefmt_new(void)
{
    return calloc(1, sizeof(rp_datefmt));
}

void rp_datefmt_free(rp_datefmt *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        udat_close(f->e[i].fmt);
    free(f);
}

/* Skeletons (see UTS #35 "availableFormats"): the pattern generator turns
 * them into each language's own order and punctuation. Japanese reads best
 * with the short weekday in brackets, "11月24日(月)". */
static const char *skeleton(const char *lang, rp_datefmt_style style)
{
    bool ja = strncmp(lang, "ja", 2) == 0 && (lang[2] == '\0' || lang[2] == '_');
    switch (style) {
    case RP_DATEFMT_DATE:
        return ja ? "MMMdE" : "EEEEMMMMd";
    case RP_DATEFMT_TIME:
        return "jmz";
    case RP_DATEFMT_DATETIME:
    default:
        return ja ? "MMMdEjmz" : "EEEEMMMMdjmz";
    }
}

/* "de", "en-GB", "pt_BR" -> ICU locale id "en_GB"; false if it is not one */
static bool locale_id(const char *lang, char out[RP_DATEFMT_LANG_MAX + 1])
{
    size_t n = strlen(lang);
    if (n < 2 || n > RP_DATEFMT_LANG_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = lang[i];
        if (c == '-')
            c = '_';
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        bool digit = c >= '0' && c <= '9';
        if (!(alpha || (i >= 2 && (digit || c == '_'))))
            return false;
        out[i] = c;
    }
    /* the language subtag in lower case, as ICU and skeleton() expect */
    for (size_t i = 0; i < n && out[i] != '_'; i++)
        if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] = (char)(out[i] - 'A' + 'a');
    out[n] = '\0';
    return true;
}

static bool zone_ok(const char *tz, UChar *id, size_t cap)
{
    size_t n = strlen(tz);
    if (n == 0 || n > RP_DATEFMT_TZ_MAX || n >= cap)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = tz[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '+'))
            return false;
    }
    u_uastrcpy(id, tz);
    UChar canon[128];
    UBool is_system = 0;
    UErrorCode uerr = U_ZERO_ERROR;
    ucal_getCanonicalTimeZoneID(id, -1, canon, (int32_t)(sizeof canon / sizeof canon[0]),
                                &is_system, &uerr);
    return U_SUCCESS(uerr) && is_system;
}

static rp_status find_pattern(rp_datefmt *f, const char *loc, rp_datefmt_style style,
                              const pat_entry **out, rp_error *err)
{
    for (size_t i = 0; i < f->np; i++)
        if (f->p[i].style == style && strcmp(f->p[i].lang, loc) == 0) {
            *out = &f->p[i];
            return RP_OK;
        }
    UErrorCode uerr = U_ZERO_ERROR;
    UDateTimePatternGenerator *gen = udatpg_open(loc, &uerr);
    if (U_FAILURE(uerr) || !gen) {
        udatpg_close(gen);
        return rp_error_set(err, uerr == U_MEMORY_ALLOCATION_ERROR ? RP_ENOMEM : RP_EINVAL,
                            "date patterns for '%s': %s", loc, u_errorName(uerr));
    }
    /* Dates and times are joined the way the language joins a medium
     * date and time ("Monday, November 24, 9:00 AM"), not with the
     * "at" of the long styles. */
    int32_t jlen = 0;
    const UChar *join = udatpg_getDateTimeFormat(gen, &jlen);
    UChar joined[64];
    if (join && jlen > 0 && jlen < (int32_t)(sizeof joined / sizeof joined[0])) {
        u_strncpy(joined, join, jlen);
        joined[jlen] = 0;
        udatpg_setDateTimeFormat(gen, joined, jlen);
    }
    pat_entry *pe;
    if (f->np < RP_DATEFMT_PATTERNS) {
        pe = &f->p[f->np++];
    } else {
        pe = &f->p[f->pnext];
        f->pnext = (f->pnext + 1) % RP_DATEFMT_PATTERNS;
    }
    UChar skel[32];
    u_uastrcpy(skel, skeleton(loc, style));
    pe->plen = udatpg_getBestPattern(gen, skel, -1, pe->pat,
                                     (int32_t)(sizeof pe->pat / sizeof pe->pat[0]), &uerr);
    udatpg_close(gen);
    if (U_FAILURE(uerr) || uerr == U_STRING_NOT_TERMINATED_WARNING || pe->plen <= 0) {
        pe->lang[0] = '\0'; /* an unusable slot matches no language */
        pe->style = (rp_datefmt_style)-1;
        return rp_error_set(err, RP_EINVAL, "date pattern for '%s': %s", loc, u_errorName(uerr));
    }
    strcpy(pe->lang, loc); /* length checked by locale_id */
    pe->style = style;
    *out = pe;
    return RP_OK;
}

static rp_status build(rp_datefmt *f, const char *loc, const char *tz, rp_datefmt_style style,
                       UDateFormat **out, rp_error *err)
{
    UChar zone[RP_DATEFMT_TZ_MAX + 1];
    if (!zone_ok(tz, zone, sizeof zone / sizeof zone[0]))
        return rp_error_set(err, RP_EINVAL, "unknown time zone '%.64s'", tz);
    const pat_entry *pe = NULL;
    rp_status st = find_pattern(f, loc, style, &pe, err);
    if (st != RP_OK)
        return st;
    UErrorCode uerr = U_ZERO_ERROR;
    const UChar *pat = pe->pat;
    int32_t plen = pe->plen;
    UDateFormat *df = udat_open(UDAT_PATTERN, UDAT_PATTERN, loc, zone, -1, pat, plen, &uerr);
    if (U_FAILURE(uerr) || !df) {
        udat_close(df);
        return rp_error_set(err, uerr == U_MEMORY_ALLOCATION_ERROR ? RP_ENOMEM : RP_EINVAL,
                            "date format for '%s' in '%s': %s", loc, tz, u_errorName(uerr));
    }
    *out = df;
    return RP_OK;
}

static rp_status lookup(rp_datefmt *f, const char *loc, const char *tz, rp_datefmt_style style,
                        UDateFormat **out, rp_error *err)
{
    for (size_t i = 0; i < f->n; i++) {
        fmt_entry *e = &f->e[i];
        if (e->style == style && strcmp(e->lang, loc) == 0 && strcmp(e->tz, tz) == 0) {
            *out = e->fmt;
            return RP_OK;
        }
    }
    UDateFormat *df = NULL;
    rp_status st = build(f, loc, tz, style, &df, err);
    if (st != RP_OK)
        return st;
    fmt_entry *e;
    if (f->n < RP_DATEFMT_CACHE) {
        e = &f->e[f->n++];
    } else {
        e = &f->e[f->next];
        f->next = (f->next + 1) % RP_DATEFMT_CACHE;
        udat_close(e->fmt);
    }
    strcpy(e->lang, loc); /* both lengths checked by locale_id / zone_ok */
    strcpy(e->tz, tz);
    e->style = style;
    e->fmt = df;
    *out = df;
    return RP_OK;
}

rp_status rp_datefmt_format(rp_datefmt *f, const char *lang, const char *tz, int64_t t,
                            rp_datefmt_style style, rp_buf *out, rp_error *err)
{
    char loc[RP_DATEFMT_LANG_MAX + 1];
    if (!lang || !locale_id(lang, loc))
        return rp_error_set(err, RP_EINVAL, "invalid language '%.32s'", lang ? lang : "(null)");
    if (!tz)
        return rp_error_set(err, RP_EINVAL, "no time zone");
    if (style != RP_DATEFMT_DATETIME && style != RP_DATEFMT_DATE && style != RP_DATEFMT_TIME)
        return rp_error_set(err, RP_EINVAL, "invalid date style %d", (int)style);
    if (t < RP_DATEFMT_MIN_T || t > RP_DATEFMT_MAX_T)
        return rp_error_set(err, RP_EINVAL, "time %lld is out of range", (long long)t);
    UDateFormat *df = NULL;
    rp_status st = lookup(f, loc, tz, style, &df, err);
    if (st != RP_OK)
        return st;
    UChar u[256];
    UErrorCode uerr = U_ZERO_ERROR;
    int32_t n = udat_format(df, (UDate)t * 1000.0, u, (int32_t)(sizeof u / sizeof u[0]), NULL,
                            &uerr);
    if (U_FAILURE(uerr) || n < 0 || n >= (int32_t)(sizeof u / sizeof u[0]))
        return rp_error_set(err, RP_EINVAL, "formatting time %lld: %s", (long long)t,
                            u_errorName(uerr));
    /* plain text for marketplaces: no-break and thin spaces become spaces */
    for (int32_t i = 0; i < n; i++)
        if (u[i] == 0x202F || u[i] == 0x00A0 || u[i] == 0x2009)
            u[i] = 0x20;
    char utf8[1024];
    int32_t m = 0;
    uerr = U_ZERO_ERROR;
    u_strToUTF8(utf8, (int32_t)sizeof utf8, &m, u, n, &uerr);
    if (U_FAILURE(uerr) || m < 0 || m >= (int32_t)sizeof utf8)
        return rp_error_set(err, RP_EINVAL, "formatting time %lld: %s", (long long)t,
                            u_errorName(uerr));
    if (rp_buf_append(out, utf8, (size_t)m) != RP_OK)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    return RP_OK;
}
