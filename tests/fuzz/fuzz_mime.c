/* Fuzz the e-mail reader: any bytes must give a message or a clear error,
 * and the single-part fast path must read a message as GMime does. */
#include <stdint.h>
#include <stdio.h>
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

static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rp_limits lim = rp_limits_default();
    lim.max_mime_parts = 50;
    rp_message *m = NULL, *g = NULL;
    rp_error err, gerr;
    rp_error_clear(&err);
    rp_status st = rp_mail_parse((const char *)data, size, "fuzz", &lim, &m, &err);
    if (st != RP_OK && err.msg[0] == '\0')
        abort(); /* every failure must say why */
    if (st == RP_OK && (!m || !m->body))
        abort();
    /* differential: the same message through GMime only */
    lim.mail_fast_path = 0;
    rp_status gst = rp_mail_parse((const char *)data, size, "fuzz", &lim, &g, &gerr);
    if (st == RP_OK && gst == RP_OK && (!same(m->body, g->body) || !same(m->subject, g->subject))) {
        fprintf(stderr, "fast path and GMime disagree:\nbody  \"%s\"\n vs   \"%s\"\nsubject \"%s\"\n vs   \"%s\"\n",
                m->body, g->body, m->subject ? m->subject : "(null)",
                g->subject ? g->subject : "(null)");
        abort();
    }
    rp_message_free(m);
    rp_message_free(g);
    return 0;
}
