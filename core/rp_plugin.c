/* rp_plugin.c — dlopen()ing plugins and keeping sink instances. */
#include "rp_plugin.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rp_buf.h"
#include "rp_engine.h"
#include "rp_text.h"

#ifndef RP_PLUGIN_DIR
#define RP_PLUGIN_DIR "/usr/local/lib/replyd/plugins"
#endif

typedef struct loaded {
    char *plugin;
    void *handle;
    const rp_plugin_info *info;
} loaded;

struct rp_sink {
    const rp_sink_cfg *cfg;
    loaded *plugin;
    void *instance;
    int opened;
};

struct rp_sinks {
    const rp_config *cfg;
    char *prog;
    rp_plugin_host host;
    loaded *plugins;
    size_t nplugins;
    rp_sink *sinks;  /* one per configured sink, same order */
    void (*log_fn)(void *ctx, int level, const char *msg);
    void *log_ctx;
};

static void host_log(void *ctx, int level, const char *msg)
{
    rp_sinks *s = ctx;
    if (s->log_fn) {
        s->log_fn(s->log_ctx, level, msg ? msg : "");
        return;
    }
    if (level >= RP_LOG_DEBUG)
        return; /* the command-line tools show what matters to an operator */
    static const char *const names[] = {"error", "warning", "info", "debug"};
    rp_buf b = {0};
    if (rp_redact(msg ? msg : "", &b) == RP_OK && rp_buf_append_char(&b, '\0') == RP_OK)
        fprintf(stderr, "%s: plugin: %s: %s\n", s->prog,
                (unsigned)level < 4 ? names[level] : "log", b.data);
    rp_buf_free(&b);
}

rp_status rp_sinks_new(const rp_config *cfg, const char *prog, rp_sinks **out, rp_error *err)
{
    *out = NULL;
    rp_sinks *s = calloc(1, sizeof *s);
    if (!s || !(s->prog = rp_strdup(prog ? prog : "replyd")) ||
        !(s->sinks = calloc(cfg->nsinks + 1, sizeof *s->sinks))) {
        rp_sinks_free(s);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    s->cfg = cfg;
    for (size_t i = 0; i < cfg->nsinks; i++)
        s->sinks[i].cfg = &cfg->sinks[i];
    s->host.abi = RP_PLUGIN_ABI;
    s->host.ctx = s;
    s->host.log = host_log;
    s->host.base_dir = cfg->base_dir ? cfg->base_dir : ".";
    *out = s;
    return RP_OK;
}

void rp_sinks_free(rp_sinks *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->sinks && i < s->cfg->nsinks; i++)
        if (s->sinks[i].opened)
            s->sinks[i].plugin->info->sink->close(s->sinks[i].instance);
    for (size_t i = 0; i < s->nplugins; i++) {
        if (s->plugins[i].handle)
            dlclose(s->plugins[i].handle);
        free(s->plugins[i].plugin);
    }
    free(s->plugins);
    free(s->sinks);
    free(s->prog);
    free(s);
}

/* The folder the running program is in, into out ("" if unknown). */
static void exe_dir(char *out, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", out, size - 1);
    if (n <= 0) {
        out[0] = 0;
        return;
    }
    out[n] = 0;
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = 0;
    else
        out[0] = 0;
}

rp_status rp_plugin_find(const rp_config *cfg, const char *plugin, char *out, size_t size,
                         rp_error *err)
{
    char self[4096];
    exe_dir(self, sizeof self);
    char next[4200];
    snprintf(next, sizeof next, "%s/plugins", self);
    const char *dirs[4] = {cfg->plugin_dir, getenv("REPLYD_PLUGIN_DIR"), self[0] ? next : NULL,
                           RP_PLUGIN_DIR};
    char tried[1024] = "";
    for (int i = 0; i < 4; i++) {
        if (!dirs[i] || !*dirs[i])
            continue;
        snprintf(out, size, "%s/%s.so", dirs[i], plugin);
        if (access(out, R_OK) == 0)
            return RP_OK;
        size_t l = strlen(tried);
        if (l + strlen(dirs[i]) + 3 < sizeof tried) {
            memcpy(tried + l, l ? ", " : "", l ? 2 : 0);
            l += l ? 2 : 0;
            memcpy(tried + l, dirs[i], strlen(dirs[i]) + 1);
        }
    }
    return rp_error_set(err, RP_ECONFIG, "plugin '%s' not found (looked in %s)", plugin, tried);
}

rp_status rp_plugin_load(const rp_config *cfg, const char *plugin, void **handle,
                         const rp_plugin_info **info_out, rp_error *err)
{
    *handle = NULL;
    *info_out = NULL;
    char path[4400];
    rp_status st = rp_plugin_find(cfg, plugin, path, sizeof path, err);
    if (st != RP_OK)
        return st;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return rp_error_set(err, RP_ECONFIG, "plugin '%s': %s", plugin, dlerror());
    rp_plugin_entry_fn entry;
    void *sym = dlsym(h, RP_PLUGIN_ENTRY);
    memcpy(&entry, &sym, sizeof entry);
    const rp_plugin_info *info = sym ? entry() : NULL;
    if (!info || info->abi != RP_PLUGIN_ABI) {
        dlclose(h);
        return rp_error_set(err, RP_ECONFIG,
                            "plugin '%s' (%s) is not a replyd plugin of ABI version %d", plugin,
                            path, RP_PLUGIN_ABI);
    }
    *handle = h;
    *info_out = info;
    return RP_OK;
}

static rp_status load(rp_sinks *s, const char *plugin, loaded **out, rp_error *err)
{
    for (size_t i = 0; i < s->nplugins; i++)
        if (strcmp(s->plugins[i].plugin, plugin) == 0) {
            *out = &s->plugins[i];
            return RP_OK;
        }
    void *h;
    const rp_plugin_info *info;
    rp_status st = rp_plugin_load(s->cfg, plugin, &h, &info, err);
    if (st != RP_OK)
        return st;
    loaded *n = realloc(s->plugins, (s->nplugins + 1) * sizeof *n);
    if (!n) {
        dlclose(h);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    s->plugins = n;
    loaded *l = &n[s->nplugins];
    l->handle = h;
    l->info = info;
    if (!(l->plugin = rp_strdup(plugin))) {
        dlclose(h);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    s->nplugins++;
    /* sinks keep pointers into s->plugins: re-point them after realloc */
    for (size_t i = 0; i < s->cfg->nsinks; i++)
        if (s->sinks[i].plugin)
            for (size_t j = 0; j < s->nplugins; j++)
                if (strcmp(s->plugins[j].plugin, s->sinks[i].cfg->plugin) == 0)
                    s->sinks[i].plugin = &s->plugins[j];
    *out = l;
    return RP_OK;
}

void rp_sinks_set_log(rp_sinks *s, void (*fn)(void *ctx, int level, const char *msg), void *ctx)
{
    s->log_fn = fn;
    s->log_ctx = ctx;
}

void rp_sinks_check_only(rp_sinks *s)
{
    s->host.check_only = 1;
}

static rp_status find_sink(rp_sinks *s, const char *name, rp_sink **out, rp_error *err)
{
    for (size_t i = 0; i < s->cfg->nsinks; i++)
        if (strcmp(s->sinks[i].cfg->name, name) == 0) {
            rp_sink *k = &s->sinks[i];
            if (!k->plugin) {
                loaded *l = NULL;
                rp_error why;
                rp_status st = load(s, k->cfg->plugin, &l, &why);
                if (st != RP_OK)
                    return rp_error_set(err, st, "sink '%s': %s", name, why.msg);
                if (!l->info->sink || l->info->sink->size < sizeof(rp_sink_ops))
                    return rp_error_set(err, RP_ECONFIG, "sink '%s': plugin '%s' has no sink",
                                        name, k->cfg->plugin);
                k->plugin = l;
            }
            *out = k;
            return RP_OK;
        }
    return rp_error_set(err, RP_ECONFIG, "no sink named '%s' in delivery.sinks", name);
}

rp_status rp_sinks_flags(rp_sinks *s, const char *name, unsigned *flags, rp_error *err)
{
    rp_sink *k;
    rp_status st = find_sink(s, name, &k, err);
    if (st == RP_OK)
        *flags = k->plugin->info->sink->flags;
    return st;
}

rp_status rp_sinks_get(rp_sinks *s, const char *name, rp_sink **out, rp_error *err)
{
    rp_sink *k;
    rp_status st = find_sink(s, name, &k, err);
    if (st != RP_OK)
        return st;
    if (!k->opened) {
        size_t n = k->cfg->nopts;
        rp_plugin_option *opts = calloc(n + 1, sizeof *opts);
        if (!opts)
            return rp_error_set(err, RP_ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            opts[i].key = k->cfg->keys[i];
            opts[i].value = k->cfg->values[i];
        }
        char why[512] = "";
        int rc = k->plugin->info->sink->open(&s->host, opts, n, &k->instance, why, sizeof why);
        free(opts);
        if (rc != 0)
            return rp_error_set(err, RP_ECONFIG, "sink '%s' (plugin %s): %s", name,
                                k->cfg->plugin, why[0] ? why : "cannot open");
        k->opened = 1;
    }
    *out = k;
    return RP_OK;
}

rp_send_result rp_sink_send(rp_sink *k, const rp_outgoing *m, char *detail, size_t size)
{
    detail[0] = 0;
    rp_send_result r = k->plugin->info->sink->send(k->instance, m, detail, size);
    detail[size - 1] = 0;
    if ((unsigned)r > RP_SEND_UNKNOWN) {
        snprintf(detail, size, "plugin returned an unknown result %d", (int)r);
        r = RP_SEND_UNKNOWN;
    }
    return r;
}

const char *rp_sink_name(const rp_sink *k)
{
    return k->cfg->name;
}

bool rp_sink_idempotent(const rp_sink *k)
{
    return (k->plugin->info->sink->flags & RP_SINK_IDEMPOTENT) != 0;
}
