/* A minimal HTTP/1.1 server on 127.0.0.1 (a free port) run in a thread, for
 * the libcurl fetcher tests. Each path answers with a raw response (status
 * line, headers and body exactly as given), or stalls: it reads the request
 * and never answers. One connection at a time; every request is counted. */
#ifndef LOGTO_MINI_SERVER_H
#define LOGTO_MINI_SERVER_H

#include <apr_pools.h>

typedef struct mini_server mini_server_t;

/* Started now; stopped and joined by a cleanup of p. */
mini_server_t *mini_server_start(apr_pool_t *p);

int mini_server_port(mini_server_t *server);

/* "http://127.0.0.1:<port><path>" */
const char *mini_server_url(mini_server_t *server, apr_pool_t *p, const char *path);

/* path answers with raw (copied), or stalls when raw is NULL. */
void mini_server_route(mini_server_t *server, const char *path, const char *raw);

/* Requests received for path (all paths when NULL). */
unsigned mini_server_hits(mini_server_t *server, const char *path);

/* A port on 127.0.0.1 where nothing listens (bound, then closed). */
int mini_server_closed_port(apr_pool_t *p);

#endif /* LOGTO_MINI_SERVER_H */
