/* Fuzz the configuration parser. */
#include <stdint.h>
#include <stdlib.h>

#include "rp_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rp_config *c = NULL;
    rp_error err;
    rp_error_clear(&err);
    rp_status st = rp_config_parse((const char *)data, size, "fuzz", NULL, &c, &err);
    if (st != RP_OK && err.msg[0] == '\0')
        abort();
    rp_config_free(c);
    return 0;
}
