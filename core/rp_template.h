/* rp_template.h — the reply template library and its renderer.
 *
 * A template file (templates/<id>.yaml, reference: docs/templates.md) holds
 * one template: its id, whether a reply made from it counts as a real
 * response for the marketplace's 24-hour metric (acknowledgements do not), and
 * a subject and body per language. Text uses {{variable}} placeholders and
 * {{#variable}}...{{/variable}} sections that are kept only when the variable
 * is set ({{^variable}}...{{/variable}}: only when it is not). Templates are
 * compiled once when loaded; rendering copies literal runs and variable
 * values into a buffer and allocates nothing else.
 *
 * Language fallback: the buyer's language, then the marketplace's, then en.
 *
 * An rp_templates library owns every template and string in it
 * (rp_templates_free). Load errors are RP_ECONFIG / RP_EPARSE with
 * "file:line:column: reason". Rendering a placeholder whose variable is not
 * set is RP_EINVAL "missing variable 'order_id'": the caller then sends the
 * reply to approval instead of sending text with a hole in it.
 */
#ifndef RP_TEMPLATE_H
#define RP_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "rp_buf.h"
#include "rp_error.h"

/* Variables a template may use; any other name is a load error. */
typedef enum rp_tvar {
    RP_TVAR_ORDER_ID = 0,     /* order_id: "302-1234567-1234567" */
    RP_TVAR_BUYER_NAME,       /* buyer_name: when known */
    RP_TVAR_SELLER_NAME,      /* seller_name */
    RP_TVAR_MARKETPLACE,      /* marketplace: "amazon.de" */
    RP_TVAR_SUBJECT,          /* subject: the buyer's subject */
    RP_TVAR_NEXT_OPEN,        /* next_open: next opening, buyer's time, formatted */
    RP_TVAR_HOLIDAY_NAME,     /* holiday_name */
    RP_TVAR_HOLIDAY_END,      /* holiday_end: first day back, formatted date */
    RP_TVAR_REPLY_BY,         /* reply_by: received + 24 h, formatted */
    RP_TVAR_COUNT
} rp_tvar;

const char *rp_tvar_name(rp_tvar v);
/* -1 if unknown. */
int rp_tvar_lookup(const char *name, size_t len);

typedef struct rp_tvars {
    const char *v[RP_TVAR_COUNT]; /* NULL or "" = not set */
} rp_tvars;

#define RP_TEMPLATE_LANGS 6 /* en de fr it es ja, in rp_lang order */

typedef struct rp_templates rp_templates;
typedef struct rp_template rp_template;

rp_templates *rp_templates_new(void); /* NULL on ENOMEM */
void rp_templates_free(rp_templates *t);

/* Parse one template file's text; name is used in errors and as the default
 * id source. A template whose id already exists replaces it (a seller's file
 * overrides a built-in one). */
rp_status rp_templates_add(rp_templates *t, const char *data, size_t len, const char *name,
                           rp_error *err);
/* Every *.yaml file of a directory, in name order. */
rp_status rp_templates_add_dir(rp_templates *t, const char *dir, rp_error *err);

size_t rp_templates_count(const rp_templates *t);
const rp_template *rp_templates_at(const rp_templates *t, size_t i);
const rp_template *rp_templates_find(const rp_templates *t, const char *id);

const char *rp_template_id(const rp_template *tp);
const char *rp_template_origin(const rp_template *tp); /* file it came from */
bool rp_template_counts_as_response(const rp_template *tp);
/* Has text in lang ("de")? */
bool rp_template_has_lang(const rp_template *tp, const char *lang);
/* Bit i set = the language's text uses variable i (subject or body). */
unsigned rp_template_vars_used(const rp_template *tp, const char *lang);

/* The language the fallback chain picks: want, else marketplace_lang (may be
 * NULL), else "en"; NULL if the template has none of them. */
const char *rp_template_pick_lang(const rp_template *tp, const char *want,
                                  const char *marketplace_lang);

/* Render lang's subject and body (appended to subject/body). RP_EINVAL
 * "missing variable 'x'" or "no text in language 'xx'"; the buffers may then
 * hold partial text. */
rp_status rp_template_render(const rp_template *tp, const char *lang, const rp_tvars *vars,
                             rp_buf *subject, rp_buf *body, rp_error *err);

#endif
