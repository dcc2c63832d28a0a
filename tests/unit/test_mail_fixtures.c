/* Every tests/fixtures/mail/NAME.eml is read and checked against NAME.expect.json:
 * decoded subject, phrases that must (not) be in the buyer's words, order id,
 * language, or the error a broken message must produce. */
#include "rp_test.h"

#include <dirent.h>
#include <jansson.h>

#include "rp_classify.h"
#include "rp_config.h"
#include "rp_mail.h"
#include "rp_model.h"

#define DIRPATH RP_FIXTURES "/mail"

static rp_classifier *clf;

static int setup(void **st)
{
    (void)st;
    rp_mail_init();
    rp_config *cfg;
    rp_error err;
    if (rp_config_load_default(&cfg, &err) != RP_OK)
        return -1;
    rp_status s = rp_model_load(cfg, &clf, &err);
    rp_config_free(cfg);
    if (s != RP_OK) {
        fprintf(stderr, "model: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    rp_classifier_free(clf);
    rp_mail_shutdown();
    return 0;
}

static int check_one(const char *name)
{
    char eml[1024], exp[1024];
    snprintf(eml, sizeof eml, "%s/%s", DIRPATH, name);
    snprintf(exp, sizeof exp, "%s/%.*s.expect.json", DIRPATH, (int)(strlen(name) - 4), name);
    json_error_t je;
    json_t *e = json_load_file(exp, 0, &je);
    if (!e) {
        fprintf(stderr, "%s: cannot read expectations: %s\n", exp, je.text);
        return 1;
    }
    int failures = 0;
    rp_message *m = NULL;
    rp_error err;
    rp_error_clear(&err);
    rp_status st = rp_mail_read_file(eml, NULL, &m, &err);
    json_t *want_err = json_object_get(e, "error_contains");
    if (json_is_string(want_err)) {
        if (st == RP_OK) {
            fprintf(stderr, "%s: expected an error containing \"%s\", got success\n", name,
                    json_string_value(want_err));
            failures++;
        } else if (!strstr(err.msg, json_string_value(want_err))) {
            fprintf(stderr, "%s: error \"%s\" lacks \"%s\"\n", name, err.msg,
                    json_string_value(want_err));
            failures++;
        }
        goto out;
    }
    if (st != RP_OK) {
        fprintf(stderr, "%s: unexpected error: %s\n", name, err.msg);
        failures++;
        goto out;
    }
    json_t *subj = json_object_get(e, "subject");
    if (json_is_string(subj) && (!m->subject || strcmp(m->subject, json_string_value(subj)))) {
        fprintf(stderr, "%s: subject \"%s\", want \"%s\"\n", name,
                m->subject ? m->subject : "(null)", json_string_value(subj));
        failures++;
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(e, "body_contains"), i, v)
    {
        if (!strstr(m->body, json_string_value(v))) {
            fprintf(stderr, "%s: body lacks \"%s\"\n--- body:\n%s\n---\n", name,
                    json_string_value(v), m->body);
            failures++;
        }
    }
    json_array_foreach(json_object_get(e, "body_excludes"), i, v)
    {
        if (strstr(m->body, json_string_value(v))) {
            fprintf(stderr, "%s: body must not contain \"%s\"\n--- body:\n%s\n---\n", name,
                    json_string_value(v), m->body);
            failures++;
        }
    }
    json_t *oid = json_object_get(e, "order_id");
    if (json_is_string(oid) && (!m->order_id || strcmp(m->order_id, json_string_value(oid)))) {
        fprintf(stderr, "%s: order id %s, want %s\n", name, m->order_id ? m->order_id : "(null)",
                json_string_value(oid));
        failures++;
    }
    if (json_is_null(oid) && m->order_id) {
        fprintf(stderr, "%s: order id %s, want none\n", name, m->order_id);
        failures++;
    }
    json_t *lang = json_object_get(e, "language");
    if (json_is_string(lang)) {
        rp_classify_ctx ctx = {0};
        rp_classification c;
        assert_int_equal(rp_classify_text(clf, &ctx, m->subject, m->body, m->marketplace, &c),
                         RP_OK);
        if (strcmp(rp_lang_code(c.language), json_string_value(lang))) {
            fprintf(stderr, "%s: language %s, want %s\n", name, rp_lang_code(c.language),
                    json_string_value(lang));
            failures++;
        }
        rp_classify_ctx_free(&ctx);
    }
out:
    rp_message_free(m);
    json_decref(e);
    return failures;
}

static int same_str(const char *what, const char *name, const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0)) {
        fprintf(stderr, "%s: %s differs: fast \"%s\", GMime \"%s\"\n", name, what,
                a ? a : "(null)", b ? b : "(null)");
        return 1;
    }
    return 0;
}

/* The single-part fast path and GMime must read every fixture alike. */
static int compare_paths(const char *name)
{
    char eml[1024];
    snprintf(eml, sizeof eml, "%s/%s", DIRPATH, name);
    rp_limits fast = rp_limits_default(), slow = rp_limits_default();
    slow.mail_fast_path = 0;
    rp_message *a = NULL, *b = NULL;
    rp_error ea, eb;
    rp_status sa = rp_mail_read_file(eml, &fast, &a, &ea);
    rp_status sb = rp_mail_read_file(eml, &slow, &b, &eb);
    int f = 0;
    if (sa != sb) {
        fprintf(stderr, "%s: status differs: fast %s (%s), GMime %s (%s)\n", name,
                rp_strerror(sa), sa ? ea.msg : "", rp_strerror(sb), sb ? eb.msg : "");
        f++;
    } else if (sa == RP_OK) {
        f += same_str("id", name, a->id, b->id);
        f += same_str("subject", name, a->subject, b->subject);
        f += same_str("body", name, a->body, b->body);
        f += same_str("from", name, a->from, b->from);
        f += same_str("marketplace", name, a->marketplace, b->marketplace);
        f += same_str("order id", name, a->order_id, b->order_id);
        if (a->received_at != b->received_at) {
            fprintf(stderr, "%s: received_at differs\n", name);
            f++;
        }
        if (a->nheaders != b->nheaders) {
            fprintf(stderr, "%s: %zu headers vs %zu\n", name, a->nheaders, b->nheaders);
            f++;
        } else {
            for (size_t i = 0; i < a->nheaders; i++) {
                f += same_str("header name", name, a->headers[i].name, b->headers[i].name);
                f += same_str("header value", name, a->headers[i].value, b->headers[i].value);
            }
        }
    }
    rp_message_free(a);
    rp_message_free(b);
    return f;
}

static void test_all_fixtures(void **st)
{
    (void)st;
    DIR *d = opendir(DIRPATH);
    assert_non_null(d);
    struct dirent *de;
    int failures = 0, n = 0;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".eml") != 0)
            continue;
        n++;
        failures += check_one(de->d_name);
        failures += compare_paths(de->d_name);
    }
    closedir(d);
    printf("mail fixtures: %d files, %d failed checks\n", n, failures);
    assert_true(n >= 25);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_fixtures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
