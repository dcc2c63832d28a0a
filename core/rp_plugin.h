/* rp_plugin.h — loading plugins (core/plugin.h) and the configured sinks.
 *
 * A sink named in the configuration (delivery.sinks) is a plugin plus its
 * options. rp_sinks loads a plugin the first time a sink needs it (dlopen of
 * NAME.so from, in order: delivery.plugin_dir, $REPLYD_PLUGIN_DIR, the
 * plugins/ folder next to the replyd program, the installed plugin folder),
 * checks its ABI version and opens the sink's instance. Instances are kept
 * open (connection reuse) until rp_sinks_free().
 *
 * Memory: rp_sinks owns the plugins and instances; an rp_sink pointer stays
 * valid until rp_sinks_free(). Errors: RP_ECONFIG (unknown sink, plugin not
 * found, wrong ABI, options refused — the message names the sink and the
 * plugin's reason), RP_ENOMEM.
 */
#ifndef RP_PLUGIN_H_HOST
#define RP_PLUGIN_H_HOST

#include <stdbool.h>
#include <stddef.h>

#include "plugin.h"
#include "rp_config.h"
#include "rp_error.h"

typedef struct rp_sinks rp_sinks;
typedef struct rp_sink rp_sink;

/* Log lines from plugins go to stderr, redacted, prefixed with prog. */
rp_status rp_sinks_new(const rp_config *cfg, const char *prog, rp_sinks **out, rp_error *err);
void rp_sinks_free(rp_sinks *s);

/* Send plugin log lines to fn instead of stderr (fn redacts). */
void rp_sinks_set_log(rp_sinks *s, void (*fn)(void *ctx, int level, const char *msg), void *ctx);

/* From now on, open sinks only to check their options (replyd check): the
 * plugins create, connect to and change nothing. */
void rp_sinks_check_only(rp_sinks *s);

/* The open sink of this name (opened on first use). */
rp_status rp_sinks_get(rp_sinks *s, const char *name, rp_sink **out, rp_error *err);
/* The sink's flags (RP_SINK_*), loading the plugin but not opening it. */
rp_status rp_sinks_flags(rp_sinks *s, const char *name, unsigned *flags, rp_error *err);

rp_send_result rp_sink_send(rp_sink *k, const rp_outgoing *m, char *detail, size_t size);
const char *rp_sink_name(const rp_sink *k);
bool rp_sink_idempotent(const rp_sink *k);

/* dlopen() a plugin by name (searched as rp_plugin_find does) and check its
 * ABI version. The caller dlclose()s *handle when done with *info. */
rp_status rp_plugin_load(const rp_config *cfg, const char *plugin, void **handle,
                         const rp_plugin_info **info, rp_error *err);

/* Where a plugin would be loaded from, into out; RP_ECONFIG if nowhere. */
rp_status rp_plugin_find(const rp_config *cfg, const char *plugin, char *out, size_t size,
                         rp_error *err);

#endif
