/* Fuzz the e-mail reader: any bytes must give a message or a clear error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rp_mail.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rp_mail_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rp_limits lim = rp_limits_default();
    lim.max_mime_parts = 50;
    rp_message *m = NULL;
    rp_error err;
    rp_error_clear(&err);
    rp_status st = rp_mail_parse((const char *)data, size, "fuzz", &lim, &m, &err);
    if (st != RP_OK && err.msg[0] == '\0')
        abort(); /* every failure must say why */
    if (st == RP_OK && (!m || !m->body))
        abort();
    rp_message_free(m);
    return 0;
}
