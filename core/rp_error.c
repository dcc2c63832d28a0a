#include "rp_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *rp_strerror(rp_status code)
{
    switch (code) {
    case RP_OK: return "success";
    case RP_ENOMEM: return "out of memory";
    case RP_EIO: return "input/output error";
    case RP_EPARSE: return "malformed input";
    case RP_ELIMIT: return "limit exceeded";
    case RP_ECHARSET: return "unsupported or invalid charset";
    case RP_EUTF8: return "invalid UTF-8";
    case RP_EEMPTY: return "empty message";
    case RP_ECONFIG: return "invalid configuration";
    case RP_EUSAGE: return "usage error";
    case RP_EOF: return "end of input";
    case RP_EINVAL: return "invalid value";
    }
    return "unknown error";
}

rp_status rp_error_set(rp_error *err, rp_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        if (n < 0)
            snprintf(err->msg, sizeof err->msg, "%s", rp_strerror(code));
    }
    return code;
}

void rp_error_clear(rp_error *err)
{
    if (err) {
        err->code = RP_OK;
        err->msg[0] = '\0';
    }
}
