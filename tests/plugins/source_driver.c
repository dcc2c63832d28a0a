/* source_driver — loads one source plugin and polls it, for the plugin tests.
 * Not installed.
 *
 * usage: source_driver PLUGIN.so [options] [key=value...]
 *   --state TEXT     the state the instance last saved (default: none)
 *   --state-file F   read that state from F, and write every state the plugin
 *                    saves back to F (so consecutive runs behave like restarts)
 *   --max N          items per poll (default 100)
 *   --polls K        poll at most K times (default: until *more is 0)
 *   --no-ack         hand items over but never acknowledge them
 *   --unreadable S   acknowledge items whose bytes contain S as unreadable
 *   --stop-after N   return "stop" from emit after N items (shutdown)
 *   --out DIR        write each item's bytes to DIR/NNNN (1-based, in order)
 *   --check          open with check_only set, then close
 *
 * Prints, one per line:
 *   item REF format=F len=N received=T   for each item handed over
 *   poll RESULT more=M DETAIL             after each poll
 *   ack RESULT N DETAIL                   after each acknowledgement
 *   state TEXT                            each time the plugin saves state
 *   log LEVEL TEXT                        plugin log lines (to stderr)
 * Exit status: 0 when every poll and ack returned OK, 1 otherwise, 2 on usage
 * or load errors (open failing prints "open: REASON").
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

typedef struct driver {
    const char *state_file;
    const char *unreadable;
    const char *out_dir;
    unsigned long stop_after;
    unsigned long handed;
    uint64_t *tokens;
    int *outcome;
    size_t n, cap;
} driver;

static void host_log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "log %d %s\n", level, msg);
}

static void host_save(void *ctx, const char *state)
{
    driver *d = ctx;
    printf("state %s\n", state);
    fflush(stdout);
    if (d->state_file) {
        FILE *f = fopen(d->state_file, "w");
        if (!f || fputs(state, f) < 0 || fclose(f) != 0) {
            fprintf(stderr, "source_driver: cannot write %s\n", d->state_file);
            exit(2);
        }
    }
}

static int host_stopping(void *ctx)
{
    (void)ctx;
    return 0;
}

static int emit(void *ctx, const rp_source_item *it)
{
    driver *d = ctx;
    if (d->stop_after && d->handed >= d->stop_after)
        return 1;
    d->handed++;
    printf("item %s format=%u len=%zu received=%lld\n", it->ref ? it->ref : "(null)", it->format,
           it->len, (long long)it->received);
    if (d->out_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%04lu", d->out_dir, d->handed);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(it->data, 1, it->len, f) != it->len || fclose(f) != 0) {
            fprintf(stderr, "source_driver: cannot write %s\n", path);
            exit(2);
        }
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->tokens = realloc(d->tokens, d->cap * sizeof *d->tokens);
        d->outcome = realloc(d->outcome, d->cap * sizeof *d->outcome);
        if (!d->tokens || !d->outcome) {
            fprintf(stderr, "source_driver: out of memory\n");
            exit(2);
        }
    }
    int bad = 0;
    if (d->unreadable) {
        size_t ul = strlen(d->unreadable);
        for (size_t i = 0; i + ul <= it->len && !bad; i++)
            bad = memcmp(it->data + i, d->unreadable, ul) == 0;
    }
    d->tokens[d->n] = it->token;
    d->outcome[d->n] = bad ? RP_ACK_UNREADABLE : RP_ACK_STORED;
    d->n++;
    return 0;
}

static const char *result_name(rp_source_result r)
{
    return r == RP_SOURCE_OK ? "OK" : r == RP_SOURCE_RETRY ? "RETRY" : "FATAL";
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: source_driver PLUGIN.so [options] [key=value...]\n");
        return 2;
    }
    driver d = {0};
    const char *state = NULL;
    char *state_buf = NULL;
    unsigned long max = 100, polls = 0;
    int ack = 1, check = 0;
    rp_plugin_option opts[64];
    size_t nopts = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--state") == 0 && i + 1 < argc)
            state = argv[++i];
        else if (strcmp(a, "--state-file") == 0 && i + 1 < argc)
            d.state_file = argv[++i];
        else if (strcmp(a, "--max") == 0 && i + 1 < argc)
            max = strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--polls") == 0 && i + 1 < argc)
            polls = strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--no-ack") == 0)
            ack = 0;
        else if (strcmp(a, "--unreadable") == 0 && i + 1 < argc)
            d.unreadable = argv[++i];
        else if (strcmp(a, "--stop-after") == 0 && i + 1 < argc)
            d.stop_after = strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--out") == 0 && i + 1 < argc)
            d.out_dir = argv[++i];
        else if (strcmp(a, "--check") == 0)
            check = 1;
        else if (strchr(a, '=') && nopts < sizeof opts / sizeof opts[0]) {
            char *eq = strchr(argv[i], '=');
            *eq = '\0';
            opts[nopts].key = argv[i];
            opts[nopts].value = eq + 1;
            nopts++;
        } else {
            fprintf(stderr, "source_driver: bad argument '%s'\n", a);
            return 2;
        }
    }
    if (d.state_file && !state) {
        FILE *f = fopen(d.state_file, "r");
        if (f) {
            state_buf = calloc(1, 8192);
            if (!state_buf || fread(state_buf, 1, 8191, f) == 0) {
                free(state_buf);
                state_buf = NULL;
            }
            fclose(f);
            state = state_buf;
        }
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "source_driver: %s\n", dlerror());
        return 2;
    }
    rp_plugin_entry_fn entry = (rp_plugin_entry_fn)dlsym(h, RP_PLUGIN_ENTRY);
    const rp_plugin_info *info = entry ? entry() : NULL;
    if (!info || info->abi != RP_PLUGIN_ABI || !info->source ||
        info->source->size < sizeof(rp_source_ops)) {
        fprintf(stderr, "source_driver: %s is not a source plugin of ABI %d\n", argv[1],
                RP_PLUGIN_ABI);
        return 2;
    }
    const rp_source_ops *ops = info->source;
    rp_plugin_host host = {.abi = RP_PLUGIN_ABI,
                           .ctx = &d,
                           .log = host_log,
                           .base_dir = ".",
                           .check_only = check,
                           .save_state = host_save,
                           .stopping = host_stopping};
    void *inst = NULL;
    char err[512] = "";
    if (ops->open(&host, opts, nopts, state, &inst, err, sizeof err) != 0) {
        printf("open: %s\n", err);
        free(state_buf);
        return 2;
    }
    int rc = 0;
    for (unsigned long p = 0; !check && (!polls || p < polls); p++) {
        int more = 0;
        char detail[1024] = "";
        d.n = 0;
        rp_source_result r = ops->poll(inst, (unsigned)max, emit, &d, &more, detail, sizeof detail);
        printf("poll %s more=%d %s\n", result_name(r), more, detail);
        if (r != RP_SOURCE_OK)
            rc = 1;
        if (ack && d.n) {
            detail[0] = '\0';
            rp_source_result a = ops->ack(inst, d.tokens, d.outcome, d.n, detail, sizeof detail);
            printf("ack %s %zu %s\n", result_name(a), d.n, detail);
            if (a != RP_SOURCE_OK)
                rc = 1;
        }
        fflush(stdout);
        if (r != RP_SOURCE_OK || !more || (d.stop_after && d.handed >= d.stop_after))
            break;
    }
    ops->close(inst);
    free(d.tokens);
    free(d.outcome);
    free(state_buf);
    return rc;
}
