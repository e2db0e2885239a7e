/* A programmable, thread-safe logto_http_t for the key store tests: each URL
 * answers with a status and body, a transport failure, or after a delay; every
 * call is counted. A URL with no answer set fails as a transport error. A
 * delay longer than the caller's timeout ends as a timeout after that timeout,
 * as a real fetcher would. */
#ifndef LOGTO_FAKE_HTTP_H
#define LOGTO_FAKE_HTTP_H

#include <apr_pools.h>
#include <apr_time.h>

#include "logto_http.h"

typedef struct fake_http fake_http_t;

/* Lives until p is destroyed; p must outlive every store that uses it. */
fake_http_t *fake_http_create(apr_pool_t *p);
const logto_http_t *fake_http_iface(fake_http_t *fake);

/* url answers status with body (copied). */
void fake_http_set(fake_http_t *fake, const char *url, int status, const char *body);

/* url fails as a transport error with this message. */
void fake_http_fail(fake_http_t *fake, const char *url, const char *error);

/* url answers only after delay (0: at once). */
void fake_http_delay(fake_http_t *fake, const char *url, apr_interval_time_t delay);

/* Calls made for url (all URLs when NULL), counted when they start. */
unsigned fake_http_calls(fake_http_t *fake, const char *url);

/* Calls for url that have returned. */
unsigned fake_http_done(fake_http_t *fake, const char *url);

/* Calls in progress now. */
unsigned fake_http_active(fake_http_t *fake);

/* The options of the last call for url; 0 if it was never called. */
int fake_http_last_opts(fake_http_t *fake, const char *url, logto_http_opts_t *opts);

#endif /* LOGTO_FAKE_HTTP_H */
