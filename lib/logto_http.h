/* HTTP GET as an interface, so the key store is tested without a network;
 * libcurl is the implementation the module uses. */
#ifndef LOGTO_HTTP_H
#define LOGTO_HTTP_H

#include <apr_pools.h>
#include <apr_time.h>

/* Asked while a transfer runs (at least about once a second): non-zero ends
 * it at once, e.g. because the process is stopping. */
typedef int logto_http_cancelled_fn(void *baton);

typedef struct logto_http_opts {
    apr_interval_time_t timeout; /* whole transfer, connect included */
    apr_size_t max_body;         /* a longer body fails the fetch */
    const char *ca_file;         /* extra trusted CAs (PEM), NULL for the system store only */
    logto_http_cancelled_fn *cancelled; /* NULL: never cancelled */
    void *cancel_baton;
} logto_http_opts_t;

typedef struct logto_http_resp {
    int status;
    const char *body; /* NUL-terminated */
    apr_size_t len;
} logto_http_resp_t;

/* APR_SUCCESS when an HTTP answer (any status) was received; otherwise *error
 * says what failed (refused, timeout, TLS, too large, ...). */
typedef apr_status_t logto_http_get_fn(void *baton, apr_pool_t *p, const char *url,
                                       const logto_http_opts_t *opts, logto_http_resp_t *resp,
                                       const char **error);

typedef struct logto_http {
    logto_http_get_fn *get;
    void *baton;
} logto_http_t;

/* Once per process, before threads: curl_global_init. */
apr_status_t logto_http_global_init(void);

/* The libcurl implementation: certificates always verified, no compressed
 * bodies, redirects followed only within the same origin, at most 3. */
const logto_http_t *logto_http_curl(void);

/* Whether url may be fetched: https://, or http:// on a loopback host
 * (127.0.0.1, [::1], localhost). *why says why not. */
int logto_url_allowed(const char *url, const char **why);

#endif /* LOGTO_HTTP_H */
