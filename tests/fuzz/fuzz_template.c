/* Fuzz the template loader and renderer: the input is a template file; when it
 * loads, every language is rendered with all variables set, with none set and
 * with mixes decided by the input's first bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rp_template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const langs[] = {"en", "de", "fr", "it", "es", "ja"};

static void render_all(const rp_template *tp, const rp_tvars *v)
{
    for (size_t l = 0; l < sizeof langs / sizeof langs[0]; l++) {
        rp_buf s = {0}, b = {0};
        rp_error err;
        rp_error_clear(&err);
        rp_status st = rp_template_render(tp, langs[l], v, &s, &b, &err);
        bool has = rp_template_has_lang(tp, langs[l]);
        if (st != RP_OK && err.msg[0] == '\0')
            abort();
        if (!has && st != RP_EINVAL)
            abort();
        if (st == RP_OK) {
            /* a subject is one line; a body does not end with a line break */
            if (s.data && (memchr(s.data, '\n', s.len) || memchr(s.data, '\r', s.len)))
                abort();
            if (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
                abort();
        }
        if (has && (rp_template_vars_used(tp, langs[l]) >> RP_TVAR_COUNT) != 0)
            abort();
        rp_buf_free(&s);
        rp_buf_free(&b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rp_templates *t = rp_templates_new();
    if (!t)
        return 0;
    rp_error err;
    rp_error_clear(&err);
    rp_status st = rp_templates_add(t, (const char *)data, size, "fuzz.yaml", &err);
    if (st != RP_OK && err.msg[0] == '\0')
        abort();
    if (st == RP_OK) {
        if (rp_templates_count(t) != 1)
            abort();
        const rp_template *tp = rp_templates_at(t, 0);
        if (rp_templates_find(t, rp_template_id(tp)) != tp)
            abort();
        const char *pick = rp_template_pick_lang(tp, "ja", "de");
        if (pick && !rp_template_has_lang(tp, pick))
            abort();
        rp_tvars all, none, mix;
        memset(&none, 0, sizeof none);
        unsigned mask = size >= 2 ? (unsigned)data[0] | (unsigned)data[1] << 8 : 0x155;
        for (int i = 0; i < RP_TVAR_COUNT; i++) {
            all.v[i] = i == RP_TVAR_SUBJECT ? "a\r\nsubject\twith breaks" : "value {{x}}\n";
            mix.v[i] = (mask >> i) & 1 ? "v" : (mask >> (i + 9)) & 1 ? "" : NULL;
        }
        render_all(tp, &all);
        render_all(tp, &none);
        render_all(tp, &mix);
        render_all(tp, NULL);
    }
    rp_templates_free(t);
    return 0;
}
