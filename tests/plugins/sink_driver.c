/* sink_driver — loads one sink plugin and sends replies through it, for the
 * plugin tests. Not installed.
 *
 * usage: sink_driver PLUGIN.so MESSAGE.json COUNT [key=value...]
 *
 * MESSAGE.json holds the rp_outgoing fields by name (reply_id,
 * idempotency_key, message_id, from, from_name, to, subject, body,
 * in_reply_to, references, language, marketplace, order_id, template_id,
 * inbound_id, kind as strings; date and attempt as integers; automatic as
 * a boolean). The message is sent
 * COUNT times through one instance; "{n}" in reply_id, idempotency_key and
 * message_id is replaced by the send's number (1..COUNT). Each result is
 * printed as "RESULT detail", RESULT one of OK RETRY PERMANENT UNKNOWN.
 * Exit status: 0 when every send returned OK, 1 otherwise, 2 on usage or
 * load errors.
 */
#include <dlfcn.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

static void host_log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "plugin[%d]: %s\n", level, msg);
}

static const char *field(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static char *numbered(const char *s, int n)
{
    if (!s)
        return NULL;
    const char *p = strstr(s, "{n}");
    size_t len = strlen(s) + 32;
    char *out = malloc(len);
    if (!out)
        return NULL;
    if (!p)
        snprintf(out, len, "%s", s);
    else
        snprintf(out, len, "%.*s%d%s", (int)(p - s), s, n, p + 3);
    return out;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: sink_driver PLUGIN.so MESSAGE.json COUNT [key=value...]\n");
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "sink_driver: %s\n", dlerror());
        return 2;
    }
    rp_plugin_entry_fn entry;
    *(void **)&entry = dlsym(h, RP_PLUGIN_ENTRY);
    const rp_plugin_info *info = entry ? entry() : NULL;
    if (!info || info->abi != RP_PLUGIN_ABI || !info->sink ||
        info->sink->size < sizeof(rp_sink_ops)) {
        fprintf(stderr, "sink_driver: %s is not a sink plugin of ABI %d\n", argv[1],
                RP_PLUGIN_ABI);
        return 2;
    }
    json_error_t jerr;
    json_t *msg = json_load_file(argv[2], 0, &jerr);
    if (!msg) {
        fprintf(stderr, "sink_driver: %s:%d: %s\n", argv[2], jerr.line, jerr.text);
        return 2;
    }
    int count = atoi(argv[3]);
    size_t nopts = (size_t)(argc - 4);
    rp_plugin_option *opts = calloc(nopts + 1, sizeof *opts);
    char **keys = calloc(nopts + 1, sizeof *keys);
    if (!opts || !keys)
        return 2;
    for (size_t i = 0; i < nopts; i++) {
        keys[i] = strdup(argv[4 + i]);
        char *eq = keys[i] ? strchr(keys[i], '=') : NULL;
        if (!eq) {
            fprintf(stderr, "sink_driver: option '%s' is not key=value\n", argv[4 + i]);
            return 2;
        }
        *eq = 0;
        opts[i].key = keys[i];
        opts[i].value = eq + 1;
    }
    rp_plugin_host host = {.abi = RP_PLUGIN_ABI, .ctx = NULL, .log = host_log, .base_dir = "."};
    void *inst = NULL;
    char err[512];
    if (info->sink->open(&host, opts, nopts, &inst, err, sizeof err) != 0) {
        printf("OPEN-ERROR %s\n", err);
        for (size_t i = 0; i < nopts; i++)
            free(keys[i]);
        free(keys);
        free(opts);
        json_decref(msg);
        dlclose(h);
        return 2;
    }
    static const char *const names[] = {"OK", "RETRY", "PERMANENT", "UNKNOWN"};
    int all_ok = 1;
    for (int n = 1; n <= count; n++) {
        char *rid = numbered(field(msg, "reply_id"), n);
        char *key = numbered(field(msg, "idempotency_key"), n);
        char *mid = numbered(field(msg, "message_id"), n);
        json_t *date = json_object_get(msg, "date"), *att = json_object_get(msg, "attempt");
        rp_outgoing o = {
            .reply_id = rid, .idempotency_key = key, .message_id = mid,
            .from = field(msg, "from"), .from_name = field(msg, "from_name"),
            .to = field(msg, "to"), .subject = field(msg, "subject"),
            .body = field(msg, "body"), .in_reply_to = field(msg, "in_reply_to"),
            .references = field(msg, "references"), .language = field(msg, "language"),
            .marketplace = field(msg, "marketplace"), .order_id = field(msg, "order_id"),
            .template_id = field(msg, "template_id"), .inbound_id = field(msg, "inbound_id"),
            .date = json_is_integer(date) ? (int64_t)json_integer_value(date) : 0,
            .attempt = json_is_integer(att) ? (unsigned)json_integer_value(att) : 1,
            .automatic = json_is_true(json_object_get(msg, "automatic")),
            .kind = field(msg, "kind"),
        };
        char detail[1024];
        detail[0] = 0;
        rp_send_result r = info->sink->send(inst, &o, detail, sizeof detail);
        printf("%s %s\n", (unsigned)r < 4 ? names[r] : "BAD-RESULT", detail);
        if (r != RP_SEND_OK)
            all_ok = 0;
        free(rid);
        free(key);
        free(mid);
    }
    info->sink->close(inst);
    for (size_t i = 0; i < nopts; i++)
        free(keys[i]);
    free(keys);
    free(opts);
    json_decref(msg);
    dlclose(h);
    return all_ok ? 0 : 1;
}
