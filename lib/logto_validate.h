/* Validation of one bearer token against one policy: the whole pipeline from
 * the compact JWS to checked claims. Nothing here parses a JWK; allocations are
 * from the caller's pool (jansson's own objects are released by its cleanups). */
#ifndef LOGTO_VALIDATE_H
#define LOGTO_VALIDATE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "logto_claims.h"
#include "logto_result.h"
#include "logto_store.h"

#define LOGTO_FINGERPRINT_LEN 32

typedef struct logto_issuer {
    const char *iss;      /* accepted iss value, exact */
    logto_store_t *store; /* its keys */
} logto_issuer_t;

typedef struct logto_policy {
    apr_array_header_t *issuers;   /* of logto_issuer_t */
    apr_array_header_t *iss_names; /* of const char *, the iss values in order */
    unsigned alg_mask;             /* LOGTO_ALG_BIT()s */
    apr_array_header_t *types;     /* of const char *, lower-case, no "application/"; NULL: any */
    apr_interval_time_t leeway;    /* exp, nbf, iat */
    unsigned char fingerprint[LOGTO_FINGERPRINT_LEN]; /* set by logto_policy_seal */
    int sealed; /* the fingerprint was computed: caches may be used */
} logto_policy_t;

/* An empty policy with the documented defaults: every algorithm, typ at+jwt,
 * 60 s leeway. */
logto_policy_t *logto_policy_make(apr_pool_t *p);

void logto_policy_add_issuer(logto_policy_t *policy, const char *iss, logto_store_t *store);

/* Computes the fingerprint over everything that decides a validation: issuers
 * and their key sources, algorithms, types and leeway. Call once, after the
 * policy is complete; the policy is read-only afterwards. On a failure the
 * policy stays unsealed (no cache is used with it) and an error is returned. */
apr_status_t logto_policy_seal(logto_policy_t *policy);

/* Validates token. The order is cheap to dear: structure and header (alg
 * allow-list, typ, crit), then the claims (iss picks the issuer; exp, nbf, iat
 * and types), then the key and the signature, so a token that fails a cheap
 * check costs no key look-up, no fetch and no signature check. On success *claims lives in p, and
 * *store_out / *epoch say which key set (and its epoch) verified it. */
apr_status_t logto_validate(const logto_policy_t *policy, const char *token, apr_size_t len,
                            apr_time_t now, apr_pool_t *p, logto_claims_t **claims,
                            logto_store_t **store_out, apr_uint32_t *epoch, logto_result_t *res);

#endif /* LOGTO_VALIDATE_H */
