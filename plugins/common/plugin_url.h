/* plugin_url.h — checking the url option of a plugin that talks to a mail
 * server through libcurl (smtp, imap): one of the plugin's two schemes (plain
 * and implicit TLS), a host, a port (the scheme's default when none is
 * given), a path, and nothing else — no credentials in the URL, no query, no
 * fragment.
 *
 * Compiled only into the plugins that link libcurl (plugins/CMakeLists.txt);
 * hidden visibility like plugin_util.h.
 *
 * Memory: the parts in rp_pu_url are malloc()ed copies, released with
 * rp_pu_url_free(). Errors: -1 and one line in err, starting with the
 * plugin's name ("imap: option 'url' has no host").
 */
#ifndef RP_PLUGIN_URL_H
#define RP_PLUGIN_URL_H

#include <stdbool.h>
#include <stddef.h>

#pragma GCC visibility push(hidden)

typedef struct rp_pu_url {
    char *scheme; /* as given: plain or secure */
    char *host;
    char *port;   /* the scheme's default when the URL names none */
    char *path;   /* "" or starting with '/'; %-decoded when asked */
    bool tls;     /* the scheme was the secure one */
} rp_pu_url;

/* plugin: "imap"; plain, secure: "imap", "imaps". decode_path: %-decode the
 * path (a folder name), else keep it as written. */
int rp_pu_url_parse(const char *plugin, const char *url, const char *plain, const char *secure,
                    bool decode_path, rp_pu_url *out, char *err, size_t errsize);
void rp_pu_url_free(rp_pu_url *u);

#pragma GCC visibility pop

#endif
