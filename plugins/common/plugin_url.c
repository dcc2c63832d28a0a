/* plugin_url.c — the url option of the libcurl mail plugins (plugin_url.h). */
#include "plugin_url.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_util.h"

static char *copy(const char *s)
{
    return rp_pu_strdup(s ? s : "");
}

int rp_pu_url_parse(const char *plugin, const char *url, const char *plain, const char *secure,
                    bool decode_path, rp_pu_url *out, char *err, size_t errsize)
{
    memset(out, 0, sizeof *out);
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *user = NULL,
         *query = NULL, *frag = NULL;
    int rc = -1;
    if (!u)
        return rp_pu_fail(err, errsize, "%s: out of memory", plugin);
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        rp_pu_msg(err, errsize, "%s: option 'url' is not a valid URL", plugin);
        goto done;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, plain) != 0 && strcmp(scheme, secure) != 0)) {
        rp_pu_msg(err, errsize, "%s: option 'url' must start with %s:// or %s://", plugin, plain,
                  secure);
        goto done;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
        rp_pu_msg(err, errsize, "%s: option 'url' has no host", plugin);
        goto done;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        rp_pu_msg(err, errsize,
                  "%s: option 'url' must not hold credentials (use username and "
                  "password_env or password_file)",
                  plugin);
        goto done;
    }
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
        rp_pu_msg(err, errsize, "%s: option 'url' must not have a query or fragment", plugin);
        goto done;
    }
    if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        rp_pu_msg(err, errsize, "%s: option 'url' has no usable port", plugin);
        goto done;
    }
    if (curl_url_get(u, CURLUPART_PATH, &path, decode_path ? CURLU_URLDECODE : 0) !=
        CURLUE_OK) {
        rp_pu_msg(err, errsize, "%s: option 'url' has an unreadable path", plugin);
        goto done;
    }
    out->tls = strcmp(scheme, secure) == 0;
    out->scheme = copy(scheme);
    out->host = copy(host);
    out->port = copy(port);
    out->path = copy(path);
    if (!out->scheme || !out->host || !out->port || !out->path) {
        rp_pu_url_free(out);
        rp_pu_msg(err, errsize, "%s: out of memory", plugin);
        goto done;
    }
    rc = 0;
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(user);
    curl_free(query);
    curl_free(frag);
    curl_url_cleanup(u);
    return rc;
}

void rp_pu_url_free(rp_pu_url *u)
{
    free(u->scheme);
    free(u->host);
    free(u->port);
    free(u->path);
    memset(u, 0, sizeof *u);
}
