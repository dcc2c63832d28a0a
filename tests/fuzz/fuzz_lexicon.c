/* Fuzz the YAML lexicon loader and, when a document loads, compile and scan. */
#include <stdint.h>
#include <stdlib.h>

#include "rp_buf.h"
#include "rp_lexicon.h"
#include "rp_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rp_lexicon *lx = rp_lexicon_new();
    if (!lx)
        return 0;
    rp_error err;
    rp_error_clear(&err);
    rp_status st = rp_lexicon_load_yaml(lx, (const char *)data, size, "fuzz", &err);
    if (st != RP_OK && err.msg[0] == '\0')
        abort();
    if (st == RP_OK && rp_lexicon_compile(lx, &err) == RP_OK) {
        rp_buf f = {0};
        rp_hits h = {0};
        if (rp_text_fold((const char *)data, size, &f) == RP_OK)
            (void)rp_lexicon_scan(lx, f.data, f.len, &h);
        rp_hits_free(&h);
        rp_buf_free(&f);
    }
    rp_lexicon_free(lx);
    return 0;
}
