/* One issuer's signing keys in one process, shared by its threads.
 *
 * Keys come from OIDC discovery (<issuer>/.well-known/openid-configuration,
 * whose "issuer" must equal the configured one, then its jwks_uri), from a JWKS
 * URL, from a file, or are given (tests, the CLI). The policy:
 * - keys are trusted for ttl after a successful fetch; after that a refresh is
 *   made by one thread (the refresher, when one is attached) while requests
 *   keep using the keys they have;
 * - an unknown kid causes one fetch, shared by every request that waits for it,
 *   and no more than one per refresh_interval; until then the kid stays unknown;
 * - a failed fetch (transport, non-200, invalid JSON, no usable key) never
 *   replaces keys; they stay trusted up to max_stale past their ttl;
 * - with no trusted keys, a fetch is tried at most once per refresh_interval,
 *   and requests in between fail at once with keys_unavailable;
 * - the epoch changes whenever a key leaves the set or all keys are dropped, so
 *   cached validations made with an older epoch can be told apart.
 */
#ifndef LOGTO_STORE_H
#define LOGTO_STORE_H

#include <apr_pools.h>
#include <apr_time.h>

#include "logto_alg.h"
#include "logto_http.h"
#include "logto_jwk.h"
#include "logto_result.h"

typedef struct logto_store logto_store_t;
typedef struct logto_refresher logto_refresher_t;

typedef struct logto_store_conf {
    const char *issuer;                   /* name in logs; discovery base when no jwks_uri/file */
    const char *jwks_uri;                 /* fetch keys here, skipping discovery */
    const char *jwks_file;                /* read keys from this file */
    apr_interval_time_t ttl;              /* LogtoJwksCacheTTL */
    apr_interval_time_t refresh_interval; /* LogtoJwksRefreshInterval */
    apr_interval_time_t max_stale;        /* LogtoJwksMaxStale */
    apr_interval_time_t http_timeout;     /* LogtoHttpTimeout */
    const char *ca_file;                  /* LogtoCACertificateFile */
    int fast_ecdsa; /* LogtoFastECDSA: build fast ECDSA tables for fetched keys */
} logto_store_conf_t;

/* Bound on a discovery document. */
#define LOGTO_DISCOVERY_MAX_BYTES (64L * 1024)

/* The identity of a key source: stores with equal ids are interchangeable. */
const char *logto_store_conf_id(apr_pool_t *p, const logto_store_conf_t *conf);

/* Creates a store that fetches lazily (nothing is fetched here). The store and
 * every key it ever holds live in p's lifetime; p must outlive all users. */
apr_status_t logto_store_create(logto_store_t **store, const logto_store_conf_t *conf,
                                const logto_http_t *http, apr_pool_t *p);

/* A store with fixed keys that never refreshes. */
apr_status_t logto_store_create_static(logto_store_t **store, const char *name,
                                       const logto_jwks_t *keys, apr_pool_t *p);

const char *logto_store_id(const logto_store_t *store);

/* Background refreshes: when attached, TTL refreshes are made by the
 * refresher's thread and no request waits for them. */
void logto_store_attach(logto_store_t *store, logto_refresher_t *refresher);

/* The key that verifies a token with this kid (NULL: none) and algorithm.
 * May fetch (see above). The keys stay valid until p is cleared or destroyed.
 * Fails with unknown_kid or keys_unavailable. */
apr_status_t logto_store_key(logto_store_t *store, const char *kid, logto_alg_e alg, apr_time_t now,
                             apr_pool_t *p, const logto_jwk_t **key, logto_result_t *res);

/* Changes whenever a key leaves the set or all keys are dropped. Lock-free. */
apr_uint32_t logto_store_epoch(logto_store_t *store);

/* Whether the store holds trusted keys now (within ttl + max_stale). Lock-free. */
int logto_store_usable(logto_store_t *store, apr_time_t now);

/* Whether the store holds trusted keys now, fetching them first (under the
 * usual single-flight and retry rules) when it has none yet. */
int logto_store_ready(logto_store_t *store, apr_time_t now);

/* Whether a key with this kid is in the trusted set now. */
int logto_store_has_kid(logto_store_t *store, const char *kid, apr_time_t now);

/* Whether this very key (by fingerprint; with this kid, or none when kid is
 * NULL) is in the trusted set now. */
int logto_store_has_key(logto_store_t *store, const char *kid, const unsigned char *fingerprint,
                        apr_time_t now);

/* Whether this very key (by fingerprint; with this kid, or none when kid is
 * NULL) is in the trusted set now, fetching keys first when the store has
 * none yet (as logto_store_ready). On APR_SUCCESS *epoch is the epoch of the
 * set that holds the key, read together with it: an answer remembered under
 * that epoch goes stale as soon as any key leaves the set. */
apr_status_t logto_store_vouch(logto_store_t *store, const char *kid,
                               const unsigned char *fingerprint, apr_time_t now,
                               apr_uint32_t *epoch);

/* Refreshes now if a TTL refresh is due and none is in flight (the refresher
 * calls this); returns when the next one is due in *next (0: nothing to do). */
void logto_store_refresh_due(logto_store_t *store, apr_time_t now, apr_time_t *next);

/* Counters for logs, tests and the benchmark. */
typedef struct logto_store_stats {
    apr_uint32_t fetches; /* fetches attempted (discovery, if any, and JWKS count as one) */
    apr_uint32_t failures;
    apr_uint32_t keys; /* keys in the trusted set */
} logto_store_stats_t;
void logto_store_stats(logto_store_t *store, logto_store_stats_t *stats);

/* One thread per process that makes TTL refreshes for attached stores.
 * Stopped and joined by a cleanup of p. */
apr_status_t logto_refresher_start(logto_refresher_t **refresher, apr_pool_t *p);
void logto_refresher_kick(logto_refresher_t *refresher);

/* The stores of one process, found by their source (logto_store_conf_id), so
 * that every location naming the same issuer shares one key set. Thread-safe. */
typedef struct logto_stores logto_stores_t;

/* Creates the registry; stores get a refresher thread (started here) unless
 * background is 0. Everything lives until p is destroyed. */
apr_status_t logto_stores_create(logto_stores_t **stores, const logto_http_t *http, int background,
                                 apr_pool_t *p);

/* The store for conf, created on first use. */
apr_status_t logto_stores_get(logto_stores_t *stores, const logto_store_conf_t *conf,
                              logto_store_t **store);

/* Calls fn for every store of the registry, in no particular order. */
void logto_stores_each(logto_stores_t *stores, void (*fn)(void *baton, logto_store_t *store),
                       void *baton);

#endif /* LOGTO_STORE_H */
