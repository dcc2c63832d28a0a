/* replyd queue — list, show, approve, edit, reject and purge queued replies. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "rp_buf.h"
#include "rp_compliance.h"
#include "rp_engine.h"
#include "rp_queue.h"
#include "rp_text.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: replyd queue list [--state S|open|all] [--intent I] [--marketplace M]\n"
            "                         [--template T] [--attention] [--limit N] [--json]\n"
            "       replyd queue list --suppressed [--limit N] [--json]\n"
            "       replyd queue show ID [--json]\n"
            "       replyd queue approve ID... [--operator NAME]\n"
            "       replyd queue approve --all [--state S] [--intent I] [--marketplace M]\n"
            "                            [--template T] [--yes] [--operator NAME]\n"
            "       replyd queue edit ID [--body-file FILE] [--subject TEXT] [--operator NAME]\n"
            "       replyd queue reject ID... --reason TEXT [--no-response-needed]\n"
            "                           [--operator NAME]\n"
            "       replyd queue purge [--older-than DAYS]\n"
            "\n"
            "Common options: --config FILE, --queue FILE, --now TIME (ISO 8601: the clock\n"
            "for time left and for what is recorded; for replays and tests).\n"
            "\n"
            "list      replies, soonest deadline first (default: the open ones: waiting for\n"
            "          approval, approved, sending, failed); --suppressed lists the messages\n"
            "          loop protection kept from being answered, with the reason\n"
            "show      one reply with the buyer's message, its deadline and compliance\n"
            "approve   let replies go out with the next 'replyd send'; --all approves every\n"
            "          reply waiting for approval that matches the filters, after asking\n"
            "          (or at once with --yes)\n"
            "edit      change a reply's text in $VISUAL/$EDITOR (first line 'Subject: ...',\n"
            "          a blank line, then the text) or from --body-file; the new text is\n"
            "          checked for compliance again and waits for approval\n"
            "reject    never send these replies; --no-response-needed also records that the\n"
            "          buyer's message needs no answer (it leaves the SLA figures)\n"
            "purge     remove message and reply texts and buyer addresses older than the\n"
            "          retention (queue.retention_days, or --older-than); figures and the\n"
            "          audit trail stay\n"
            "\n"
            "The operator's name (--operator, else $REPLYD_OPERATOR, else the login name)\n"
            "is written to the audit trail with every action.\n"
            "\n"
            "Exit status: 0 success, 1 some replies could not be changed, 2 usage,\n"
            "configuration or queue error.\n");
}

typedef struct qopts {
    const char *config, *queue, *op, *reason, *body_file, *subject;
    rp_queue_filter f;
    int json, all, yes, no_response, suppressed;
    long older_than;
    int64_t now;
} qopts;

/* The clock: the current time, or --now for replays and tests. */
static int64_t now_s(const qopts *o)
{
    return o->now != RP_TIME_UNKNOWN ? o->now : (int64_t)time(NULL);
}

static void time_left(int64_t deadline, int64_t now, char *buf, size_t size)
{
    if (deadline == RP_TIME_UNKNOWN) {
        snprintf(buf, size, "-");
        return;
    }
    int64_t d = deadline - now;
    const char *sign = d < 0 ? "-" : "";
    if (d < 0)
        d = -d;
    snprintf(buf, size, "%s%lldh%02lldm", sign, (long long)(d / 3600),
             (long long)(d % 3600 / 60));
}

static rp_status json_str(rp_buf *b, const char *key, const char *v, int comma)
{
    rp_status st = rp_buf_printf(b, "%s\"%s\":", comma ? "," : "", key);
    if (st == RP_OK)
        st = v ? rp_buf_append_json_string(b, v, strlen(v)) : rp_buf_append_str(b, "null");
    return st;
}

static rp_status json_time(rp_buf *b, const char *key, int64_t t)
{
    if (t == RP_TIME_UNKNOWN)
        return rp_buf_printf(b, ",\"%s\":null", key);
    char iso[32];
    rp_format_iso8601(t, iso, sizeof iso);
    return rp_buf_printf(b, ",\"%s\":\"%s\"", key, iso);
}

static rp_status reply_json(const rp_qreply *r, int full, rp_buf *b)
{
    rp_status st = rp_buf_printf(b, "{\"id\":%lld,\"inbound\":%lld", (long long)r->id,
                                 (long long)r->inbound_id);
    if (st == RP_OK)
        st = json_str(b, "state", rp_reply_state_name(r->state), 1);
    if (st == RP_OK)
        st = json_str(b, "message_id", r->msg_id, 1);
    if (st == RP_OK)
        st = json_str(b, "marketplace", r->marketplace, 1);
    if (st == RP_OK)
        st = json_str(b, "language", r->language, 1);
    if (st == RP_OK)
        st = json_str(b, "intent", r->intent, 1);
    if (st == RP_OK)
        st = json_str(b, "priority", r->priority, 1);
    if (st == RP_OK)
        st = rp_buf_printf(b, ",\"high_risk\":%s,\"tags\":%s", r->high_risk ? "true" : "false",
                           r->tags ? r->tags : "[]");
    if (st == RP_OK)
        st = json_str(b, "template", r->template_id, 1);
    if (st == RP_OK)
        st = json_str(b, "rule", r->rule, 1);
    if (st == RP_OK)
        st = json_str(b, "action", r->action, 1);
    if (st == RP_OK)
        st = rp_buf_printf(b, ",\"counts_as_response\":%s,\"attempts\":%u",
                           r->counts_as_response ? "true" : "false", r->attempts);
    if (st == RP_OK)
        st = json_time(b, "received_at", r->received_at);
    if (st == RP_OK)
        st = json_time(b, "deadline", r->deadline);
    if (st == RP_OK)
        st = json_time(b, "created_at", r->created_at);
    if (st == RP_OK)
        st = json_time(b, "sent_at", r->sent_at);
    if (st == RP_OK)
        st = json_str(b, "approved_by", r->approved_by, 1);
    if (st == RP_OK)
        st = json_str(b, "attention", r->attention, 1);
    if (st == RP_OK)
        st = json_str(b, "last_error", r->last_error, 1);
    if (st == RP_OK)
        st = rp_buf_printf(b, ",\"compliance\":%s", r->compliance ? r->compliance : "[]");
    if (st == RP_OK)
        st = json_str(b, "subject", r->subject, 1);
    if (full) {
        if (st == RP_OK)
            st = json_str(b, "body", r->body, 1);
        if (st == RP_OK)
            st = json_str(b, "order_id", r->order_id, 1);
        if (st == RP_OK)
            st = json_str(b, "buyer_subject", r->in_subject, 1);
        if (st == RP_OK)
            st = json_str(b, "buyer_message", r->in_body, 1);
        if (st == RP_OK)
            st = json_str(b, "sink", r->sink, 1);
        if (st == RP_OK)
            st = json_str(b, "reply_message_id", r->message_id, 1);
    }
    if (st == RP_OK)
        st = rp_buf_append_str(b, "}\n");
    return st;
}

typedef struct list_ctx {
    rp_buf out;
    int json;
    int64_t now;
    size_t n;
    int error;
} list_ctx;

static int list_one(void *ud, const rp_qreply *r)
{
    list_ctx *c = ud;
    rp_status st;
    if (c->json) {
        st = reply_json(r, 0, &c->out);
    } else {
        char left[32];
        time_left(r->deadline, c->now, left, sizeof left);
        if (c->n == 0)
            st = rp_buf_printf(&c->out, "%-6s %-16s %-9s %-14s %-4s %-20s %-26s %s\n", "ID",
                               "STATE", "LEFT", "MARKETPLACE", "LANG", "INTENT", "TEMPLATE",
                               "NOTE");
        else
            st = RP_OK;
        char note[160] = "";
        if (r->attention)
            snprintf(note, sizeof note, "attention: %s", r->attention);
        else if (r->compliance && strstr(r->compliance, "\"blocking\":true"))
            snprintf(note, sizeof note, "compliance findings: edit before approving");
        else if (r->high_risk)
            snprintf(note, sizeof note, "high risk");
        else if (r->state == RP_STATE_APPROVED && r->attempts)
            snprintf(note, sizeof note, "retry %u", r->attempts);
        if (st == RP_OK)
            st = rp_buf_printf(&c->out, "%-6lld %-16s %-9s %-14s %-4s %-20s %-26s %s\n",
                               (long long)r->id, rp_reply_state_name(r->state), left,
                               r->marketplace ? r->marketplace : "-",
                               r->language ? r->language : "-", r->intent ? r->intent : "-",
                               r->template_id, note);
    }
    c->n++;
    if (st != RP_OK) {
        c->error = 1;
        return 1;
    }
    if (c->out.len > 1 << 16 && rp_cli_flush(&c->out)) {
        c->error = 1;
        return 1;
    }
    return 0;
}

static int list_suppressed(void *ud, const rp_qinbound *m)
{
    list_ctx *c = ud;
    rp_status st;
    if (c->json) {
        st = rp_buf_printf(&c->out, "{\"inbound\":%lld", (long long)m->id);
        if (st == RP_OK)
            st = json_str(&c->out, "message_id", m->msg_id, 1);
        if (st == RP_OK)
            st = json_str(&c->out, "marketplace", m->marketplace, 1);
        if (st == RP_OK)
            st = json_time(&c->out, "received_at", m->received_at);
        if (st == RP_OK)
            st = json_str(&c->out, "suppressed", m->suppressed, 1);
        if (st == RP_OK)
            st = json_str(&c->out, "detail", m->suppressed_detail, 1);
        if (st == RP_OK)
            st = rp_buf_append_str(&c->out, "}\n");
    } else {
        char when[40];
        rp_cli_format_time(m->received_at, when, sizeof when);
        st = RP_OK;
        if (c->n == 0)
            st = rp_buf_printf(&c->out, "%-8s %-20s %-14s %-26s %s\n", "INBOUND", "RECEIVED",
                               "MARKETPLACE", "REASON", "DETAIL");
        if (st == RP_OK)
            st = rp_buf_printf(&c->out, "%-8lld %-20s %-14s %-26s %s\n", (long long)m->id, when,
                               m->marketplace ? m->marketplace : "-", m->suppressed,
                               m->suppressed_detail ? m->suppressed_detail : "");
    }
    c->n++;
    if (st != RP_OK) {
        c->error = 1;
        return 1;
    }
    return 0;
}

static int count_suppressed(void *ud, const rp_qinbound *m)
{
    (void)m;
    (*(size_t *)ud)++;
    return 0;
}

static int cmd_list(rp_queue *q, qopts *o)
{
    rp_error err;
    list_ctx c = {.json = o->json, .now = now_s(o)};
    rp_status st = o->suppressed ? rp_queue_list_suppressed(q, o->f.limit, list_suppressed, &c, &err)
                                 : rp_queue_list(q, &o->f, list_one, &c, &err);
    int rc = RP_EXIT_OK;
    if (st != RP_OK) {
        fprintf(stderr, "replyd queue list: %s\n", err.msg);
        rc = RP_EXIT_USAGE;
    } else if (c.error) {
        fprintf(stderr, "replyd queue list: cannot write output\n");
        rc = RP_EXIT_USAGE;
    } else if (!o->json && !o->suppressed) {
        size_t sup = 0;
        if (c.n == 0 && rp_buf_append_str(&c.out, "no replies match\n") != RP_OK)
            rc = RP_EXIT_USAGE;
        if (rp_queue_list_suppressed(q, 0, count_suppressed, &sup, &err) == RP_OK && sup &&
            rp_buf_printf(&c.out,
                          "loop protection kept %zu message%s from being answered, or from an "
                          "automatic reply: replyd queue list --suppressed\n",
                          sup, sup == 1 ? "" : "s") != RP_OK)
            rc = RP_EXIT_USAGE;
    } else if (!o->json && c.n == 0 &&
               rp_buf_append_str(&c.out, "no message was suppressed\n") != RP_OK)
        rc = RP_EXIT_USAGE;
    if (rp_cli_flush(&c.out))
        rc = RP_EXIT_USAGE;
    rp_buf_free(&c.out);
    return rc;
}

static int parse_id(const char *s, int64_t *id)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v <= 0)
        return -1;
    *id = v;
    return 0;
}

static int cmd_show(rp_queue *q, qopts *o, int64_t id)
{
    rp_error err;
    rp_qreply r;
    if (rp_queue_get(q, id, &r, &err) != RP_OK) {
        fprintf(stderr, "replyd queue show: %s\n", err.msg);
        return RP_EXIT_PARTIAL;
    }
    rp_buf b = {0};
    rp_status st;
    int64_t now = now_s(o);
    if (o->json) {
        st = reply_json(&r, 1, &b);
    } else {
        char recv[40], dl[40], left[32], created[40], sent[40];
        rp_cli_format_time(r.received_at, recv, sizeof recv);
        rp_cli_format_time(r.deadline, dl, sizeof dl);
        rp_cli_format_time(r.created_at, created, sizeof created);
        rp_cli_format_time(r.sent_at, sent, sizeof sent);
        time_left(r.deadline, now, left, sizeof left);
        st = rp_buf_printf(
            &b,
            "reply %lld  %s%s%s\n"
            "  template:    %s (rule %s, %s)%s\n"
            "  message:     %s  %s  %s  intent %s  priority %s%s\n"
            "  received:    %s\n"
            "  deadline:    %s (%s left)\n"
            "  created:     %s   sent: %s   attempts: %u%s%s\n",
            (long long)r.id, rp_reply_state_name(r.state), r.approved_by ? "  approved by " : "",
            r.approved_by ? r.approved_by : "", r.template_id, r.rule ? r.rule : "-", r.action,
            r.counts_as_response ? "" : ", does not count as a response",
            r.msg_id ? r.msg_id : "-", r.marketplace ? r.marketplace : "-",
            r.language ? r.language : "-", r.intent ? r.intent : "-",
            r.priority ? r.priority : "-", r.high_risk ? "  HIGH RISK" : "", recv, dl, left,
            created, sent, r.attempts, r.sink ? "  sink: " : "", r.sink ? r.sink : "");
        if (st == RP_OK && r.attention)
            st = rp_buf_printf(&b, "  ATTENTION:   %s\n", r.attention);
        if (st == RP_OK && r.last_error)
            st = rp_buf_printf(&b, "  last error:  %s\n", r.last_error);
        if (st == RP_OK && r.compliance && strcmp(r.compliance, "[]") != 0)
            st = rp_buf_printf(&b, "  compliance:  %s\n", r.compliance);
        if (st == RP_OK)
            st = rp_buf_printf(&b, "\n--- buyer's message%s%s\n%s\n",
                               r.in_subject ? ": " : "", r.in_subject ? r.in_subject : "",
                               r.in_body ? r.in_body : "(purged)");
        if (st == RP_OK)
            st = rp_buf_printf(&b, "\n--- reply%s%s\n%s\n", r.subject ? ": " : "",
                               r.subject ? r.subject : "", r.body ? r.body : "(no text)");
    }
    int rc = RP_EXIT_OK;
    if (st != RP_OK || rp_cli_flush(&b))
        rc = RP_EXIT_USAGE;
    rp_buf_free(&b);
    return rc;
}

typedef struct ids {
    int64_t *v;
    size_t n, cap;
    int error;
} ids;

static int collect(void *ud, const rp_qreply *r)
{
    ids *x = ud;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 64;
        int64_t *v = realloc(x->v, cap * sizeof *v);
        if (!v) {
            x->error = 1;
            return 1;
        }
        x->v = v;
        x->cap = cap;
    }
    x->v[x->n++] = r->id;
    return 0;
}

static int confirm(size_t n)
{
    if (!isatty(STDIN_FILENO)) {
        fprintf(stderr, "replyd queue approve: %zu replies match; not asking without a "
                        "terminal: add --yes to approve them\n",
                n);
        return 0;
    }
    fprintf(stderr, "Approve all %zu replies listed above? They will be sent by the next "
                    "'replyd send'. [y/N] ",
            n);
    char line[32];
    if (!fgets(line, sizeof line, stdin))
        return 0;
    return line[0] == 'y' || line[0] == 'Y';
}

static int cmd_approve(rp_queue *q, qopts *o, char **args, int nargs)
{
    char opbuf[128];
    const char *op = rp_cli_operator(o->op, opbuf, sizeof opbuf);
    rp_error err;
    ids x = {0};
    if (o->all) {
        if (nargs) {
            fprintf(stderr, "replyd queue approve: give IDs or --all, not both\n");
            return RP_EXIT_USAGE;
        }
        rp_queue_filter f = o->f;
        f.state = RP_STATE_PENDING_APPROVAL;
        f.open_only = false;
        if (rp_queue_list(q, &f, collect, &x, &err) != RP_OK || x.error) {
            fprintf(stderr, "replyd queue approve: %s\n", x.error ? "out of memory" : err.msg);
            free(x.v);
            return RP_EXIT_USAGE;
        }
        if (x.n == 0) {
            printf("no replies waiting for approval match\n");
            free(x.v);
            return RP_EXIT_OK;
        }
        if (!o->yes) {
            list_ctx c = {.now = now_s(o)};
            for (size_t i = 0; i < x.n && !c.error; i++) {
                rp_qreply r;
                if (rp_queue_get(q, x.v[i], &r, &err) == RP_OK)
                    list_one(&c, &r);
            }
            if (rp_cli_flush(&c.out))
                c.error = 1;
            rp_buf_free(&c.out);
            if (c.error || !confirm(x.n)) {
                printf("nothing approved\n");
                free(x.v);
                return RP_EXIT_PARTIAL;
            }
        }
    } else {
        if (!nargs) {
            fprintf(stderr, "replyd queue approve: which replies? give their IDs or --all\n");
            return RP_EXIT_USAGE;
        }
        for (int i = 0; i < nargs; i++) {
            int64_t id;
            if (parse_id(args[i], &id) || collect(&x, &(rp_qreply){.id = id})) {
                fprintf(stderr, "replyd queue approve: '%s' is not a reply id\n", args[i]);
                free(x.v);
                return RP_EXIT_USAGE;
            }
        }
    }
    int failed = 0;
    size_t done = 0;
    for (size_t i = 0; i < x.n; i++) {
        if (rp_queue_approve(q, x.v[i], op, now_s(o), &err) != RP_OK) {
            fprintf(stderr, "replyd queue approve: %s\n", err.msg);
            failed = 1;
        } else {
            done++;
            printf("approved %lld\n", (long long)x.v[i]);
        }
    }
    if (o->all)
        printf("%zu of %zu replies approved by %s\n", done, x.n, op);
    free(x.v);
    return failed ? RP_EXIT_PARTIAL : RP_EXIT_OK;
}

static int cmd_reject(rp_queue *q, qopts *o, char **args, int nargs)
{
    if (!o->reason || !*o->reason) {
        fprintf(stderr, "replyd queue reject: say why with --reason TEXT\n");
        return RP_EXIT_USAGE;
    }
    if (!nargs) {
        fprintf(stderr, "replyd queue reject: which replies? give their IDs\n");
        return RP_EXIT_USAGE;
    }
    char opbuf[128];
    const char *op = rp_cli_operator(o->op, opbuf, sizeof opbuf);
    int failed = 0;
    for (int i = 0; i < nargs; i++) {
        int64_t id;
        rp_error err;
        if (parse_id(args[i], &id)) {
            fprintf(stderr, "replyd queue reject: '%s' is not a reply id\n", args[i]);
            failed = 1;
            continue;
        }
        if (rp_queue_reject(q, id, op, o->reason, o->no_response, now_s(o), &err) != RP_OK) {
            fprintf(stderr, "replyd queue reject: %s\n", err.msg);
            failed = 1;
        } else
            printf("rejected %lld\n", (long long)id);
    }
    return failed ? RP_EXIT_PARTIAL : RP_EXIT_OK;
}

/* Run the editor on a file holding "Subject: ...", a blank line, the text. */
static int edit_in_editor(const rp_qreply *r, char **subject, char **body)
{
    const char *ed = getenv("VISUAL");
    if (!ed || !*ed)
        ed = getenv("EDITOR");
    if (!ed || !*ed)
        ed = "vi";
    char path[] = "/tmp/replyd-edit-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "replyd queue edit: cannot create a temporary file: %s\n",
                strerror(errno));
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(path);
        return -1;
    }
    fprintf(f, "Subject: %s\n\n%s", r->subject ? r->subject : "", r->body ? r->body : "");
    if (fclose(f) != 0) {
        unlink(path);
        return -1;
    }
    size_t cmdlen = strlen(ed) + strlen(path) + 8;
    char *cmd = malloc(cmdlen);
    if (!cmd) {
        unlink(path);
        return -1;
    }
    snprintf(cmd, cmdlen, "%s '%s'", ed, path);
    int rc = system(cmd);
    free(cmd);
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        fprintf(stderr, "replyd queue edit: the editor (%s) failed; nothing changed\n", ed);
        unlink(path);
        return -1;
    }
    char *data;
    size_t len;
    rp_error err;
    rp_status st = rp_read_file(path, 1u << 20, &data, &len, &err);
    unlink(path);
    if (st != RP_OK) {
        fprintf(stderr, "replyd queue edit: %s\n", err.msg);
        return -1;
    }
    char *p = data;
    *subject = NULL;
    if (strncmp(p, "Subject:", 8) == 0) {
        char *nl = strchr(p, '\n');
        char *s = p + 8;
        while (*s == ' ')
            s++;
        size_t sl = nl ? (size_t)(nl - s) : strlen(s);
        *subject = strndup(s, sl);
        p = nl ? nl + 1 : p + strlen(p);
        if (*p == '\n')
            p++;
    }
    *body = strdup(p);
    free(data);
    if (!*body || (r->subject && !*subject)) {
        free(*subject);
        free(*body);
        return -1;
    }
    return 0;
}

static int cmd_edit(rp_queue *q, qopts *o, const rp_config *cfg, char **args, int nargs)
{
    int64_t id;
    if (nargs != 1 || parse_id(args[0], &id)) {
        fprintf(stderr, "replyd queue edit: give one reply id\n");
        return RP_EXIT_USAGE;
    }
    rp_error err;
    rp_qreply r;
    if (rp_queue_get(q, id, &r, &err) != RP_OK) {
        fprintf(stderr, "replyd queue edit: %s\n", err.msg);
        return RP_EXIT_PARTIAL;
    }
    if (r.state != RP_STATE_PENDING_APPROVAL && r.state != RP_STATE_APPROVED &&
        r.state != RP_STATE_FAILED) {
        fprintf(stderr, "replyd queue edit: reply %lld is %s: it can no longer be edited\n",
                (long long)id, rp_reply_state_name(r.state));
        return RP_EXIT_PARTIAL;
    }
    char *subject = NULL, *body = NULL;
    if (o->body_file) {
        size_t len;
        if (rp_read_file(o->body_file, 1u << 20, &body, &len, &err) != RP_OK) {
            fprintf(stderr, "replyd queue edit: %s\n", err.msg);
            return RP_EXIT_USAGE;
        }
        subject = o->subject ? strdup(o->subject) : r.subject ? strdup(r.subject) : NULL;
    } else if (edit_in_editor(&r, &subject, &body) != 0) {
        return RP_EXIT_PARTIAL;
    } else if (o->subject) {
        free(subject);
        subject = strdup(o->subject);
    }
    int rc = RP_EXIT_OK;
    if (!body || !rp_utf8_valid(body, strlen(body))) {
        fprintf(stderr, "replyd queue edit: the new text is not valid UTF-8\n");
        free(subject);
        free(body);
        return RP_EXIT_USAGE;
    }
    /* the marketplace's rules apply to what a human writes too */
    rp_engine *eng = NULL;
    rp_findings f;
    rp_buf fj = {0};
    rp_compliance_ctx ctx = {0};
    if (rp_engine_new(cfg, &eng, &err) != RP_OK) {
        fprintf(stderr, "replyd queue edit: %s\n", err.msg);
        rc = RP_EXIT_USAGE;
    } else if (rp_compliance_check(rp_engine_compliance(eng), &ctx, subject, body, &f) != RP_OK ||
               rp_findings_json(&f, &fj) != RP_OK) {
        fprintf(stderr, "replyd queue edit: out of memory\n");
        rc = RP_EXIT_USAGE;
    } else {
        char opbuf[128];
        const char *op = rp_cli_operator(o->op, opbuf, sizeof opbuf);
        if (rp_queue_edit(q, id, op, subject, body, fj.data, now_s(o), &err) != RP_OK) {
            fprintf(stderr, "replyd queue edit: %s\n", err.msg);
            rc = RP_EXIT_PARTIAL;
        } else if (rp_findings_blocking(&f)) {
            printf("edited %lld; it fails compliance and cannot be approved until fixed:\n",
                   (long long)id);
            for (size_t i = 0; i < f.n; i++)
                printf("  %s: \"%s\"\n", rp_check_name(f.items[i].check), f.items[i].text);
            rc = RP_EXIT_PARTIAL;
        } else {
            printf("edited %lld; it waits for approval: replyd queue approve %lld\n",
                   (long long)id, (long long)id);
        }
    }
    rp_compliance_ctx_free(&ctx);
    rp_buf_free(&fj);
    rp_engine_free(eng);
    free(subject);
    free(body);
    return rc;
}

static int cmd_purge(rp_queue *q, qopts *o, const rp_config *cfg)
{
    long days = o->older_than >= 0 ? o->older_than : (long)cfg->retention_days;
    int64_t now = now_s(o);
    unsigned n = 0;
    rp_error err;
    if (rp_queue_purge(q, now - (int64_t)days * 86400, now, &n, &err) != RP_OK) {
        fprintf(stderr, "replyd queue purge: %s\n", err.msg);
        return RP_EXIT_USAGE;
    }
    printf("purged the texts of %u message%s older than %ld days\n", n, n == 1 ? "" : "s", days);
    return RP_EXIT_OK;
}

int rp_cmd_queue(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? RP_EXIT_USAGE : RP_EXIT_OK;
    }
    const char *sub = argv[1];
    static const char *const subs[] = {"list", "show", "approve", "edit", "reject", "purge"};
    int known = 0;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        known |= strcmp(sub, subs[i]) == 0;
    if (!known) {
        fprintf(stderr, "replyd queue: unknown subcommand '%s'\n", sub);
        usage(stderr);
        return RP_EXIT_USAGE;
    }
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"queue", required_argument, NULL, 'q'},
                                         {"state", required_argument, NULL, 's'},
                                         {"intent", required_argument, NULL, 'I'},
                                         {"marketplace", required_argument, NULL, 'm'},
                                         {"template", required_argument, NULL, 'T'},
                                         {"attention", no_argument, NULL, 'A'},
                                         {"suppressed", no_argument, NULL, 'S'},
                                         {"limit", required_argument, NULL, 'l'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"all", no_argument, NULL, 'a'},
                                         {"yes", no_argument, NULL, 'y'},
                                         {"operator", required_argument, NULL, 'o'},
                                         {"reason", required_argument, NULL, 'r'},
                                         {"no-response-needed", no_argument, NULL, 'N'},
                                         {"body-file", required_argument, NULL, 'b'},
                                         {"subject", required_argument, NULL, 'u'},
                                         {"older-than", required_argument, NULL, 'O'},
                                         {"now", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    qopts o = {.older_than = -1, .now = RP_TIME_UNKNOWN};
    o.f.state = -1;
    o.f.open_only = true;
    int c;
    optind = 1;
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "c:q:s:l:jayo:r:b:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o.config = optarg;
            break;
        case 'q':
            o.queue = optarg;
            break;
        case 's':
            if (strcmp(optarg, "all") == 0) {
                o.f.open_only = false;
                o.f.state = -1;
            } else if (strcmp(optarg, "open") == 0) {
                o.f.open_only = true;
                o.f.state = -1;
            } else if ((o.f.state = rp_reply_state_from_name(optarg)) < 0) {
                fprintf(stderr,
                        "replyd queue: unknown state '%s' (pending_approval, approved, sending, "
                        "sent, failed, rejected, expired, open, all)\n",
                        optarg);
                return RP_EXIT_USAGE;
            } else
                o.f.open_only = false;
            break;
        case 'I':
            o.f.intent = optarg;
            break;
        case 'm':
            o.f.marketplace = optarg;
            break;
        case 'T':
            o.f.template_id = optarg;
            break;
        case 'A':
            o.f.attention_only = true;
            o.f.open_only = false;
            break;
        case 'S':
            o.suppressed = 1;
            break;
        case 'l': {
            unsigned long v;
            if (rp_cli_count_arg("queue", "limit", optarg, 1, 1000000, &v))
                return RP_EXIT_USAGE;
            o.f.limit = (unsigned)v;
            break;
        }
        case 'j':
            o.json = 1;
            break;
        case 'a':
            o.all = 1;
            break;
        case 'y':
            o.yes = 1;
            break;
        case 'o':
            o.op = optarg;
            break;
        case 'r':
            o.reason = optarg;
            break;
        case 'N':
            o.no_response = 1;
            break;
        case 'b':
            o.body_file = optarg;
            break;
        case 'u':
            o.subject = optarg;
            break;
        case 'O': {
            unsigned long v;
            if (rp_cli_count_arg("queue", "older-than", optarg, 1, 36500, &v))
                return RP_EXIT_USAGE;
            o.older_than = (long)v;
            break;
        }
        case 't':
            if (rp_cli_time_arg("queue", "now", optarg, &o.now))
                return RP_EXIT_USAGE;
            break;
        case 'h':
            usage(stdout);
            return RP_EXIT_OK;
        default:
            usage(stderr);
            return RP_EXIT_USAGE;
        }
    }
    char **args = argv + optind;
    int nargs = argc - optind;
    rp_error err;
    rp_config *cfg = NULL;
    if (rp_cli_load_config(o.config, &cfg, &err) != RP_OK) {
        fprintf(stderr, "replyd queue: configuration: %s\n", err.msg);
        return RP_EXIT_USAGE;
    }
    bool ro = strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0;
    rp_queue *q = NULL;
    if (ro && o.queue == NULL && cfg->queue_path && access(cfg->queue_path, F_OK) != 0 &&
        !getenv("REPLYD_QUEUE")) {
        fprintf(stderr, "replyd queue: no queue at %s yet: 'replyd process' creates it\n",
                cfg->queue_path);
        rp_config_free(cfg);
        return RP_EXIT_USAGE;
    }
    if (rp_cli_open_queue(cfg, o.queue, ro, &q, &err) != RP_OK) {
        fprintf(stderr, "replyd queue: %s\n", err.msg);
        rp_config_free(cfg);
        return RP_EXIT_USAGE;
    }
    int rc;
    if (strcmp(sub, "list") == 0)
        rc = nargs ? (fprintf(stderr, "replyd queue list: unexpected argument '%s'\n", args[0]),
                      RP_EXIT_USAGE)
                   : cmd_list(q, &o);
    else if (strcmp(sub, "show") == 0) {
        int64_t id;
        if (nargs != 1 || parse_id(args[0], &id)) {
            fprintf(stderr, "replyd queue show: give one reply id\n");
            rc = RP_EXIT_USAGE;
        } else
            rc = cmd_show(q, &o, id);
    } else if (strcmp(sub, "approve") == 0)
        rc = cmd_approve(q, &o, args, nargs);
    else if (strcmp(sub, "reject") == 0)
        rc = cmd_reject(q, &o, args, nargs);
    else if (strcmp(sub, "edit") == 0)
        rc = cmd_edit(q, &o, cfg, args, nargs);
    else
        rc = nargs ? RP_EXIT_USAGE : cmd_purge(q, &o, cfg);
    rp_queue_close(q);
    rp_config_free(cfg);
    if (fflush(stdout) != 0)
        rc = RP_EXIT_USAGE;
    return rc;
}
