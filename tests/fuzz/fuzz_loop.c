/* Fuzz loop protection: any mail gives a verdict whose detail never quotes
 * the sender, and address parsing and glob matching stay in bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_config.h"
#include "rp_loop.h"
#include "rp_mail.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_state {
    rp_config *cfg;
    rp_loop *loop;
} fuzz_state;

static fuzz_state *state(void)
{
    static fuzz_state s; /* built once per fuzzing process */
    if (!s.loop) {
        rp_error err;
        if (rp_config_load_default(&s.cfg, &err) != RP_OK || rp_loop_new(s.cfg, &s.loop, &err))
            abort();
    }
    return &s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rp_mail_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_state *s = state();
    /* the first line is a glob pattern, the rest a message */
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : 0;
    char pattern[256];
    if (plen >= sizeof pattern)
        plen = sizeof pattern - 1;
    memcpy(pattern, data, plen);
    pattern[plen] = 0;
    const char *msg = nl ? (const char *)nl + 1 : (const char *)data;
    size_t mlen = nl ? size - (size_t)(nl + 1 - data) : size;

    rp_limits lim = rp_limits_default();
    lim.max_mime_parts = 50;
    rp_message *m = NULL;
    rp_error err;
    if (rp_mail_parse(msg, mlen, "fuzz", &lim, &m, &err) != RP_OK) {
        rp_message_free(m); /* a failed read may still hand back what it had */
        return 0;
    }
    char detail[256];
    rp_loop_reason r = rp_loop_check(s->loop, m, detail, sizeof detail);
    if (r >= RP_LOOP_REASON_COUNT || strcmp(rp_loop_reason_name(r), "unknown") == 0)
        abort();
    char addr[320];
    size_t alen = rp_loop_bare_address(m->from, addr, sizeof addr);
    if (alen >= sizeof addr)
        abort();
    /* the detail never quotes the sender's address (a bare "MAILER-DAEMON" is
     * a name the detail may give, not an address) */
    if (r != RP_LOOP_NONE && strchr(addr, '@') && !strchr(addr, '*') && strstr(detail, addr))
        abort();
    char key[65];
    rp_loop_sender_key(m->from, key);
    if (alen && strlen(key) != 64)
        abort();
    if (m->from)
        (void)rp_loop_glob_match(pattern, m->from);
    rp_message_free(m);
    return 0;
}
