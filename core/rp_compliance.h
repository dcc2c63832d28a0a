/* rp_compliance.h — marketplace rules every reply must follow.
 *
 * A reply (subject and body) is checked for: plain text only (no HTML or
 * markup), links other than the marketplace's own domains, e-mail addresses,
 * phone numbers (unless allowed), off-platform contact (WhatsApp, WeChat,
 * LINE, Telegram, Skype, ...), review or feedback incentives or pressure,
 * marketing and coupons, emoji, and length limits. The phrase lists for the
 * six languages live in data/compliance/<lang>.yaml (embedded); every list is
 * applied whatever the reply's language, since a German reply can carry an
 * English phrase. Each finding names its check and quotes the offending text;
 * a blocking finding means the reply must never be sent automatically.
 *
 * An rp_compliance is immutable once built and may be shared; per-call
 * scratch lives in a caller-owned rp_compliance_ctx (zero-initialise, reuse,
 * rp_compliance_ctx_free at the end). Errors: RP_ECONFIG for bad phrase data,
 * RP_ENOMEM.
 */
#ifndef RP_COMPLIANCE_H
#define RP_COMPLIANCE_H

#include <stdbool.h>
#include <stddef.h>

#include "rp_buf.h"
#include "rp_error.h"

typedef enum rp_check {
    RP_CHECK_PLAIN_TEXT = 0, /* "plain_text" */
    RP_CHECK_LINK,           /* "link" */
    RP_CHECK_EMAIL,          /* "email" */
    RP_CHECK_PHONE,          /* "phone" */
    RP_CHECK_OFF_PLATFORM,   /* "off_platform" */
    RP_CHECK_REVIEW,         /* "review_incentive" */
    RP_CHECK_MARKETING,      /* "marketing" */
    RP_CHECK_EMOJI,          /* "emoji" */
    RP_CHECK_LENGTH,         /* "length" */
    RP_CHECK_COUNT
} rp_check;

const char *rp_check_name(rp_check c);

#define RP_FINDING_TEXT_MAX 96

typedef struct rp_finding {
    rp_check check;
    bool blocking;
    char text[RP_FINDING_TEXT_MAX]; /* offending text, cut on a UTF-8 boundary */
} rp_finding;

#define RP_MAX_FINDINGS 16

typedef struct rp_findings {
    rp_finding items[RP_MAX_FINDINGS];
    size_t n;
    bool truncated; /* more than RP_MAX_FINDINGS were found */
} rp_findings;

static inline bool rp_findings_blocking(const rp_findings *f)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->items[i].blocking)
            return true;
    return f->truncated;
}

typedef struct rp_compliance_opts {
    const char *const *allowed_domains; /* links to these (and subdomains) are fine */
    size_t nallowed_domains;
    bool allow_phone;
    size_t max_subject_chars; /* default 200 */
    size_t max_body_chars;    /* default 4000 */
    /* Optional: one more phrase list, NUL-terminated, in the format of
     * data/compliance/<lang>.yaml, applied with the built-in ones; its name
     * is used in error messages ("name:line:column: reason"). */
    const char *extra_phrases;
    const char *extra_phrases_name;
} rp_compliance_opts;

void rp_compliance_opts_default(rp_compliance_opts *o); /* amazon.* domains */

typedef struct rp_compliance rp_compliance;
typedef struct rp_compliance_ctx {
    rp_buf fold;
    void *scratch; /* module private */
    size_t scratch_cap;
} rp_compliance_ctx;

/* Copies what it needs from opts. */
rp_status rp_compliance_new(const rp_compliance_opts *opts, rp_compliance **out, rp_error *err);
void rp_compliance_free(rp_compliance *c);
void rp_compliance_ctx_free(rp_compliance_ctx *ctx);

/* subject may be NULL. out is overwritten. RP_ENOMEM only. */
rp_status rp_compliance_check(const rp_compliance *c, rp_compliance_ctx *ctx, const char *subject,
                              const char *body, rp_findings *out);

#endif
