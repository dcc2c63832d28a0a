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

#include "rp_classify.h"
#include "rp_error.h"
#include "rp_reader.h"

typedef struct rp_config {
    char *path;             /* where it was read from, "(built-in)" for the default */
    rp_limits limits;
    rp_classifier_opts classifier;
    bool builtin_lexicons;  /* load the lexicons embedded from data/ (default true) */
    char **lexicons;        /* extra lexicon files, absolute or relative to the config */
    size_t nlexicons;
} rp_config;

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
