/* Fuzz the reply compliance checks over arbitrary bytes. The input is split
 * at its first NUL into subject and body (no NUL: no subject, all body); its
 * first byte also picks the options. Every finding must name a check and
 * quote valid UTF-8 that fits its buffer; a second check with the same
 * context must give the same findings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rp_compliance.h"
#include "rp_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void verify(const rp_findings *f)
{
    if (f->n > RP_MAX_FINDINGS)
        abort();
    for (size_t i = 0; i < f->n; i++) {
        const rp_finding *x = &f->items[i];
        size_t l = strnlen(x->text, RP_FINDING_TEXT_MAX);
        if ((unsigned)x->check >= RP_CHECK_COUNT || !x->blocking || l >= RP_FINDING_TEXT_MAX ||
            l == 0 || !rp_utf8_valid(x->text, l))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* built once per process: the phrase automaton takes milliseconds */
    static rp_compliance *plain, *phones_ok;
    if (!plain) {
        rp_compliance_opts o;
        rp_error err;
        rp_compliance_opts_default(&o);
        if (rp_compliance_new(&o, &plain, &err) != RP_OK)
            abort();
        o.allow_phone = true;
        o.max_subject_chars = 20;
        o.max_body_chars = 100;
        if (rp_compliance_new(&o, &phones_ok, &err) != RP_OK)
            abort();
    }
    const uint8_t *nul = memchr(data, 0, size);
    char *subject = NULL, *body;
    if (nul) {
        subject = malloc((size_t)(nul - data) + 1);
        if (!subject)
            return 0;
        memcpy(subject, data, (size_t)(nul - data));
        subject[nul - data] = '\0';
        size_t bl = size - (size_t)(nul - data) - 1;
        body = malloc(bl + 1);
        if (body) {
            memcpy(body, nul + 1, bl);
            body[bl] = '\0';
        }
    } else {
        body = malloc(size + 1);
        if (body) {
            memcpy(body, data, size);
            body[size] = '\0';
        }
    }
    if (!body) {
        free(subject);
        return 0;
    }
    /* body may hold further NULs: the check sees the text up to the first */
    const rp_compliance *c = (size && (data[0] & 1)) ? phones_ok : plain;
    rp_compliance_ctx ctx = {0};
    rp_findings f1, f2;
    if (rp_compliance_check(c, &ctx, subject, body, &f1) == RP_OK) {
        verify(&f1);
        if (rp_compliance_check(c, &ctx, subject, body, &f2) != RP_OK || f1.n != f2.n ||
            f1.truncated != f2.truncated)
            abort();
        for (size_t i = 0; i < f1.n; i++)
            if (f1.items[i].check != f2.items[i].check ||
                strcmp(f1.items[i].text, f2.items[i].text) != 0)
                abort();
    }
    rp_compliance_ctx_free(&ctx);
    free(subject);
    free(body);
    return 0;
}
