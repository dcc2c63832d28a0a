/* Fuzz the YAML rule loader: any input either loads or fails with a message;
 * what loads is evaluated against a fixed message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rp_rules.h"
#include "rp_rules_yaml.h"
#include "rp_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rp_ruleset *rs = rp_ruleset_new();
    if (!rs)
        return 0;
    rp_rule_tests tests = {0};
    rp_error err;
    rp_error_clear(&err);
    rp_status st = rp_rules_yaml_load((const char *)data, size, "fuzz", rs, &tests, &err);
    if (st != RP_OK && err.msg[0] == '\0')
        abort();
    if (rp_ruleset_finish(rs) != RP_OK) {
        rp_rule_tests_free(&tests);
        rp_ruleset_free(rs);
        return 0;
    }
    static const char body[] = "Wo ist meine Bestellung? 注文はまだ届きません。";
    rp_buf fold = {0};
    if (rp_text_fold(body, sizeof body - 1, &fold) == RP_OK) {
        rp_message m;
        memset(&m, 0, sizeof m);
        m.body = (char *)body;
        rp_rule_input in;
        memset(&in, 0, sizeof in);
        in.msg = &m;
        in.language = "de";
        in.intent = "order_status";
        in.marketplace = "amazon.de";
        in.folded_body = fold.data;
        in.folded_len = fold.len;
        in.team_local = (rp_civil){2026, 11, 24, 23, 30, 0, 1, 3600};
        in.buyer_local = in.team_local;
        rp_arena arena = {0};
        rp_rule_result res;
        if (rp_ruleset_run(rs, &in, &arena, &res) == RP_OK) {
            for (size_t i = 0; i < res.nmatches; i++) {
                const rp_outcome *o = &res.matches[i].outcome;
                if (o->nreplies > RP_MAX_REPLIES || o->ntags > RP_MAX_TAGS)
                    abort();
                for (size_t r = 0; r < o->nreplies; r++)
                    if (!o->replies[r].template_id)
                        abort();
            }
        }
        rp_arena_free(&arena);
    }
    rp_buf_free(&fold);
    rp_rule_tests_free(&tests);
    rp_ruleset_free(rs);
    return 0;
}
