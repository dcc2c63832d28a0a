/* plugin_util.h — small helpers every replyd plugin compiles in: error text
 * into the host's buffer, logging through the host, collecting and checking
 * options, whole-number options, paths relative to host->base_dir, passwords
 * from the environment or an owner-only file, sorted folder listings, and the
 * plugin's entry point.
 *
 * plugins/CMakeLists.txt builds plugin_util.c into each plugin; every
 * function here has hidden visibility, so each plugin carries its own copy
 * and exports nothing but its entry point. Nothing here includes or links
 * anything of replyd's core except core/plugin.h, and nothing keeps state
 * between calls.
 *
 * Memory: strings these functions return are malloc()ed and belong to the
 * caller (free(), or rp_pu_wipe_free() for a password). Option values
 * collected by rp_pu_options() are borrowed from the host's options and
 * valid during open() only.
 *
 * Errors come back as the plugin ABI has them: a return value (-1, or NULL)
 * plus one line of text in the caller's err buffer, starting with the
 * plugin's name ("smtp: ..."). The text names options, files and folders,
 * never buyer data.
 */
#ifndef RP_PLUGIN_UTIL_H
#define RP_PLUGIN_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "plugin.h"

/* Everything declared from here to the pop below stays inside the plugin,
 * whatever visibility the plugin is built with. */
#pragma GCC visibility push(hidden)

/* printf into buf (size bytes, NUL-terminated, cut short when it does not
 * fit; nothing written when buf is NULL or size 0). */
void rp_pu_msg(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* rp_pu_msg(), then returns -1: `return rp_pu_fail(err, errsize, ...);`. */
int rp_pu_fail(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One line to the host's log (at most 1023 bytes); nothing when host or its
 * log callback is NULL. */
void rp_pu_log(const rp_plugin_host *host, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Non-zero once the host asks long operations to stop (host may be NULL). */
bool rp_pu_stopping(const rp_plugin_host *host);

/* ---- options ---- */

/* An option refused with its own explanation rather than "unknown option". */
typedef struct rp_pu_refusal {
    const char *key;
    const char *why; /* the text after "<plugin>: " */
} rp_pu_refusal;

/* The refusal of the smtp and imap plugins: passwords never go into the
 * configuration. */
#define RP_PU_REFUSE_PASSWORD                                                                  \
    { "password", "option 'password' is not accepted; use password_env or password_file" }

/* Collects opts against known (names, NULL-terminated): val[i] gets the
 * value of known[i] (a NULL value as ""), or stays NULL when the option is
 * not given; val must have room for every name of known and is cleared
 * first. refused (NULL, or an array ended by a NULL key) names options
 * refused with a reason of their own. Returns 0, or -1 with err set:
 *   "<plugin>: unknown option 'K' (known: a, b, c)"
 *   "<plugin>: option 'K' given twice"
 *   "<plugin>: <why>" for a refused one. */
int rp_pu_options(const char *plugin, const char *const *known, const rp_pu_refusal *refused,
                  const rp_plugin_option *opts, size_t nopts, const char **val, char *err,
                  size_t errsize);

/* Parses v as a whole number from lo to hi: decimal digits only (no sign,
 * no spaces). Returns 0 with *out set, or -1. Writes no text: for plugins
 * whose wording differs from rp_pu_uint_opt's. */
int rp_pu_uint(const char *v, unsigned long long lo, unsigned long long hi,
               unsigned long long *out);

/* rp_pu_uint() for the option key; on failure err gets "<plugin>: option
 * 'KEY' must be a whole number from LO to HI". */
int rp_pu_uint_opt(const char *plugin, const char *key, const char *v, size_t lo, size_t hi,
                   size_t *out, char *err, size_t errsize);

/* A time limit in milliseconds, 1..RP_PU_MS_MAX; on failure err gets
 * "<plugin>: option 'KEY' must be a number of milliseconds (1..3600000)". */
#define RP_PU_MS_MAX 3600000L
int rp_pu_ms_opt(const char *plugin, const char *key, const char *v, long *out, char *err,
                 size_t errsize);

/* ---- strings and paths ---- */

/* A copy of s (NULL for NULL or out of memory). */
char *rp_pu_strdup(const char *s);

/* path when it is absolute or base_dir is NULL or empty, else
 * "base_dir/path"; NULL when memory ran out. */
char *rp_pu_path(const char *base_dir, const char *path);

/* rp_pu_path() for a folder: trailing slashes removed ("/" stays). */
char *rp_pu_dir(const char *base_dir, const char *path);

/* A folder the plugin lists and changes: it exists, is a folder, and can be
 * read, written and entered. 0, or -1 with err "<plugin>: [WHAT ]PATH: why"
 * or "<plugin>: [WHAT ]PATH is not a folder" (what may be NULL). */
int rp_pu_check_dir(const char *plugin, const char *what, const char *path, char *err,
                    size_t errsize);

/* ---- options of plugins that talk TLS ---- */

typedef enum { RP_PU_TLS_NONE, RP_PU_TLS_STARTTLS, RP_PU_TLS_IMPLICIT } rp_pu_tls;

/* The tls option v (NULL: not given) for a url whose scheme is or is not
 * the implicit-TLS one (tls_scheme, "smtps"): none | starttls | tls, by
 * default tls for a tls_scheme url and starttls otherwise; tls must go with
 * a tls_scheme url and the other way round. 0 with *out set, or -1 with err
 * set ("<plugin>: option 'tls' must be none, starttls or tls", ...). */
int rp_pu_tls_opt(const char *plugin, const char *v, bool implicit_url, const char *tls_scheme,
                  rp_pu_tls *out, char *err, size_t errsize);

/* The ca_file option v: not empty, resolved against base_dir, readable.
 * Returns the path (caller frees), or NULL with err set. */
char *rp_pu_ca_file(const char *plugin, const char *base_dir, const char *v, char *err,
                    size_t errsize);

/* ---- passwords ---- */

/* Longest password read from a file. */
#define RP_PU_PASSWORD_MAX 4096

/* The password from the environment variable named env when env is not
 * NULL, else from the file named file (resolved against base_dir): a
 * regular file that neither group nor others may access at all, holding one
 * non-empty line (one trailing LF and then one CR are dropped), at most
 * RP_PU_PASSWORD_MAX bytes. Returns a copy the caller releases with
 * rp_pu_wipe_free(), or NULL with err set ("<plugin>: password_env: ...",
 * "<plugin>: password_file PATH ..."). Buffers it gives up are wiped. */
char *rp_pu_password(const char *plugin, const char *base_dir, const char *env,
                     const char *file, char *err, size_t errsize);

/* Overwrites s (up to its NUL) and frees it; NULL-safe. */
void rp_pu_wipe_free(char *s);

/* ---- folder listings ---- */

typedef int (*rp_pu_cmp_fn)(const char *a, const char *b);
/* Whether a name found in the folder is wanted (ctx as given). */
typedef bool (*rp_pu_keep_fn)(void *ctx, const char *name);

/* Names of a listing, sorted; owned by the caller (rp_pu_names_free). */
typedef struct rp_pu_names {
    char **v;
    size_t n;
    bool truncated; /* more names qualified than limit */
} rp_pu_names;

/* Lists folder dir: the limit (>= 1) smallest names by cmp that are larger
 * than after (NULL: any; borrowed, it may point into a listing the caller
 * frees afterwards), skipping subfolders the file system reports as such and
 * names keep() refuses (keep may be NULL), sorted by cmp. Memory: one array
 * of limit pointers plus the names kept. Returns 0 with *out filled, or -1
 * when the folder cannot be opened and -2 when reading it (or memory) failed,
 * with errno saying why and *out cleared. */
int rp_pu_list(const char *dir, const char *after, size_t limit, rp_pu_cmp_fn cmp,
               rp_pu_keep_fn keep, void *ctx, rp_pu_names *out);

/* Frees the names and clears *names; NULL-safe. */
void rp_pu_names_free(rp_pu_names *names);

#pragma GCC visibility pop

/* ---- entry point ---- */

/* Defines the plugin's rp_plugin_info and its exported entry point, the one
 * symbol a plugin exports. Use it once, at file scope, with a semicolon:
 *   RP_PU_PLUGIN("file", "appends each reply ...", &rp_file_ops, NULL);
 * SINK and SOURCE are pointers to the plugin's ops (or NULL). */
#define RP_PU_PLUGIN(NAME, DESCRIPTION, SINK, SOURCE)                                         \
    static const rp_plugin_info rp_pu_plugin_info = {                                         \
        .abi = RP_PLUGIN_ABI,                                                                 \
        .name = (NAME),                                                                       \
        .description = (DESCRIPTION),                                                         \
        .sink = (SINK),                                                                       \
        .source = (SOURCE),                                                                   \
    };                                                                                        \
    RP_PLUGIN_EXPORT const rp_plugin_info *rp_plugin_v1(void);                                \
    RP_PLUGIN_EXPORT const rp_plugin_info *rp_plugin_v1(void)                                 \
    {                                                                                         \
        return &rp_pu_plugin_info;                                                            \
    }                                                                                         \
    RP_PLUGIN_EXPORT const rp_plugin_info *rp_plugin_v1(void)

#endif
