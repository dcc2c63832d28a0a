/* rp_yaml.h — the small layer over libyaml that configuration and lexicon
 * loading share: load one document, read scalars.
 *
 * rp_yaml_load() fills a caller-provided yaml_document_t that the caller
 * releases with yaml_document_delete() on success; on a syntax error it
 * returns RP_ECONFIG with "name:line:column: problem" and there is nothing to
 * release. Node pointers and scalar strings are borrowed from the document.
 */
#ifndef RP_YAML_H
#define RP_YAML_H

#include <stddef.h>
#include <yaml.h>

#include "rp_error.h"

rp_status rp_yaml_load(const char *data, size_t len, const char *name, yaml_document_t *doc,
                       rp_error *err);

/* The value of a scalar node, NULL for other nodes (and NULL). */
const char *rp_yaml_scalar(const yaml_node_t *n);

/* An empty scalar ("key:" with nothing after it). */
int rp_yaml_is_empty(const yaml_node_t *n);

#endif
