/* Review finding 6: a digest that fails must never become a cache key.
 *
 * Before, a failed SHA-256 left an all-zero cache key (or policy
 * fingerprint) and entries were stored under it, so every token whose digest
 * failed shared one answer. This program replaces OpenSSL's allocator with one
 * that fails on demand (which must happen before OpenSSL allocates anything,
 * hence a program of its own) and checks that the policy seal reports the
 * failure, that logto_tcache_key does, and that logto_authenticate then
 * skips both caches for that token instead of using the key. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "logto_auth.h"
#include "test_keys.h"
#include "unit.h"

/* Allocations until the one that fails (0: the next one); -1: none fails. */
static volatile long fail_in = -1;

static int should_fail(void)
{
    if (fail_in < 0) {
        return 0;
    }
    return fail_in-- == 0;
}

static void *failing_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return should_fail() ? NULL : malloc(n);
}

static void *failing_realloc(void *ptr, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return should_fail() ? NULL : realloc(ptr, n);
}

static void plain_free(void *ptr, const char *file, int line)
{
    (void)file;
    (void)line;
    free(ptr);
}

static const unsigned char fingerprint[LOGTO_FINGERPRINT_LEN] = {1, 2, 3};

static void failed_seal_is_reported(void **state)
{
    apr_pool_t *p = *state;
    logto_policy_t *policy = logto_policy_make(p);
    static const unsigned char zero[LOGTO_FINGERPRINT_LEN];

    logto_policy_add_issuer(policy, TEST_ISSUER, NULL);
    fail_in = 0;
    assert_int_not_equal(logto_policy_seal(policy), APR_SUCCESS);
    fail_in = -1;
    assert_false(policy->sealed);
    assert_memory_equal(policy->fingerprint, zero, sizeof(zero));
    assert_int_equal(logto_policy_seal(policy), APR_SUCCESS);
    assert_true(policy->sealed);
}

static void failed_key_is_reported(void **state)
{
    unsigned char key[LOGTO_TCACHE_KEY_LEN];

    (void)state;
    assert_int_equal(logto_tcache_key(fingerprint, "a.b.c", 5, key), APR_SUCCESS);
    fail_in = 0;
    assert_int_not_equal(logto_tcache_key(fingerprint, "a.b.c", 5, key), APR_SUCCESS);
    fail_in = -1;
}

static int shared_calls;

static apr_status_t counting_get(void *baton, const unsigned char *key, apr_size_t key_len,
                                 apr_pool_t *p, unsigned char **value, apr_size_t *len)
{
    (void)baton;
    (void)key;
    (void)key_len;
    (void)p;
    (void)value;
    (void)len;
    shared_calls++;
    return APR_NOTFOUND;
}

static void counting_put(void *baton, const unsigned char *key, apr_size_t key_len,
                         const unsigned char *value, apr_size_t len, apr_time_t expiry,
                         apr_pool_t *p)
{
    (void)baton;
    (void)key;
    (void)key_len;
    (void)value;
    (void)len;
    (void)expiry;
    (void)p;
    shared_calls++;
}

/* The first OpenSSL allocation of a validation is the cache key's digest:
 * failing it must leave both caches untouched while the token is still
 * validated (and accepted) in full. */
static void failed_key_skips_both_caches(void **state)
{
    apr_pool_t *p = *state;
    const char *jwks = test_jwks_json(p, test_jwk(p, TEST_KEY_P384, "k1", "ES384"), NULL);
    const char *token =
        test_sign(p, TEST_KEY_P384, "ES384", test_header(p, "ES384", "k1"), test_payload(p, NULL));
    logto_shared_cache_t shared = {counting_get, counting_put, NULL};
    logto_policy_t *policy = logto_policy_make(p);
    logto_store_t *store;
    logto_check_t check;
    logto_claims_t *claims = NULL;
    logto_from_e from;
    logto_result_t res;
    apr_status_t rv;

    assert_int_equal(logto_store_create_static(&store, TEST_ISSUER, test_jwks(p, jwks), p),
                     APR_SUCCESS);
    logto_policy_add_issuer(policy, TEST_ISSUER, store);
    assert_int_equal(logto_policy_seal(policy), APR_SUCCESS);
    check.policy = policy;
    check.shared = &shared;
    assert_int_equal(logto_tcache_create(&check.tcache, 64, 1 << 20, p), APR_SUCCESS);
    shared_calls = 0;

    fail_in = 0;
    rv = logto_authenticate(&check, token, strlen(token), unit_time(TEST_NOW), p, &claims, &from,
                            &res);
    fail_in = -1;
    assert_int_equal(rv, APR_SUCCESS);
    assert_int_equal(from, LOGTO_FROM_VERIFIED);
    assert_int_equal(logto_tcache_count(check.tcache), 0);
    assert_int_equal(shared_calls, 0);

    /* With the digest working again, the caches are used as usual. */
    assert_int_equal(logto_authenticate(&check, token, strlen(token), unit_time(TEST_NOW), p,
                                        &claims, &from, &res),
                     APR_SUCCESS);
    assert_int_equal(logto_tcache_count(check.tcache), 1);
    assert_int_equal(shared_calls, 2);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        unit_test(failed_seal_is_reported),
        unit_test(failed_key_is_reported),
        unit_test(failed_key_skips_both_caches),
    };
    int failed;

    /* Before OpenSSL allocates anything. */
    if (!CRYPTO_set_mem_functions(failing_malloc, failing_realloc, plain_free)) {
        return 2;
    }
    apr_initialize();
    failed = cmocka_run_group_tests_name("digest failure", tests, NULL, NULL);
    apr_terminate();
    return failed ? 1 : 0;
}
