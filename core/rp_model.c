#include "rp_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_embedded.h"

static const rp_lang latin[] = {RP_LANG_EN, RP_LANG_DE, RP_LANG_FR, RP_LANG_IT, RP_LANG_ES};
static const rp_lang all_langs[] = {RP_LANG_EN, RP_LANG_DE, RP_LANG_FR,
                                    RP_LANG_IT, RP_LANG_ES, RP_LANG_JA};

rp_status rp_model_load(const rp_config *cfg, rp_classifier **out, rp_error *err)
{
    *out = NULL;
    rp_lexicon *lx = rp_lexicon_new();
    rp_langid *li = rp_langid_new();
    rp_status st = RP_OK;
    char name[64];
    if (!lx || !li) {
        st = rp_error_set(err, RP_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; cfg->builtin_lexicons && i < sizeof all_langs / sizeof all_langs[0]; i++) {
        snprintf(name, sizeof name, "lexicons/%s.yaml", rp_lang_code(all_langs[i]));
        const rp_embedded_file *f = rp_embedded_find(name);
        if (!f) {
            st = rp_error_set(err, RP_ECONFIG, "built-in data %s is missing", name);
            goto fail;
        }
        st = rp_lexicon_load_yaml(lx, (const char *)f->data, f->len, name, err);
        if (st != RP_OK)
            goto fail;
    }
    for (size_t i = 0; i < cfg->nlexicons; i++) {
        char *data;
        size_t len;
        st = rp_read_file(cfg->lexicons[i], 64u << 20, &data, &len, err);
        if (st != RP_OK)
            goto fail;
        st = rp_lexicon_load_yaml(lx, data, len, cfg->lexicons[i], err);
        free(data);
        if (st != RP_OK)
            goto fail;
    }
    if ((st = rp_lexicon_compile(lx, err)) != RP_OK)
        goto fail;
    for (size_t i = 0; i < sizeof latin / sizeof latin[0]; i++) {
        snprintf(name, sizeof name, "langid/%s.txt", rp_lang_code(latin[i]));
        const rp_embedded_file *f = rp_embedded_find(name);
        if (!f) {
            st = rp_error_set(err, RP_ECONFIG, "built-in data %s is missing", name);
            goto fail;
        }
        st = rp_langid_add_list(li, latin[i], (const char *)f->data, f->len, name, err);
        if (st != RP_OK)
            goto fail;
    }
    if ((st = rp_langid_finish(li, err)) != RP_OK)
        goto fail;
    *out = rp_classifier_new(lx, li, &cfg->classifier);
    if (!*out)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    return RP_OK;
fail:
    rp_lexicon_free(lx);
    rp_langid_free(li);
    return st;
}
