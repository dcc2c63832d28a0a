/* Fuzz the HTML-to-text reduction: output must be valid UTF-8 when input is. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rp_html.h"
#include "rp_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *t = rp_html_to_text((const char *)data, size);
    if (!t)
        abort();
    if (rp_utf8_valid((const char *)data, size) && !rp_utf8_valid(t, strlen(t)))
        abort();
    free(t);
    return 0;
}
