#include "rp_message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rp_buf.h"

rp_message *rp_message_new(void)
{
    rp_message *m = calloc(1, sizeof *m);
    if (m)
        m->received_at = RP_TIME_UNKNOWN;
    return m;
}

void rp_message_free(rp_message *m)
{
    if (!m)
        return;
    free(m->id);
    free(m->source);
    free(m->marketplace);
    free(m->from);
    free(m->to);
    free(m->subject);
    free(m->body);
    free(m->order_id);
    for (size_t i = 0; i < m->nheaders; i++) {
        free(m->headers[i].name);
        free(m->headers[i].value);
    }
    free(m->headers);
    free(m->raw);
    free(m);
}

rp_status rp_message_add_header(rp_message *m, const char *name, const char *value)
{
    rp_header *h = m->headers;
    if ((m->nheaders & (m->nheaders - 1)) == 0) { /* 0, 1, 2, 4, 8…: grow to double */
        h = realloc(m->headers, (m->nheaders ? m->nheaders * 2 : 1) * sizeof *h);
        if (!h)
            return RP_ENOMEM;
        m->headers = h;
    }
    char *n = rp_strdup(name);
    char *v = rp_strdup(value ? value : "");
    if (!n || !v) {
        free(n);
        free(v);
        return RP_ENOMEM;
    }
    h[m->nheaders].name = n;
    h[m->nheaders].value = v;
    m->nheaders++;
    return RP_OK;
}

const char *rp_message_header(const rp_message *m, const char *name)
{
    for (size_t i = 0; i < m->nheaders; i++)
        if (strcasecmp(m->headers[i].name, name) == 0)
            return m->headers[i].value;
    return NULL;
}

rp_status rp_message_set(char **field, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = rp_strdup(value)))
        return RP_ENOMEM;
    free(*field);
    *field = copy;
    return RP_OK;
}

int64_t rp_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void rp_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
    const int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (mm <= 2));
    *m = mm;
    *d = dd;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

rp_status rp_parse_iso8601(const char *s, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    size_t n = strlen(s);
    if (n < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
        s[7] != '-' || digits(s + 8, 2, &d))
        return RP_EINVAL;
    const char *p = s + 10;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (strlen(p) < 5 || digits(p, 2, &h) || p[2] != ':' || digits(p + 3, 2, &mi))
            return RP_EINVAL;
        p += 5;
        if (*p == ':') {
            if (digits(p + 1, 2, &sec))
                return RP_EINVAL;
            p += 3;
            if (*p == '.' || *p == ',') { /* fractional seconds: ignored */
                p++;
                while (*p >= '0' && *p <= '9')
                    p++;
            }
        }
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om = 0;
        int sign = *p == '-' ? -1 : 1;
        p++;
        if (digits(p, 2, &oh))
            return RP_EINVAL;
        p += 2;
        if (*p == ':')
            p++;
        if (*p) {
            if (digits(p, 2, &om))
                return RP_EINVAL;
            p += 2;
        }
        if (oh > 23 || om > 59)
            return RP_EINVAL;
        offset = sign * (oh * 3600 + om * 60);
    }
    if (*p)
        return RP_EINVAL;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
        return RP_EINVAL;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return RP_EINVAL;
    *out = rp_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
           offset;
    return RP_OK;
}

void rp_format_iso8601(int64_t t, char *buf, size_t size)
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t rem = t - days * 86400;
    int y, m, d;
    rp_civil_from_days(days, &y, &m, &d);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}
