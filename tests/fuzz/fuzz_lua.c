/* Fuzz the Lua rule host: any text either loads as a rule or fails with a
 * message; a rule that loads is run twice against a fixed message and must
 * come back (within its limits) with a valid outcome or an error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rp_lua.h"
#include "rp_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rp_lua_limits lim;
    rp_lua_limits_default(&lim);
    lim.instructions = 200000;
    lim.memory = 4u << 20;
    lim.time_ms = 50;
    rp_rule *r = NULL;
    rp_error err;
    rp_error_clear(&err);
    rp_status st = rp_lua_rule_load((const char *)data, size, "fuzz.lua", &lim, &r, &err);
    if (st != RP_OK) {
        if (err.msg[0] == '\0' || r)
            abort();
        return 0;
    }
    rp_message m;
    memset(&m, 0, sizeof m);
    m.id = "m1";
    m.subject = "Bestellung";
    m.body = "Wo ist meine Bestellung? 注文はまだ届きません。";
    m.marketplace = "amazon.de";
    m.received_at = 1764000000;
    rp_rule_input in;
    memset(&in, 0, sizeof in);
    in.msg = &m;
    in.language = "de";
    in.intent = "order_status";
    in.marketplace = "amazon.de";
    in.folded_body = " wo ist meine bestellung ";
    in.folded_len = strlen(in.folded_body);
    in.team_tz = "Europe/Berlin";
    in.buyer_tz = "Europe/Berlin";
    in.team_local = (rp_civil){2026, 11, 24, 23, 30, 0, 1, 3600};
    in.buyer_local = in.team_local;
    in.sched.holiday_end = RP_TIME_UNKNOWN;
    in.sched.next_open = 1764057600;
    rp_arena arena = {0};
    for (int round = 0; round < 2; round++) {
        rp_outcome out;
        memset(&out, 0, sizeof out);
        bool matched = false;
        rp_error_clear(&err);
        st = r->eval(r, &in, &arena, &out, &matched, &err);
        if (st == RP_OK && matched) {
            if (out.nreplies > RP_MAX_REPLIES || out.ntags > RP_MAX_TAGS)
                abort();
            for (size_t i = 0; i < out.nreplies; i++)
                if (!out.replies[i].template_id)
                    abort();
        } else if (st != RP_OK && st != RP_ENOMEM && err.msg[0] == '\0') {
            abort();
        }
        rp_arena_reset(&arena);
    }
    rp_arena_free(&arena);
    rp_rule_free(r);
    return 0;
}
