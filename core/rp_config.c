#include "rp_config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rp_yaml.h"

#include "rp_buf.h"
#include "rp_embedded.h"

rp_status rp_read_file(const char *path, size_t max, char **data, size_t *len, rp_error *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return rp_error_set(err, RP_EIO, "%s: %s", path, strerror(errno));
    rp_buf b = {0};
    char chunk[65536];
    size_t n;
    rp_status st = RP_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > max) {
            st = rp_error_set(err, RP_ELIMIT, "%s: larger than %zu bytes", path, max);
            break;
        }
        if (rp_buf_append(&b, chunk, n) != RP_OK) {
            st = rp_error_set(err, RP_ENOMEM, "%s: out of memory", path);
            break;
        }
    }
    if (st == RP_OK && ferror(f))
        st = rp_error_set(err, RP_EIO, "%s: read error", path);
    fclose(f);
    if (st != RP_OK) {
        rp_buf_free(&b);
        return st;
    }
    *len = b.len;
    *data = rp_buf_steal(&b);
    return *data ? RP_OK : rp_error_set(err, RP_ENOMEM, "out of memory");
}

void rp_config_free(rp_config *c)
{
    if (!c)
        return;
    free(c->path);
    for (size_t i = 0; i < c->nlexicons; i++)
        free(c->lexicons[i]);
    free(c->lexicons);
    free(c);
}

typedef struct cctx {
    yaml_document_t *doc;
    const char *name;
    const char *base;
    rp_error *err;
} cctx;

static rp_status cerr(cctx *c, yaml_node_t *n, const char *fmt, const char *a)
    __attribute__((format(printf, 3, 0)));

static rp_status cerr(cctx *c, yaml_node_t *n, const char *fmt, const char *a)
{
    char msg[200];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(msg, sizeof msg, fmt, a ? a : "");
#pragma GCC diagnostic pop
    return rp_error_set(c->err, RP_ECONFIG, "%s:%zu:%zu: %s", c->name,
                        n ? n->start_mark.line + 1 : 0, n ? n->start_mark.column + 1 : 0, msg);
}


static rp_status get_uint(cctx *c, yaml_node_t *n, unsigned long long lo, unsigned long long hi,
                          unsigned long long *out)
{
    const char *s = rp_yaml_scalar(n);
    char *end;
    if (!s || !*s || *s == '-')
        return cerr(c, n, "expected a whole number%s", NULL);
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi) {
        char range[96];
        snprintf(range, sizeof range, " between %llu and %llu", lo, hi);
        return cerr(c, n, "expected a whole number%s", range);
    }
    *out = v;
    return RP_OK;
}

static rp_status get_double(cctx *c, yaml_node_t *n, double lo, double hi, double *out)
{
    const char *s = rp_yaml_scalar(n);
    char *end;
    if (!s || !*s)
        return cerr(c, n, "expected a number%s", NULL);
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || v < lo || v > hi)
        return cerr(c, n, "expected a number in range%s", NULL);
    *out = v;
    return RP_OK;
}

static char *resolve(const char *base, const char *p)
{
    if (p[0] == '/' || !base)
        return rp_strdup(p);
    rp_buf b = {0};
    if (rp_buf_printf(&b, "%s/%s", base, p) != RP_OK) {
        rp_buf_free(&b);
        return NULL;
    }
    return rp_buf_steal(&b);
}

static rp_status parse_limits(cctx *c, rp_config *cfg, yaml_node_t *m)
{
    if (m->type != YAML_MAPPING_NODE)
        return cerr(c, m, "'limits' must be a mapping%s", NULL);
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *ks = rp_yaml_scalar(k);
        unsigned long long u;
        rp_status st;
        if (ks && strcmp(ks, "max_message_bytes") == 0) {
            if ((st = get_uint(c, v, 1024, 1ull << 30, &u)) != RP_OK)
                return st;
            cfg->limits.max_message_bytes = (size_t)u;
        } else if (ks && strcmp(ks, "max_mime_depth") == 0) {
            if ((st = get_uint(c, v, 1, 200, &u)) != RP_OK)
                return st;
            cfg->limits.max_mime_depth = (unsigned)u;
        } else if (ks && strcmp(ks, "max_mime_parts") == 0) {
            if ((st = get_uint(c, v, 1, 100000, &u)) != RP_OK)
                return st;
            cfg->limits.max_mime_parts = (unsigned)u;
        } else {
            return cerr(c, k, "unknown key in 'limits': %s", ks ? ks : "(non-scalar)");
        }
    }
    return RP_OK;
}

static rp_status parse_classifier(cctx *c, rp_config *cfg, yaml_node_t *m)
{
    if (m->type != YAML_MAPPING_NODE)
        return cerr(c, m, "'classifier' must be a mapping%s", NULL);
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *ks = rp_yaml_scalar(k);
        rp_status st = RP_OK;
        unsigned long long u;
        if (ks && strcmp(ks, "min_score") == 0) {
            st = get_double(c, v, 0.01, 100, &cfg->classifier.min_score);
        } else if (ks && strcmp(ks, "subject_weight") == 0) {
            st = get_double(c, v, 0, 10, &cfg->classifier.subject_weight);
        } else if (ks && strcmp(ks, "negation_window") == 0) {
            st = get_uint(c, v, 0, 20, &u);
            cfg->classifier.negation_window = (int)u;
        } else if (ks && strcmp(ks, "builtin_lexicons") == 0) {
            const char *b = rp_yaml_scalar(v);
            if (b && (strcmp(b, "true") == 0 || strcmp(b, "yes") == 0))
                cfg->builtin_lexicons = true;
            else if (b && (strcmp(b, "false") == 0 || strcmp(b, "no") == 0))
                cfg->builtin_lexicons = false;
            else
                st = cerr(c, v, "'builtin_lexicons' must be true or false%s", NULL);
        } else if (ks && strcmp(ks, "lexicons") == 0) {
            if (v->type == YAML_SCALAR_NODE && !*rp_yaml_scalar(v))
                continue;
            if (v->type != YAML_SEQUENCE_NODE)
                return cerr(c, v, "'lexicons' must be a list of file paths%s", NULL);
            for (yaml_node_item_t *it = v->data.sequence.items.start;
                 it < v->data.sequence.items.top; it++) {
                yaml_node_t *e = yaml_document_get_node(c->doc, *it);
                const char *path = rp_yaml_scalar(e);
                if (!path || !*path)
                    return cerr(c, e, "a lexicon entry must be a file path%s", NULL);
                char **nl = realloc(cfg->lexicons, (cfg->nlexicons + 1) * sizeof *nl);
                if (!nl)
                    return rp_error_set(c->err, RP_ENOMEM, "out of memory");
                cfg->lexicons = nl;
                if (!(nl[cfg->nlexicons] = resolve(c->base, path)))
                    return rp_error_set(c->err, RP_ENOMEM, "out of memory");
                cfg->nlexicons++;
            }
        } else {
            return cerr(c, k, "unknown key in 'classifier': %s", ks ? ks : "(non-scalar)");
        }
        if (st != RP_OK)
            return st;
    }
    return RP_OK;
}

static rp_status parse_root(cctx *c, rp_config *cfg, yaml_node_t *root)
{
    if (!root)
        return RP_OK; /* an empty file changes nothing */
    if (root->type == YAML_SCALAR_NODE && !*rp_yaml_scalar(root))
        return RP_OK;
    if (root->type != YAML_MAPPING_NODE)
        return cerr(c, root, "the configuration must be a mapping%s", NULL);
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *ks = rp_yaml_scalar(k);
        rp_status st;
        if (ks && strcmp(ks, "limits") == 0)
            st = parse_limits(c, cfg, v);
        else if (ks && strcmp(ks, "classifier") == 0)
            st = parse_classifier(c, cfg, v);
        else
            st = cerr(c, k, "unknown key: %s", ks ? ks : "(non-scalar)");
        if (st != RP_OK)
            return st;
    }
    return RP_OK;
}

static rp_status parse_into(rp_config *cfg, const char *data, size_t len, const char *name,
                            const char *base, rp_error *err)
{
    yaml_document_t doc;
    rp_status st = rp_yaml_load(data, len, name, &doc, err);
    if (st != RP_OK)
        return st;
    cctx c = {&doc, name, base, err};
    st = parse_root(&c, cfg, yaml_document_get_root_node(&doc));
    yaml_document_delete(&doc);
    return st;
}

static rp_config *new_defaults(void)
{
    rp_config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->limits = rp_limits_default();
    c->builtin_lexicons = true;
    rp_classifier_opts_default(&c->classifier);
    return c;
}

rp_status rp_config_parse(const char *data, size_t len, const char *name, const char *base_dir,
                          rp_config **out, rp_error *err)
{
    *out = NULL;
    rp_config *cfg = new_defaults();
    if (!cfg || !(cfg->path = rp_strdup(name))) {
        rp_config_free(cfg);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    const rp_embedded_file *def = rp_embedded_find("replyd.default.yaml");
    rp_status st = RP_OK;
    if (def)
        st = parse_into(cfg, (const char *)def->data, def->len, "(built-in)", NULL, err);
    if (st == RP_OK && data)
        st = parse_into(cfg, data, len, name, base_dir, err);
    if (st != RP_OK) {
        rp_config_free(cfg);
        return st;
    }
    *out = cfg;
    return RP_OK;
}

rp_status rp_config_load_default(rp_config **out, rp_error *err)
{
    return rp_config_parse(NULL, 0, "(built-in)", NULL, out, err);
}

rp_status rp_config_load_file(const char *path, rp_config **out, rp_error *err)
{
    char *data;
    size_t len;
    rp_status st = rp_read_file(path, 4u << 20, &data, &len, err);
    if (st != RP_OK)
        return st;
    char *base = rp_strdup(path);
    if (!base) {
        free(data);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    char *slash = strrchr(base, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(base, ".");
    st = rp_config_parse(data, len, path, base, out, err);
    free(base);
    free(data);
    return st;
}
