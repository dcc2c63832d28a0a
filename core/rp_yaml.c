#include "rp_yaml.h"

rp_status rp_yaml_load(const char *data, size_t len, const char *name, yaml_document_t *doc,
                       rp_error *err)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return rp_error_set(err, RP_ENOMEM, "%s: out of memory", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    rp_status st = RP_OK;
    if (!yaml_parser_load(&parser, doc))
        st = rp_error_set(err, RP_ECONFIG, "%s:%zu:%zu: %s", name, parser.problem_mark.line + 1,
                          parser.problem_mark.column + 1,
                          parser.problem ? parser.problem : "YAML syntax error");
    yaml_parser_delete(&parser);
    return st;
}

const char *rp_yaml_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

int rp_yaml_is_empty(const yaml_node_t *n)
{
    const char *s = rp_yaml_scalar(n);
    return s && !*s;
}
