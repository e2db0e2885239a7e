/* logto_authenticate: the order of the answer (in-process cache, shared
 * cache, validation) and what a shared-cache value must prove before it is
 * trusted. The shared cache here is a table in memory standing for
 * mod_socache; a value put by one "host" is read by another policy instance
 * with its own key store, as a second server would. */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "fake_http.h"
#include "logto_auth.h"
#include "test_keys.h"
#include "unit.h"

/* ---- a shared cache in memory ---------------------------------------------------- */

typedef struct fake_shared {
    apr_pool_t *pool;
    apr_hash_t *values; /* key bytes -> value */
    int gets, puts;
    int fail; /* every call fails */
} fake_shared_t;

typedef struct value {
    unsigned char *data;
    apr_size_t len;
} value_t;

static apr_status_t fake_get(void *baton, const unsigned char *key, apr_size_t key_len,
                             apr_pool_t *p, unsigned char **out, apr_size_t *len)
{
    fake_shared_t *fs = baton;
    value_t *v;

    fs->gets++;
    if (fs->fail) {
        return APR_EGENERAL;
    }
    if (!(v = apr_hash_get(fs->values, key, (apr_ssize_t)key_len))) {
        return APR_NOTFOUND;
    }
    *out = apr_pmemdup(p, v->data, v->len);
    *len = v->len;
    return APR_SUCCESS;
}

static void fake_put(void *baton, const unsigned char *key, apr_size_t key_len,
                     const unsigned char *data, apr_size_t len, apr_time_t expiry, apr_pool_t *p)
{
    fake_shared_t *fs = baton;
    value_t *v = apr_palloc(fs->pool, sizeof(*v));

    (void)expiry;
    (void)p;
    fs->puts++;
    v->data = apr_pmemdup(fs->pool, data, len);
    v->len = len;
    apr_hash_set(fs->values, apr_pmemdup(fs->pool, key, key_len), (apr_ssize_t)key_len, v);
}

static logto_shared_cache_t *fake_shared(apr_pool_t *p, fake_shared_t **out)
{
    fake_shared_t *fs = apr_pcalloc(p, sizeof(*fs));
    logto_shared_cache_t *sc = apr_pcalloc(p, sizeof(*sc));

    fs->pool = p;
    fs->values = apr_hash_make(p);
    sc->get = fake_get;
    sc->put = fake_put;
    sc->baton = fs;
    *out = fs;
    return sc;
}

/* Replaces every stored value by f(value). */
static void fake_rewrite(fake_shared_t *fs, void (*f)(apr_pool_t *p, value_t *v))
{
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(fs->pool, fs->values); hi; hi = apr_hash_next(hi)) {
        f(fs->pool, apr_hash_this_val(hi));
    }
}

/* ---- a host: policy, key store, in-process cache ------------------------------------- */

typedef struct host {
    logto_policy_t *policy;
    logto_store_t *store;
    logto_tcache_t *tcache;
    logto_check_t check;
} host_t;

static host_t *host_make(apr_pool_t *p, const char *jwks_json, const logto_shared_cache_t *shared,
                         int with_tcache)
{
    host_t *h = apr_pcalloc(p, sizeof(*h));

    assert_int_equal(logto_store_create_static(&h->store, TEST_ISSUER, test_jwks(p, jwks_json), p),
                     APR_SUCCESS);
    h->policy = logto_policy_make(p);
    logto_policy_add_issuer(h->policy, TEST_ISSUER, h->store);
    assert_int_equal(logto_policy_seal(h->policy), APR_SUCCESS);
    if (with_tcache) {
        assert_int_equal(logto_tcache_create(&h->tcache, 64, 1 << 20, p), APR_SUCCESS);
    }
    h->check.policy = h->policy;
    h->check.tcache = h->tcache;
    h->check.shared = shared;
    return h;
}

static logto_from_e auth_ok(host_t *h, const char *token, apr_pool_t *p)
{
    logto_claims_t *claims = NULL;
    logto_from_e from = LOGTO_FROM_VERIFIED;
    logto_result_t res;

    assert_int_equal(logto_authenticate(&h->check, token, strlen(token), unit_time(TEST_NOW), p,
                                        &claims, &from, &res),
                     APR_SUCCESS);
    assert_non_null(claims);
    assert_string_equal(claims->sub, "u7x2k9q4m1pz");
    return from;
}

static logto_from_e auth_ok_with(const logto_check_t *check, const char *token, apr_pool_t *p)
{
    logto_claims_t *claims = NULL;
    logto_from_e from = LOGTO_FROM_VERIFIED;
    logto_result_t res;

    assert_int_equal(logto_authenticate(check, token, strlen(token), unit_time(TEST_NOW), p,
                                        &claims, &from, &res),
                     APR_SUCCESS);
    return from;
}

static const char *p384_jwks(apr_pool_t *p)
{
    return test_jwks_json(p, test_jwk(p, TEST_KEY_P384, "k1", "ES384"), NULL);
}

static const char *p384_token(apr_pool_t *p)
{
    return test_sign(p, TEST_KEY_P384, "ES384", test_header(p, "ES384", "k1"),
                     test_payload(p, NULL));
}

/* ---- the order -------------------------------------------------------------------------- */

static void verified_then_cached(void **state)
{
    apr_pool_t *p = *state;
    fake_shared_t *fs;
    host_t *h = host_make(p, p384_jwks(p), fake_shared(p, &fs), 1);
    const char *token = p384_token(p);

    assert_int_equal(auth_ok(h, token, p), LOGTO_FROM_VERIFIED);
    assert_int_equal(fs->puts, 1);
    assert_int_equal(auth_ok(h, token, p), LOGTO_FROM_CACHE);
    /* A hit in the process never asks the shared cache. */
    assert_int_equal(fs->gets, 1);
}

static void other_host_reads_the_shared_cache(void **state)
{
    apr_pool_t *p = *state;
    fake_shared_t *fs;
    logto_shared_cache_t *sc = fake_shared(p, &fs);
    host_t *a = host_make(p, p384_jwks(p), sc, 1), *b = host_make(p, p384_jwks(p), sc, 1);
    const char *token = p384_token(p);

    assert_int_equal(auth_ok(a, token, p), LOGTO_FROM_VERIFIED);
    assert_int_equal(auth_ok(b, token, p), LOGTO_FROM_SHARED_CACHE);
    /* ... and remembered in b's process from then on. */
    assert_int_equal(auth_ok(b, token, p), LOGTO_FROM_CACHE);
}

static void shared_cache_failure_is_skipped(void **state)
{
    apr_pool_t *p = *state;
    fake_shared_t *fs;
    host_t *h = host_make(p, p384_jwks(p), fake_shared(p, &fs), 0);

    fs->fail = 1;
    assert_int_equal(auth_ok(h, p384_token(p), p), LOGTO_FROM_VERIFIED);
    assert_int_equal(auth_ok(h, p384_token(p), p), LOGTO_FROM_VERIFIED);
}

/* ---- what a shared value must prove ---------------------------------------------------- */

static void flip_last_byte(apr_pool_t *p, value_t *v)
{
    (void)p;
    v->data[v->len - 1] ^= 1;
}

static void flip_check(apr_pool_t *p, value_t *v)
{
    (void)p;
    v->data[0] ^= 1;
}

static void truncate_value(apr_pool_t *p, value_t *v)
{
    (void)p;
    v->len -= 3;
}

/* A value whose check, encoding or length is off is validated anew. */
static void damaged_values_not_trusted(void **state)
{
    void (*damage[])(apr_pool_t *, value_t *) = {flip_last_byte, flip_check, truncate_value};
    apr_pool_t *p = *state;
    size_t i;

    for (i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
        fake_shared_t *fs;
        logto_shared_cache_t *sc = fake_shared(p, &fs);
        host_t *a = host_make(p, p384_jwks(p), sc, 0), *b = host_make(p, p384_jwks(p), sc, 0);
        const char *token = p384_token(p);

        assert_int_equal(auth_ok(a, token, p), LOGTO_FROM_VERIFIED);
        fake_rewrite(fs, damage[i]);
        assert_int_equal(auth_ok(b, token, p), LOGTO_FROM_VERIFIED);
    }
}

/* A host whose key set lacks the key that verified the token (another
 * issuer's keys, or the key was removed here) does not take the value. */
static void value_from_a_key_we_do_not_trust(void **state)
{
    apr_pool_t *p = *state;
    fake_shared_t *fs;
    logto_shared_cache_t *sc = fake_shared(p, &fs);
    const char *both = test_jwks_json(p, test_jwk(p, TEST_KEY_P384, "k1", "ES384"),
                                      test_jwk(p, TEST_KEY_P384_B, "k2", "ES384"), NULL);
    /* b trusts only the other key, under the kid the token names. */
    const char *other = test_jwks_json(p, test_jwk(p, TEST_KEY_P384_B, "k1", "ES384"), NULL);
    host_t *a = host_make(p, both, sc, 0), *b = host_make(p, other, sc, 0);
    const char *token = p384_token(p);
    logto_claims_t *claims = NULL;
    logto_from_e from;
    logto_result_t res;

    assert_int_equal(auth_ok(a, token, p), LOGTO_FROM_VERIFIED);
    assert_int_equal(fs->puts, 1);
    /* b validates anew, and the signature does not verify with its key. */
    assert_int_not_equal(logto_authenticate(&b->check, token, strlen(token), unit_time(TEST_NOW), p,
                                            &claims, &from, &res),
                         APR_SUCCESS);
    assert_int_equal(res.reason, LOGTO_BAD_SIGNATURE);
}

/* An expired value is never trusted, whatever the cache says. */
static void expired_value_not_trusted(void **state)
{
    apr_pool_t *p = *state;
    fake_shared_t *fs;
    logto_shared_cache_t *sc = fake_shared(p, &fs);
    host_t *a = host_make(p, p384_jwks(p), sc, 0), *b = host_make(p, p384_jwks(p), sc, 0);
    const char *token = p384_token(p);
    logto_claims_t *claims = NULL;
    logto_from_e from;
    logto_result_t res;

    assert_int_equal(auth_ok(a, token, p), LOGTO_FROM_VERIFIED);
    assert_int_not_equal(logto_authenticate(&b->check, token, strlen(token),
                                            unit_time(TEST_EXP + 120), p, &claims, &from, &res),
                         APR_SUCCESS);
    assert_int_equal(res.reason, LOGTO_EXPIRED);
}

/* Review finding 5: an answer taken from the shared cache is remembered
 * under the epoch of the very set that vouched for it, read together with
 * the key. When the key then leaves the set here, that answer is stale at
 * once, as an answer verified here would be. */
/* A host whose keys come from jwks_uri through its own fake issuer; hosts
 * made with the same conf have the same policy fingerprint, as two servers
 * with the same configuration do. */
static logto_check_t *fetching_host(apr_pool_t *p, const logto_store_conf_t *conf,
                                    fake_http_t *fake, const logto_shared_cache_t *shared,
                                    logto_store_t **store)
{
    logto_check_t *check = apr_pcalloc(p, sizeof(*check));
    logto_policy_t *policy = logto_policy_make(p);

    assert_int_equal(logto_store_create(store, conf, fake_http_iface(fake), p), APR_SUCCESS);
    logto_policy_add_issuer(policy, TEST_ISSUER, *store);
    assert_int_equal(logto_policy_seal(policy), APR_SUCCESS);
    check->policy = policy;
    check->shared = shared;
    assert_int_equal(logto_tcache_create(&check->tcache, 64, 1 << 20, p), APR_SUCCESS);
    return check;
}

static void shared_answer_goes_stale_with_its_key(void **state)
{
    apr_pool_t *p = *state;
    fake_shared_t *fs;
    logto_shared_cache_t *sc = fake_shared(p, &fs);
    fake_http_t *fake_a = fake_http_create(p), *fake_b = fake_http_create(p);
    const char *jwks_uri = "http://127.0.0.1:9/jwks";
    const char *token = p384_token(p);
    logto_store_conf_t conf;
    logto_store_t *store_a, *store_b;
    logto_check_t *a, *b;
    logto_claims_t *claims;
    logto_from_e from;
    logto_result_t res;
    const logto_jwk_t *key;
    apr_uint32_t epoch;
    const apr_time_t later = unit_time(TEST_NOW) + apr_time_from_sec(600);

    memset(&conf, 0, sizeof(conf));
    conf.issuer = TEST_ISSUER;
    conf.jwks_uri = jwks_uri;
    conf.ttl = apr_time_from_sec(600);
    conf.refresh_interval = apr_time_from_sec(30);
    conf.max_stale = apr_time_from_sec(3600);
    conf.http_timeout = apr_time_from_sec(2);
    fake_http_set(fake_a, jwks_uri, 200, p384_jwks(p));
    fake_http_set(fake_b, jwks_uri, 200, p384_jwks(p));
    a = fetching_host(p, &conf, fake_a, sc, &store_a);
    b = fetching_host(p, &conf, fake_b, sc, &store_b);

    assert_int_equal(auth_ok_with(a, token, p), LOGTO_FROM_VERIFIED);
    assert_int_equal(auth_ok_with(b, token, p), LOGTO_FROM_SHARED_CACHE);
    epoch = logto_store_epoch(store_b);
    assert_int_equal(auth_ok_with(b, token, p), LOGTO_FROM_CACHE);

    /* k1 leaves b's set: a refresh after the TTL finds only k2. */
    fake_http_set(fake_b, jwks_uri, 200,
                  test_jwks_json(p, test_jwk(p, TEST_KEY_P384_B, "k2", "ES384"), NULL));
    assert_int_equal(logto_store_key(store_b, "k2", LOGTO_ALG_ES384, later, p, &key, &res),
                     APR_SUCCESS);
    assert_int_not_equal(logto_store_epoch(store_b), epoch);
    /* b's remembered answer is gone; a's shared value no longer vouched for
     * by b's keys: validated anew, and refused. */
    assert_int_not_equal(
        logto_authenticate(b, token, strlen(token), later, p, &claims, &from, &res), APR_SUCCESS);
    assert_int_equal(res.reason, LOGTO_UNKNOWN_KID);
}

/* An unsealed policy (its fingerprint could not be computed) never uses a
 * cache: every token would share the all-zero key. */
static void unsealed_policy_skips_caches(void **state)
{
    apr_pool_t *p = *state;
    fake_shared_t *fs;
    host_t *h = host_make(p, p384_jwks(p), fake_shared(p, &fs), 1);
    const char *token = p384_token(p);

    h->policy->sealed = 0;
    assert_int_equal(auth_ok(h, token, p), LOGTO_FROM_VERIFIED);
    assert_int_equal(auth_ok(h, token, p), LOGTO_FROM_VERIFIED);
    assert_int_equal(fs->gets + fs->puts, 0);
    assert_int_equal(logto_tcache_count(h->tcache), 0);
}

static const struct CMUnitTest tests[] = {
    unit_test(verified_then_cached),
    unit_test(other_host_reads_the_shared_cache),
    unit_test(shared_cache_failure_is_skipped),
    unit_test(damaged_values_not_trusted),
    unit_test(value_from_a_key_we_do_not_trust),
    unit_test(expired_value_not_trusted),
    unit_test(shared_answer_goes_stale_with_its_key),
    unit_test(unsealed_policy_skips_caches),
};

LOGTO_TEST_GROUP(auth, tests);
