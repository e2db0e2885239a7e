/* What a bearer token says under one location's validation policy: the one
 * question the glue asks. The order of the answer lives here: the in-process
 * cache, then a cache shared with other processes or hosts (through a small
 * backend the glue implements with mod_socache), then full validation, whose
 * answer is remembered by both caches. */
#ifndef LOGTO_AUTH_H
#define LOGTO_AUTH_H

#include <apr_pools.h>
#include <apr_time.h>

#include "logto_claims.h"
#include "logto_jws.h"
#include "logto_result.h"
#include "logto_tcache.h"
#include "logto_validate.h"

/* Where an accepted token's claims came from. */
typedef enum {
    LOGTO_FROM_VERIFIED = 0, /* signature verified now */
    LOGTO_FROM_CACHE,        /* the in-process cache */
    LOGTO_FROM_SHARED_CACHE  /* the shared cache, checked against our keys */
} logto_from_e;

/* A cache shared beyond this process. Both calls must answer quickly and may
 * fail: a shared cache is an optimisation, never waited on. */
typedef struct logto_shared_cache {
    /* APR_SUCCESS with the value (in p), APR_NOTFOUND, or anything else when
     * the cache could not be asked. */
    apr_status_t (*get)(void *baton, const unsigned char *key, apr_size_t key_len, apr_pool_t *p,
                        unsigned char **value, apr_size_t *len);
    /* Remembers value until expiry; p is for scratch. */
    void (*put)(void *baton, const unsigned char *key, apr_size_t key_len,
                const unsigned char *value, apr_size_t len, apr_time_t expiry, apr_pool_t *p);
    void *baton;
} logto_shared_cache_t;

/* One location's validation: its policy and the caches it may use. */
typedef struct logto_check {
    const logto_policy_t *policy;
    logto_tcache_t *tcache;             /* NULL: no in-process cache */
    const logto_shared_cache_t *shared; /* NULL: no shared cache */
} logto_check_t;

/* Bound on a value read back from a shared cache. */
#define LOGTO_SHARED_VALUE_MAX (LOGTO_MAX_TOKEN_LEN + 4096)

/* Validates token (len bytes) for check at now. On success *claims (in p) and
 * *from; otherwise res says why (keys_unavailable: the issuer's keys cannot
 * be had). When the cache key cannot be computed, both caches are skipped
 * for this token. A value from the shared cache is trusted only when it is
 * well-formed, for this very key, not expired, names an issuer of the policy,
 * and the key that verified it (kid and fingerprint) is in that issuer's
 * trusted set here. */
apr_status_t logto_authenticate(const logto_check_t *check, const char *token, apr_size_t len,
                                apr_time_t now, apr_pool_t *p, logto_claims_t **claims,
                                logto_from_e *from, logto_result_t *res);

/* The name of a source for logs and metrics: "verified", "cache", "shared_cache". */
const char *logto_from_name(logto_from_e from);

#endif /* LOGTO_AUTH_H */
