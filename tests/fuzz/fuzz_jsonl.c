/* Fuzz the JSON Lines reader through a memory stream, several lines at once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rp_jsonl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fmemopen((void *)data, size ? size : 1, "rb");
    if (!f)
        return 0;
    if (!size)
        fgetc(f);
    rp_limits lim = rp_limits_default();
    lim.max_message_bytes = 4096;
    rp_jsonl_reader *r = rp_jsonl_open(f, "fuzz", &lim);
    for (int i = 0; r && i < 10000; i++) {
        rp_message *m = NULL;
        rp_error err;
        rp_error_clear(&err);
        rp_status st = rp_jsonl_next(r, &m, &err);
        if (st == RP_EOF)
            break;
        if (st != RP_OK && err.msg[0] == '\0')
            abort();
        rp_message_free(m);
        if (st == RP_EIO)
            break;
    }
    rp_jsonl_close(r);
    fclose(f);
    return 0;
}
