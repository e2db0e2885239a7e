#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "logto_auth.h"
#include "logto_crypto.h"
#include "logto_log.h"
#include "logto_lognum.h"

const char *logto_from_name(logto_from_e from)
{
    switch (from) {
    case LOGTO_FROM_CACHE:
        return "cache";
    case LOGTO_FROM_SHARED_CACHE:
        return "shared_cache";
    case LOGTO_FROM_VERIFIED:
    default:
        return "verified";
    }
}

/* The issuer entry of the policy for iss. */
static const logto_issuer_t *policy_issuer(const logto_policy_t *policy, const char *iss)
{
    int i;

    for (i = 0; i < policy->issuers->nelts; i++) {
        const logto_issuer_t *issuer = &APR_ARRAY_IDX(policy->issuers, i, logto_issuer_t);

        if (strcmp(issuer->iss, iss) == 0) {
            return issuer;
        }
    }
    return NULL;
}

/* A shared-cache value is SHA-256(key || claims) || claims: a value stored
 * under another key (a hash collision in the cache, a confused server) or
 * damaged on the way is refused, not decoded into other claims. */
#define VALUE_CHECK_LEN 32

static apr_status_t value_check(const unsigned char *key, const unsigned char *claims,
                                apr_size_t len, unsigned char check[VALUE_CHECK_LEN])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    int ok = md && EVP_DigestInit_ex(md, logto_sha256(), NULL) == 1
             && EVP_DigestUpdate(md, key, LOGTO_TCACHE_KEY_LEN) == 1
             && EVP_DigestUpdate(md, claims, len) == 1 && EVP_DigestFinal_ex(md, check, &n) == 1
             && n == VALUE_CHECK_LEN;

    EVP_MD_CTX_free(md);
    return ok ? APR_SUCCESS : APR_EGENERAL;
}

/* The claims of a shared-cache value, if they can be trusted here; *store
 * and *epoch say which key set vouches for them. */
static logto_claims_t *shared_claims(const logto_check_t *check, const unsigned char *key,
                                     const unsigned char *value, apr_size_t len, apr_time_t now,
                                     apr_pool_t *p, logto_store_t **store, apr_uint32_t *epoch)
{
    unsigned char expected[VALUE_CHECK_LEN];
    const logto_issuer_t *issuer;
    logto_claims_t *claims;

    if (len <= VALUE_CHECK_LEN || len > LOGTO_SHARED_VALUE_MAX
        || value_check(key, value + VALUE_CHECK_LEN, len - VALUE_CHECK_LEN, expected) != APR_SUCCESS
        || CRYPTO_memcmp(value, expected, VALUE_CHECK_LEN) != 0
        || logto_claims_decode(p, value + VALUE_CHECK_LEN, len - VALUE_CHECK_LEN, &claims)
               != APR_SUCCESS
        || now >= apr_time_from_sec(claims->exp)
        || !(issuer = policy_issuer(check->policy, claims->iss))
        || logto_store_vouch(issuer->store, claims->kid, claims->key_fingerprint, now, epoch)
               != APR_SUCCESS) {
        logto_log_write(LOGTO_LOG_DEBUG, APR_SUCCESS, LOGTO_MARK,
                        LOGTO0302 "value from the shared token cache not trusted: validating anew");
        return NULL;
    }
    *store = issuer->store;
    return claims;
}

static void shared_put(const logto_check_t *check, const unsigned char *key,
                       const logto_claims_t *claims, apr_pool_t *p)
{
    unsigned char *encoded, *value;
    apr_size_t len;

    if (logto_claims_encode(p, claims, &encoded, &len) != APR_SUCCESS
        || len + VALUE_CHECK_LEN > LOGTO_SHARED_VALUE_MAX) {
        return;
    }
    value = apr_palloc(p, len + VALUE_CHECK_LEN);
    if (value_check(key, encoded, len, value) != APR_SUCCESS) {
        return;
    }
    memcpy(value + VALUE_CHECK_LEN, encoded, len);
    check->shared->put(check->shared->baton, key, LOGTO_TCACHE_KEY_LEN, value,
                       len + VALUE_CHECK_LEN, apr_time_from_sec(claims->exp), p);
}

apr_status_t logto_authenticate(const logto_check_t *check, const char *token, apr_size_t len,
                                apr_time_t now, apr_pool_t *p, logto_claims_t **claims,
                                logto_from_e *from, logto_result_t *res)
{
    unsigned char key[LOGTO_TCACHE_KEY_LEN];
    const logto_shared_cache_t *shared = check->shared;
    logto_tcache_t *tcache = check->tcache;
    logto_store_t *store = NULL;
    apr_uint32_t epoch = 0;
    unsigned char *value;
    apr_size_t value_len;

    logto_result_reset(res);
    /* No key, no cache: a failed digest must never become a key that other
     * tokens share. */
    if ((tcache || shared)
        && (!check->policy->sealed
            || logto_tcache_key(check->policy->fingerprint, token, len, key) != APR_SUCCESS)) {
        logto_log_write(LOGTO_LOG_WARNING, APR_SUCCESS, LOGTO_MARK,
                        LOGTO0303 "token cache key not computed: caches skipped for this token");
        tcache = NULL;
        shared = NULL;
    }
    if (tcache && logto_tcache_get(tcache, key, now, p, claims)) {
        *from = LOGTO_FROM_CACHE;
        return APR_SUCCESS;
    }
    if (shared
        && shared->get(shared->baton, key, LOGTO_TCACHE_KEY_LEN, p, &value, &value_len)
               == APR_SUCCESS
        && (*claims = shared_claims(check, key, value, value_len, now, p, &store, &epoch))) {
        if (tcache) {
            logto_tcache_put(tcache, key, *claims, store, epoch, p);
        }
        *from = LOGTO_FROM_SHARED_CACHE;
        return APR_SUCCESS;
    }
    if (logto_validate(check->policy, token, len, now, p, claims, &store, &epoch, res)
        != APR_SUCCESS) {
        return res->status;
    }
    if (tcache) {
        logto_tcache_put(tcache, key, *claims, store, epoch, p);
    }
    if (shared) {
        shared_put(check, key, *claims, p);
    }
    *from = LOGTO_FROM_VERIFIED;
    return APR_SUCCESS;
}
