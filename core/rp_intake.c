/* rp_intake.c — de-duplicate, decide, store. */
#include "rp_intake.h"

#include <string.h>

rp_status rp_intake_store(rp_engine *eng, const rp_config *cfg, rp_queue *q, rp_message *m,
                          int64_t now, rp_decision *d, rp_intake_result *res, rp_error *err)
{
    memset(res, 0, sizeof *res);
    char key[128];
    rp_queue_message_key(m, key, sizeof key);
    bool seen = false;
    rp_status st = rp_queue_seen(q, key, &seen, err);
    if (st != RP_OK)
        return st;
    if (seen) {
        res->duplicate = true;
        return RP_OK;
    }
    if ((st = rp_engine_decide(eng, m, now, d, err)) != RP_OK)
        return st;
    /* Message-IDs of replies are in the seller's sender domain */
    const rp_marketplace_cfg *mk = rp_config_marketplace(cfg, m->marketplace);
    const char *at = mk && mk->sender ? strrchr(mk->sender, '@') : NULL;
    rp_queue_add_info info = {.key = key,
                              .now = now,
                              .sla_seconds = (int64_t)cfg->sla_hours * 3600,
                              .id_domain = at && at[1] ? at + 1 : NULL};
    bool added = false;
    if ((st = rp_queue_add(q, m, d, &info, &res->inbound, &added, err)) != RP_OK)
        return st;
    res->duplicate = !added;
    for (size_t i = 0; added && i < d->nreplies; i++) {
        res->replies++;
        if (d->replies[i].action == RP_ACTION_AUTO_SEND)
            res->automatic++;
        else
            res->pending++;
    }
    return RP_OK;
}
