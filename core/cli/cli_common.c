/* cli_common.c — pieces every command of the front end shares. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

rp_status rp_cli_load_config(const char *path, rp_config **cfg, rp_error *err)
{
    rp_error_clear(err);
    return path ? rp_config_load_file(path, cfg, err) : rp_config_load_default(cfg, err);
}

const char *rp_cli_message_id(const rp_message *m)
{
    return m && m->id ? m->id : (m && m->source ? m->source : "-");
}

void rp_cli_read_error(const rp_message *m, rp_status st, const rp_error *err, char *out,
                       size_t size)
{
    const char *msg = err && err->msg[0] ? err->msg : rp_strerror(st);
    /* name where the message is when its id does not say it */
    if (m && m->source && strcmp(m->source, rp_cli_message_id(m)) != 0)
        snprintf(out, size, "%.500s: %s", m->source, msg);
    else
        snprintf(out, size, "%s", msg);
}

int rp_cli_flush(rp_buf *out)
{
    int bad = out->len && fwrite(out->data, 1, out->len, stdout) != out->len;
    rp_buf_reset(out);
    return bad;
}
