/* rp_config.h — replyd configuration (replyd.yaml; reference:
 * docs/configuration.md).
 *
 * A configuration is parsed from YAML, either a seller's file or the default
 * embedded in the binary (data/replyd.default.yaml); a seller's file only
 * needs the keys it changes. Unknown keys are errors, reported as
 * "file:line:column: reason", so a typo never silently falls back to a
 * default. The rp_config owns all its strings; rp_config_free() releases it.
 */
#ifndef RP_CONFIG_H
#define RP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp_classify.h"
#include "rp_error.h"
#include "rp_reader.h"

/* A marketplace the seller sells on: its buyers' default language and time
 * zone, and the seller's registered sender address there. */
typedef struct rp_marketplace_cfg {
    char *domain;    /* "amazon.de" */
    char *language;  /* "de" */
    char *time_zone; /* "Europe/Berlin" */
    char *sender;    /* "shop-de@example.com", may be NULL */
} rp_marketplace_cfg;

/* A named holiday: inclusive dates. Yearly holidays ("12-24") have year 0 in
 * first/last as mmdd, and may wrap over New Year ("12-31" .. "01-01"). */
typedef struct rp_holiday_cfg {
    char *name;
    int32_t first, last; /* yyyymmdd, or mmdd when yearly */
    bool yearly;
} rp_holiday_cfg;

/* A delivery sink: a plugin and its options (text, as written). */
typedef struct rp_sink_cfg {
    char *name;    /* "relay" */
    char *plugin;  /* "smtp" -> smtp.so */
    char **keys;
    char **values;
    size_t nopts;
} rp_sink_cfg;

/* A message source: a plugin, its options, and how the daemon drives it. */
typedef struct rp_source_cfg {
    char *name;        /* "amazon-de" */
    char *plugin;      /* "imap" -> imap.so */
    char **keys;
    char **values;
    size_t nopts;
    char *marketplace; /* for messages that do not say which; may be NULL */
    unsigned poll_seconds; /* between polls when nothing is waiting; default 60 */
} rp_source_cfg;

/* log.format */
typedef enum rp_log_format { RP_LOG_LOGFMT = 0, RP_LOG_JSON = 1 } rp_log_format;

typedef struct rp_config {
    char *path;             /* where it was read from, "(built-in)" for the default */
    rp_limits limits;
    rp_classifier_opts classifier;
    bool builtin_lexicons;  /* load the lexicons embedded from data/ (default true) */
    char **lexicons;        /* extra lexicon files, absolute or relative to the config */
    size_t nlexicons;

    char *seller_name;      /* "Example Shop" */
    char *team_time_zone;   /* IANA name */
    char *hours[7];         /* per weekday Monday..Sunday: "09:00-12:30, 13:30-17:30" or "closed" */
    rp_holiday_cfg *holidays;
    size_t nholidays;
    char **holiday_files;   /* .ics files */
    size_t nholiday_files;
    rp_marketplace_cfg *marketplaces;
    size_t nmarketplaces;

    bool builtin_rules;     /* the default rules embedded from rules/default.yaml */
    char **rule_paths;      /* rule files (.yaml, .lua) or directories of them */
    size_t nrule_paths;
    bool builtin_templates; /* the starter library embedded from templates/ */
    char **template_dirs;
    size_t ntemplate_dirs;

    char **allowed_domains; /* links to these pass compliance (besides the marketplaces') */
    size_t nallowed_domains;
    bool allow_phone;
    unsigned max_subject_chars, max_body_chars;

    unsigned long long lua_instructions; /* per rule call */
    unsigned long long lua_memory;       /* bytes per Lua rule */

    bool never_auto_send_high_risk; /* default true */
    char *fallback_template;        /* drafted for approval when no rule replies; "answer_{intent}" */

    char *base_dir;                 /* the configuration file's folder ("." for the built-in one) */

    /* queue: */
    char *queue_path;               /* SQLite file, resolved against base_dir */
    unsigned retention_days;        /* message texts are purged after this; default 180 */
    unsigned commit_every;          /* messages per transaction in process (group commit) */

    /* delivery: */
    char *sink;                     /* name of the sink replies go to; NULL = none */
    rp_sink_cfg *sinks;
    size_t nsinks;
    char *plugin_dir;               /* NULL = next to the program, then the install dir */
    unsigned max_attempts;          /* before a reply is failed */
    unsigned retry_base_seconds, retry_max_seconds; /* exponential backoff with jitter */

    /* loop_protection: */
    unsigned once_per_sender_days;  /* one automatic reply per sender and template; 0 = off */
    unsigned max_per_sender_per_hour; /* automatic replies; 0 = no cap */
    char **notification_senders;    /* glob patterns of the marketplaces' own senders */
    size_t nnotification_senders;
    char **own_addresses;           /* the seller's addresses besides the marketplace senders */
    size_t nown_addresses;

    /* sla: */
    unsigned sla_hours;             /* 24 */
    unsigned warn_hours_before;     /* alert when an open message is this close to its deadline */
    double rate_warn;               /* alert when the share answered in time falls below */
    char *alert_sink;               /* sink name for alerts; NULL = log only */

    /* sources (replyd run): */
    rp_source_cfg *sources;
    size_t nsources;

    /* run: */
    unsigned run_batch;             /* messages per poll and per transaction; default 100 */
    unsigned alert_every_seconds;   /* SLA alerts are checked this often; default 300 */
    unsigned backoff_max_seconds;   /* a failing source is retried at most this far apart */

    /* log: */
    unsigned log_format;            /* rp_log_format */
    unsigned log_level;             /* RP_LOG_ERROR..RP_LOG_DEBUG (plugin.h); default info */
} rp_config;

/* The configured sink with this name, or NULL. */
const rp_sink_cfg *rp_config_sink(const rp_config *c, const char *name);

/* The configured source with this name, or NULL. */
const rp_source_cfg *rp_config_source(const rp_config *c, const char *name);

/* The configured marketplace for a domain, or NULL. */
const rp_marketplace_cfg *rp_config_marketplace(const rp_config *c, const char *domain);

/* The embedded default configuration. */
rp_status rp_config_load_default(rp_config **out, rp_error *err);
/* Default values overlaid with the file's. */
rp_status rp_config_load_file(const char *path, rp_config **out, rp_error *err);
/* Parse YAML text over the defaults; name appears in errors, base_dir resolves
 * relative paths (may be NULL). */
rp_status rp_config_parse(const char *data, size_t len, const char *name, const char *base_dir,
                          rp_config **out, rp_error *err);
void rp_config_free(rp_config *c);

/* Read a whole file (at most max bytes) into a NUL-terminated buffer the
 * caller frees. */
rp_status rp_read_file(const char *path, size_t max, char **data, size_t *len, rp_error *err);

#endif
