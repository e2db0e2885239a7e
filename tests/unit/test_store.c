/* The per-issuer key store (issue 4): discovery, TTL refreshes, unknown-kid
 * refetches with their rate limit and single flight, outages and max stale,
 * the epoch, the refresher thread and the registry. The network is a fake
 * (fake_http.c); time is the now argument wherever the API takes one. */
#include <stdio.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "fake_http.h"
#include "logto_ecfast.h"
#include "logto_log.h"
#include "logto_store.h"
#include "test_keys.h"
#include "unit.h"

#define ISS       "https://issuer.test/oidc"
#define DISCOVERY ISS "/.well-known/openid-configuration"
#define JWKS_URL  ISS "/jwks"
#define NOW       unit_time(TEST_NOW)
#define TTL       apr_time_from_sec(600)
#define INTERVAL  apr_time_from_sec(30)
#define MAX_STALE apr_time_from_sec(3600)
#define ES384     LOGTO_ALG_ES384
/* A moment after fetched_store()'s fetch (at NOW); tests of the unknown-kid
 * refetch start from here. */
#define AFTER (NOW + INTERVAL)

/* ---- helpers ------------------------------------------------------------------ */

static logto_store_conf_t conf_default(void)
{
    logto_store_conf_t conf;

    memset(&conf, 0, sizeof(conf));
    conf.issuer = ISS;
    conf.ttl = TTL;
    conf.refresh_interval = INTERVAL;
    conf.max_stale = MAX_STALE;
    conf.http_timeout = apr_time_from_sec(2);
    return conf;
}

/* Two P-384 keys (Logto's default) and a P-256 one. */
static const char *jwk1(apr_pool_t *p)
{
    return test_jwk(p, TEST_KEY_P384, "k1", "ES384");
}

static const char *jwk2(apr_pool_t *p)
{
    return test_jwk(p, TEST_KEY_P384_B, "k2", "ES384");
}

static const char *jwk3(apr_pool_t *p)
{
    return test_jwk(p, TEST_KEY_P256, "k3", "ES256");
}

static const char *discovery_doc(apr_pool_t *p, const char *issuer, const char *jwks_uri)
{
    return apr_psprintf(p,
                        "{\"issuer\":\"%s\",\"jwks_uri\":\"%s\",\"response_types_supported\":"
                        "[\"code\"]}",
                        issuer, jwks_uri);
}

/* A fake issuer answering discovery and its JWKS with jwks_json. */
static fake_http_t *issuer_up(apr_pool_t *p, const char *jwks_json)
{
    fake_http_t *fake = fake_http_create(p);

    fake_http_set(fake, DISCOVERY, 200, discovery_doc(p, ISS, JWKS_URL));
    fake_http_set(fake, JWKS_URL, 200, jwks_json);
    return fake;
}

static logto_store_t *new_store(apr_pool_t *p, fake_http_t *fake, const logto_store_conf_t *conf)
{
    logto_store_t *store = NULL;

    assert_int_equal(logto_store_create(&store, conf, fake_http_iface(fake), p), APR_SUCCESS);
    assert_non_null(store);
    return store;
}

/* One key look-up in a pool of its own (released at once); the reason, or
 * LOGTO_OK. No cmocka assertion: usable from any thread. */
static logto_reason_e lookup_raw(logto_store_t *store, const char *kid, logto_alg_e alg,
                                 apr_time_t now)
{
    apr_pool_t *q;
    logto_result_t res;
    const logto_jwk_t *key = NULL;
    logto_reason_e reason;

    if (apr_pool_create(&q, NULL) != APR_SUCCESS) {
        return LOGTO_REASON_COUNT;
    }
    memset(&res, 0, sizeof(res));
    if (logto_store_key(store, kid, alg, now, q, &key, &res) == APR_SUCCESS) {
        /* a success hands out a key with that kid */
        reason = (key && (!kid || (key->kid && strcmp(key->kid, kid) == 0))) ? LOGTO_OK
                                                                             : LOGTO_REASON_COUNT;
    }
    else {
        reason = (res.reason == LOGTO_OK) ? LOGTO_REASON_COUNT : res.reason;
    }
    apr_pool_destroy(q);
    return reason;
}

#define assert_lookup(store, kid, alg, now, expected)                                              \
    assert_string_equal(logto_reason_name(lookup_raw((store), (kid), (alg), (now))),               \
                        logto_reason_name(expected))

/* A store over discovery at ISS whose JWKS is jwks_json, with its first
 * fetch done at NOW. */
static logto_store_t *fetched_store(apr_pool_t *p, const char *jwks_json, fake_http_t **fake)
{
    logto_store_conf_t conf = conf_default();
    logto_store_t *store;

    *fake = issuer_up(p, jwks_json);
    store = new_store(p, *fake, &conf);
    assert_lookup(store, "k1", ES384, NOW, LOGTO_OK);
    assert_int_equal(fake_http_calls(*fake, JWKS_URL), 1);
    return store;
}

static logto_store_stats_t stats_of(logto_store_t *store)
{
    logto_store_stats_t st;

    logto_store_stats(store, &st);
    return st;
}

/* Log lines seen, by level, and the format of the last error (enough to
 * tell which message it was). */
static volatile apr_uint32_t logged[LOGTO_LOG_TRACE1 + 1];
static const char *volatile last_error;

static void capture_log(void *baton, logto_log_level_e level, apr_status_t rv, const char *file,
                        int line, const char *fmt, va_list ap)
{
    (void)baton;
    (void)rv;
    (void)file;
    (void)line;
    (void)ap;
    if ((unsigned)level <= LOGTO_LOG_TRACE1) {
        apr_atomic_inc32(&logged[level]);
    }
    if (level <= LOGTO_LOG_ERR) {
        last_error = fmt;
    }
}

static void capture_start(void)
{
    int i;

    for (i = 0; i <= LOGTO_LOG_TRACE1; i++) {
        apr_atomic_set32(&logged[i], 0);
    }
    last_error = NULL;
    logto_log_set(capture_log, NULL, NULL);
}

static int capture_teardown(void **state)
{
    logto_log_set(NULL, NULL, NULL);
    return unit_teardown(state);
}

#define capture_test(f) cmocka_unit_test_setup_teardown(f, unit_setup, capture_teardown)

/* ---- discovery ------------------------------------------------------------------ */

static void discovery_then_jwks(void **state)
{
    apr_pool_t *p = *state;
    logto_store_conf_t conf = conf_default();
    fake_http_t *fake = issuer_up(p, test_jwks_json(p, jwk1(p), jwk2(p), NULL));
    logto_store_t *store = new_store(p, fake, &conf);

    /* nothing is fetched at creation */
    assert_int_equal(fake_http_calls(fake, NULL), 0);
    assert_false(logto_store_usable(store, NOW));

    assert_lookup(store, "k1", ES384, NOW, LOGTO_OK);
    assert_int_equal(fake_http_calls(fake, DISCOVERY), 1);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 1);
    assert_int_equal(stats_of(store).fetches, 1);
    assert_int_equal(stats_of(store).keys, 2);
    assert_true(logto_store_usable(store, NOW));
    assert_true(logto_store_has_kid(store, "k2", NOW));

    /* cached: no more network */
    assert_lookup(store, "k2", ES384, NOW + 1, LOGTO_OK);
    assert_int_equal(fake_http_calls(fake, NULL), 2);

    /* the TTL refresh goes straight to the discovered jwks_uri */
    assert_lookup(store, "k1", ES384, NOW + TTL, LOGTO_OK);
    assert_int_equal(fake_http_calls(fake, DISCOVERY), 1);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 2);
}

/* OpenID Connect Discovery 1.0 section 4: a terminating "/" of the issuer is
 * removed before "/.well-known/openid-configuration" is appended (issuers
 * such as Auth0's end in "/"); the issuer itself still compares exactly. */
static void discovery_of_issuer_ending_in_slash(void **state)
{
    apr_pool_t *p = *state;
    static const char *const issuers[] = {"https://issuer.test/tenant/", "https://issuer.test/"};
    size_t i;

    for (i = 0; i < sizeof(issuers) / sizeof(issuers[0]); i++) {
        logto_store_conf_t conf = conf_default();
        fake_http_t *fake = fake_http_create(p);
        const char *well_known =
            apr_pstrcat(p, issuers[i], ".well-known/openid-configuration", NULL);
        logto_reason_e reason;

        conf.issuer = issuers[i];
        fake_http_set(fake, well_known, 200, discovery_doc(p, issuers[i], JWKS_URL));
        fake_http_set(fake, JWKS_URL, 200, test_jwks_json(p, jwk1(p), NULL));
        reason = lookup_raw(new_store(p, fake, &conf), "k1", ES384, NOW);
        /* asked there, not at ".../tenant//.well-known/..." */
        assert_int_equal(fake_http_calls(fake, well_known), 1);
        assert_string_equal(logto_reason_name(reason), "ok");
    }
}

/* Every fetch is bounded: the size caps of the headers, and no more time
 * than LogtoHttpTimeout. */
static void fetches_bounded_in_size_and_time(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake;
    logto_http_opts_t opts;

    fetched_store(p, test_jwks_json(p, jwk1(p), NULL), &fake);
    assert_true(fake_http_last_opts(fake, DISCOVERY, &opts));
    assert_int_equal(opts.max_body, LOGTO_DISCOVERY_MAX_BYTES);
    assert_true(opts.timeout > 0 && opts.timeout <= apr_time_from_sec(2));
    assert_true(fake_http_last_opts(fake, JWKS_URL, &opts));
    assert_int_equal(opts.max_body, LOGTO_JWKS_MAX_BYTES);
    assert_true(opts.timeout > 0 && opts.timeout <= apr_time_from_sec(2));
}

static void discovery_issuer_mismatch_unusable(void **state)
{
    apr_pool_t *p = *state;
    logto_store_conf_t conf = conf_default();
    fake_http_t *fake = fake_http_create(p);
    logto_store_t *store;
    const char *other[] = {"https://evil.test/oidc", ISS "/", "https://ISSUER.test/oidc", ""};
    size_t i;

    fake_http_set(fake, JWKS_URL, 200, test_jwks_json(p, jwk1(p), NULL));
    capture_start();
    for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        fake_http_set(fake, DISCOVERY, 200, discovery_doc(p, other[i], JWKS_URL));
        store = new_store(p, fake, &conf);
        assert_lookup(store, "k1", ES384, NOW, LOGTO_KEYS_UNAVAILABLE);
        assert_false(logto_store_usable(store, NOW));
        assert_int_equal(stats_of(store).failures, 1);
    }
    /* no issuer at all in the document */
    fake_http_set(fake, DISCOVERY, 200, "{\"jwks_uri\":\"" JWKS_URL "\"}");
    store = new_store(p, fake, &conf);
    assert_lookup(store, "k1", ES384, NOW, LOGTO_KEYS_UNAVAILABLE);

    assert_int_equal(fake_http_calls(fake, DISCOVERY), 5);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 0);
    /* an error-log line says why */
    assert_true(logged[LOGTO_LOG_ERR] >= 5);
    assert_non_null(last_error);
    assert_non_null(strstr(last_error, "another issuer"));
}

static void plain_http_off_loopback_refused(void **state)
{
    apr_pool_t *p = *state;
    logto_store_conf_t conf = conf_default();
    fake_http_t *fake = fake_http_create(p);
    const char *jwks = test_jwks_json(p, jwk1(p), NULL);
    logto_store_t *store;

    /* a discovered jwks_uri on plain http to another host */
    fake_http_set(fake, DISCOVERY, 200, discovery_doc(p, ISS, "http://issuer.test/oidc/jwks"));
    fake_http_set(fake, "http://issuer.test/oidc/jwks", 200, jwks);
    store = new_store(p, fake, &conf);
    assert_lookup(store, "k1", ES384, NOW, LOGTO_KEYS_UNAVAILABLE);
    assert_int_equal(fake_http_calls(fake, DISCOVERY), 1);
    assert_int_equal(fake_http_calls(fake, "http://issuer.test/oidc/jwks"), 0);

    /* a configured plain-http JWKS URL or issuer off loopback is never fetched */
    conf.jwks_uri = "http://issuer.test/oidc/jwks";
    store = new_store(p, fake, &conf);
    assert_lookup(store, "k1", ES384, NOW, LOGTO_KEYS_UNAVAILABLE);
    conf = conf_default();
    conf.issuer = "http://issuer.test/oidc";
    store = new_store(p, fake, &conf);
    assert_lookup(store, "k1", ES384, NOW, LOGTO_KEYS_UNAVAILABLE);
    assert_int_equal(fake_http_calls(fake, NULL), 1);

    /* plain http on loopback is fine */
    fake_http_set(fake, DISCOVERY, 200, discovery_doc(p, ISS, "http://127.0.0.1:9/jwks"));
    fake_http_set(fake, "http://127.0.0.1:9/jwks", 200, jwks);
    conf = conf_default();
    store = new_store(p, fake, &conf);
    assert_lookup(store, "k1", ES384, NOW, LOGTO_OK);
    assert_int_equal(fake_http_calls(fake, "http://127.0.0.1:9/jwks"), 1);
}

/* ---- TTL ------------------------------------------------------------------------ */

static void ttl_refresh_by_calling_thread(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake;
    logto_store_t *store = fetched_store(p, test_jwks_json(p, jwk1(p), NULL), &fake);
    apr_time_t next = 0;

    /* no fetch before the TTL */
    assert_lookup(store, "k1", ES384, NOW + TTL - 1, LOGTO_OK);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 1);
    logto_store_refresh_due(store, NOW + TTL - 1, &next);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 1);
    assert_true(next == NOW + TTL);

    /* at the TTL, the request's own thread refreshes (no refresher attached) */
    assert_lookup(store, "k1", ES384, NOW + TTL, LOGTO_OK);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 2);
    assert_lookup(store, "k1", ES384, NOW + TTL + 1, LOGTO_OK);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 2);

    /* and the next TTL counts from that refresh */
    assert_lookup(store, "k1", ES384, NOW + 2 * TTL - 1, LOGTO_OK);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 2);
    assert_lookup(store, "k1", ES384, NOW + 2 * TTL, LOGTO_OK);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 3);
    assert_int_equal(stats_of(store).failures, 0);
}

/* ---- unknown kid ---------------------------------------------------------------- */

static void unknown_kid_one_refetch_then_rate_limited(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake;
    logto_store_t *store = fetched_store(p, test_jwks_json(p, jwk1(p), NULL), &fake);

    /* right after the first fetch an unknown kid refetches at once (Logto's
     * immediate rotation may come any time); the interval starts here */
    assert_lookup(store, "nope", ES384, AFTER, LOGTO_UNKNOWN_KID);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 2);
    /* the same kid and any other unknown kid within the interval: no fetch */
    assert_lookup(store, "nope", ES384, AFTER + 1, LOGTO_UNKNOWN_KID);
    assert_lookup(store, "other", ES384, AFTER + INTERVAL - 1, LOGTO_UNKNOWN_KID);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 2);
    /* known keys keep working meanwhile */
    assert_lookup(store, "k1", ES384, AFTER + 3, LOGTO_OK);
    /* once the interval has passed, one more fetch */
    assert_lookup(store, "other", ES384, AFTER + INTERVAL, LOGTO_UNKNOWN_KID);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 3);
    assert_lookup(store, "again", ES384, AFTER + INTERVAL + 1, LOGTO_UNKNOWN_KID);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 3);
    /* the discovery document was read once */
    assert_int_equal(fake_http_calls(fake, DISCOVERY), 1);
}

/* A key published after the first fetch (Logto's rotation) is found by the
 * unknown-kid refetch; adding a key leaves the epoch alone. */
static void added_key_found_epoch_kept(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake;
    logto_store_t *store = fetched_store(p, test_jwks_json(p, jwk1(p), NULL), &fake);
    apr_uint32_t epoch = logto_store_epoch(store);

    fake_http_set(fake, JWKS_URL, 200, test_jwks_json(p, jwk2(p), jwk1(p), NULL));
    assert_lookup(store, "k2", ES384, AFTER, LOGTO_OK);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 2);
    assert_int_equal(logto_store_epoch(store), epoch);
    assert_lookup(store, "k1", ES384, AFTER + 1, LOGTO_OK);
    assert_int_equal(stats_of(store).keys, 2);
}

/* A request with an unknown kid that finds a TTL refresh due makes that
 * refresh its refetch: one fetch, not two back to back. */
static void unknown_kid_at_ttl_fetches_once(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake;
    logto_store_t *store = fetched_store(p, test_jwks_json(p, jwk1(p), NULL), &fake);

    assert_lookup(store, "nope", ES384, NOW + TTL, LOGTO_UNKNOWN_KID);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 2);
}

static void failed_refetch_for_unknown_kid_keeps_keys(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake;
    logto_store_t *store = fetched_store(p, test_jwks_json(p, jwk1(p), NULL), &fake);

    fake_http_set(fake, JWKS_URL, 500, "oops");
    assert_lookup(store, "nope", ES384, AFTER, LOGTO_UNKNOWN_KID);
    assert_lookup(store, "k1", ES384, AFTER + 1, LOGTO_OK);
    assert_int_equal(stats_of(store).failures, 1);
    assert_int_equal(stats_of(store).keys, 1);
}

/* ---- removal and the epoch ------------------------------------------------------ */

static void removed_key_bumps_epoch_and_stops_validating(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake;
    logto_store_t *store = fetched_store(p, test_jwks_json(p, jwk1(p), jwk2(p), NULL), &fake);
    apr_uint32_t epoch = logto_store_epoch(store);

    assert_lookup(store, "k2", ES384, NOW + 1, LOGTO_OK);
    fake_http_set(fake, JWKS_URL, 200, test_jwks_json(p, jwk1(p), NULL));
    /* the next refresh drops k2 */
    assert_lookup(store, "k1", ES384, NOW + TTL, LOGTO_OK);
    assert_int_not_equal(logto_store_epoch(store), epoch);
    assert_false(logto_store_has_kid(store, "k2", NOW + TTL));
    assert_lookup(store, "k2", ES384, NOW + TTL + 1, LOGTO_UNKNOWN_KID);
    assert_int_equal(stats_of(store).keys, 1);
}

/* Same kid, other key material: the old key left the set. */
static void replaced_key_under_same_kid_bumps_epoch(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake;
    logto_store_t *store = fetched_store(p, test_jwks_json(p, jwk1(p), NULL), &fake);
    apr_uint32_t epoch = logto_store_epoch(store);
    logto_result_t res;
    const logto_jwk_t *key = NULL;

    fake_http_set(fake, JWKS_URL, 200,
                  test_jwks_json(p, test_jwk(p, TEST_KEY_P384_B, "k1", "ES384"), NULL));
    assert_lookup(store, "k1", ES384, NOW + TTL, LOGTO_OK);
    assert_int_not_equal(logto_store_epoch(store), epoch);
    memset(&res, 0, sizeof(res));
    assert_int_equal(logto_store_key(store, "k1", ES384, NOW + TTL + 1, p, &key, &res),
                     APR_SUCCESS);
    assert_int_equal(EVP_PKEY_eq(key->pkey, test_key(TEST_KEY_P384_B)), 1);
}

/* What a shared cache's value is checked against: the very key (kid and
 * fingerprint) must still be trusted, not only a key with that kid. */
static void has_key_checks_kid_and_fingerprint(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake;
    logto_store_t *store = fetched_store(p, test_jwks_json(p, jwk1(p), NULL), &fake);
    unsigned char fp[LOGTO_KEY_FP_LEN];
    logto_result_t res;
    const logto_jwk_t *key = NULL;

    memset(&res, 0, sizeof(res));
    assert_int_equal(logto_store_key(store, "k1", ES384, NOW + 1, p, &key, &res), APR_SUCCESS);
    memcpy(fp, key->fingerprint, sizeof(fp));
    assert_true(logto_store_has_key(store, "k1", fp, NOW + 1));
    assert_false(logto_store_has_key(store, "k2", fp, NOW + 1));
    assert_false(logto_store_has_key(store, NULL, fp, NOW + 1));
    fp[0] ^= 1;
    assert_false(logto_store_has_key(store, "k1", fp, NOW + 1));
    fp[0] ^= 1;
    /* another key under the same kid: the old fingerprint is no longer trusted */
    fake_http_set(fake, JWKS_URL, 200,
                  test_jwks_json(p, test_jwk(p, TEST_KEY_P384_B, "k1", "ES384"), NULL));
    assert_lookup(store, "k1", ES384, NOW + TTL, LOGTO_OK);
    assert_false(logto_store_has_key(store, "k1", fp, NOW + TTL));
    /* and nothing is trusted past ttl + max stale */
    assert_false(logto_store_has_key(store, "k1", fp, NOW + 3 * TTL + MAX_STALE));
}

/* A key handed out stays valid while its holder's pool lives, even when a
 * refresh drops it from the set. */
static void key_in_use_survives_refresh(void **state)
{
    apr_pool_t *p = *state, *q;
    fake_http_t *fake;
    logto_store_t *store = fetched_store(p, test_jwks_json(p, jwk1(p), jwk2(p), NULL), &fake);
    logto_result_t res;
    const logto_jwk_t *key = NULL;

    assert_int_equal(apr_pool_create(&q, p), APR_SUCCESS);
    memset(&res, 0, sizeof(res));
    assert_int_equal(logto_store_key(store, "k2", ES384, NOW + 1, q, &key, &res), APR_SUCCESS);
    fake_http_set(fake, JWKS_URL, 200, test_jwks_json(p, jwk1(p), NULL));
    assert_lookup(store, "k1", ES384, NOW + TTL, LOGTO_OK);
    assert_lookup(store, "k2", ES384, NOW + TTL, LOGTO_UNKNOWN_KID);
    /* still a whole key (ASan would see a freed one) */
    assert_string_equal(key->kid, "k2");
    assert_int_equal(EVP_PKEY_eq(key->pkey, test_key(TEST_KEY_P384_B)), 1);
    apr_pool_destroy(q);
}

/* ---- failures and outages --------------------------------------------------------- */

static void failed_refresh_keeps_old_keys(void **state)
{
    apr_pool_t *p = *state;
    struct {
        int status;
        const char *body;
    } bad[] = {
        {500, NULL}, /* a good key set, but not a 200 */
        {404, "not found"},
        {200, "garbage, not JSON"},
        {200, "{\"keys\":[]}"},
        {200, "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"},{\"kty\":\"RSA\",\"n\":\"AQAB\","
              "\"e\":\"AQAB\"},42]}"},
        {200, "{\"keys\":{}}"},
        {200, "[]"},
        {0, NULL}, /* transport error */
    };
    size_t i;

    capture_start();
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        apr_pool_t *sp;
        fake_http_t *fake;
        logto_store_t *store;
        apr_uint32_t epoch, warnings;

        assert_int_equal(apr_pool_create(&sp, p), APR_SUCCESS);
        store = fetched_store(sp, test_jwks_json(sp, jwk1(sp), NULL), &fake);
        epoch = logto_store_epoch(store);
        if (bad[i].status == 0) {
            fake_http_fail(fake, JWKS_URL, "connection refused");
        }
        else {
            fake_http_set(fake, JWKS_URL, bad[i].status,
                          bad[i].body ? bad[i].body : test_jwks_json(sp, jwk2(sp), NULL));
        }
        warnings = logged[LOGTO_LOG_WARNING];
        assert_lookup(store, "k1", ES384, NOW + TTL, LOGTO_OK);
        assert_int_equal(fake_http_calls(fake, JWKS_URL), 2);
        assert_int_equal(stats_of(store).failures, 1);
        assert_int_equal(stats_of(store).keys, 1);
        assert_int_equal(logto_store_epoch(store), epoch);
        assert_true(logto_store_usable(store, NOW + TTL));
        assert_true(logto_store_has_kid(store, "k1", NOW + TTL));
        /* the failure is logged as a warning */
        assert_true(logged[LOGTO_LOG_WARNING] > warnings);
        apr_pool_destroy(sp);
    }
}

/* After a failed TTL refresh the keys serve on, and the issuer is asked
 * again only after LogtoJwksRefreshInterval, starting over with discovery
 * (the JWKS may have moved). */
static void failed_refresh_retried_after_interval(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake;
    logto_store_t *store = fetched_store(p, test_jwks_json(p, jwk1(p), NULL), &fake);

    fake_http_set(fake, JWKS_URL, 500, "oops");
    assert_lookup(store, "k1", ES384, NOW + TTL, LOGTO_OK);
    assert_int_equal(stats_of(store).fetches, 2);
    assert_lookup(store, "k1", ES384, NOW + TTL + 1, LOGTO_OK);
    assert_lookup(store, "nope", ES384, NOW + TTL + 2, LOGTO_UNKNOWN_KID);
    assert_lookup(store, "k1", ES384, NOW + TTL + INTERVAL - 1, LOGTO_OK);
    assert_int_equal(stats_of(store).fetches, 2);
    assert_int_equal(fake_http_calls(fake, NULL), 3);

    fake_http_set(fake, JWKS_URL, 200, test_jwks_json(p, jwk1(p), NULL));
    assert_lookup(store, "k1", ES384, NOW + TTL + INTERVAL, LOGTO_OK);
    assert_int_equal(stats_of(store).fetches, 3);
    assert_int_equal(stats_of(store).failures, 1);
    assert_int_equal(fake_http_calls(fake, DISCOVERY), 2);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 3);
}

static void keys_dropped_after_max_stale(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake;
    logto_store_t *store = fetched_store(p, test_jwks_json(p, jwk1(p), NULL), &fake);
    apr_uint32_t epoch = logto_store_epoch(store);
    const apr_time_t end = NOW + TTL + MAX_STALE;

    fake_http_set(fake, JWKS_URL, 503, "down");
    fake_http_set(fake, DISCOVERY, 503, "down");
    /* stale but trusted up to ttl + max_stale */
    assert_lookup(store, "k1", ES384, NOW + TTL, LOGTO_OK);
    assert_lookup(store, "k1", ES384, end - INTERVAL, LOGTO_OK);
    assert_true(logto_store_usable(store, end));
    assert_int_equal(logto_store_epoch(store), epoch);

    /* past it: dropped */
    assert_lookup(store, "k1", ES384, end + 1, LOGTO_KEYS_UNAVAILABLE);
    assert_int_not_equal(logto_store_epoch(store), epoch);
    assert_false(logto_store_usable(store, end + 1));
    assert_false(logto_store_has_kid(store, "k1", end + 1));
    assert_int_equal(stats_of(store).keys, 0);

    /* and back as soon as the issuer is, once the retry interval allows */
    fake_http_set(fake, JWKS_URL, 200, test_jwks_json(p, jwk1(p), NULL));
    fake_http_set(fake, DISCOVERY, 200, discovery_doc(p, ISS, JWKS_URL));
    assert_lookup(store, "k1", ES384, end + 1 + INTERVAL, LOGTO_OK);
    assert_true(logto_store_usable(store, end + 1 + INTERVAL));
}

static void no_keys_failure_retried_after_interval(void **state)
{
    apr_pool_t *p = *state;
    logto_store_conf_t conf = conf_default();
    fake_http_t *fake = fake_http_create(p);
    logto_store_t *store = new_store(p, fake, &conf);

    fake_http_fail(fake, DISCOVERY, "connection refused");
    assert_lookup(store, "k1", ES384, NOW, LOGTO_KEYS_UNAVAILABLE);
    assert_int_equal(fake_http_calls(fake, NULL), 1);
    /* requests in between fail at once, without a fetch */
    assert_lookup(store, "k1", ES384, NOW + 1, LOGTO_KEYS_UNAVAILABLE);
    assert_lookup(store, "k2", ES384, NOW + INTERVAL - 1, LOGTO_KEYS_UNAVAILABLE);
    assert_int_equal(fake_http_calls(fake, NULL), 1);
    assert_int_equal(stats_of(store).failures, 1);
    /* the issuer is back; the next attempt after the interval succeeds */
    fake_http_set(fake, DISCOVERY, 200, discovery_doc(p, ISS, JWKS_URL));
    fake_http_set(fake, JWKS_URL, 200, test_jwks_json(p, jwk1(p), NULL));
    assert_lookup(store, "k1", ES384, NOW + INTERVAL - 1, LOGTO_KEYS_UNAVAILABLE);
    assert_int_equal(fake_http_calls(fake, NULL), 1);
    assert_lookup(store, "k1", ES384, NOW + INTERVAL, LOGTO_OK);
    assert_int_equal(fake_http_calls(fake, DISCOVERY), 2);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 1);
}

/* A stalled issuer costs at most LogtoHttpTimeout, discovery and JWKS
 * together. */
static void stalled_issuer_bounded_by_http_timeout(void **state)
{
    apr_pool_t *p = *state;
    logto_store_conf_t conf = conf_default();
    fake_http_t *fake = issuer_up(p, test_jwks_json(p, jwk1(p), NULL));
    logto_store_t *store;
    logto_http_opts_t opts;
    apr_time_t start;

    conf.http_timeout = apr_time_from_msec(300);
    fake_http_delay(fake, DISCOVERY, apr_time_from_sec(30));
    store = new_store(p, fake, &conf);
    start = apr_time_now();
    assert_lookup(store, "k1", ES384, NOW, LOGTO_KEYS_UNAVAILABLE);
    assert_true(apr_time_now() - start < apr_time_from_msec(1000));

    /* 200 ms for discovery leaves the JWKS about 100 ms, not 300 */
    fake_http_delay(fake, DISCOVERY, apr_time_from_msec(200));
    fake_http_delay(fake, JWKS_URL, apr_time_from_msec(200));
    store = new_store(p, fake, &conf);
    start = apr_time_now();
    assert_lookup(store, "k1", ES384, NOW, LOGTO_KEYS_UNAVAILABLE);
    assert_true(apr_time_now() - start < apr_time_from_msec(1000));
    assert_int_equal(fake_http_done(fake, DISCOVERY), 2);
    /* (on a loaded machine the deadline may pass before the JWKS is asked) */
    if (fake_http_last_opts(fake, JWKS_URL, &opts)) {
        assert_true(opts.timeout <= apr_time_from_msec(150));
    }
}

/* ---- algorithms ---------------------------------------------------------------- */

static void alg_not_fitting_the_kid_refused(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake;
    logto_store_t *store = fetched_store(p, test_jwks_json(p, jwk1(p), jwk3(p), NULL), &fake);

    assert_lookup(store, "k1", LOGTO_ALG_RS256, NOW, LOGTO_ALG_NOT_ALLOWED);
    assert_lookup(store, "k1", LOGTO_ALG_ES256, NOW, LOGTO_ALG_NOT_ALLOWED);
    assert_lookup(store, "k1", LOGTO_ALG_ES512, NOW, LOGTO_ALG_NOT_ALLOWED);
    assert_lookup(store, "k1", LOGTO_ALG_EDDSA, NOW, LOGTO_ALG_NOT_ALLOWED);
    assert_lookup(store, "k3", LOGTO_ALG_ES384, NOW, LOGTO_ALG_NOT_ALLOWED);
    assert_lookup(store, "k3", LOGTO_ALG_ES256, NOW, LOGTO_OK);
    /* a known kid with the wrong alg is no reason to refetch */
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 1);
}

/* ---- threads -------------------------------------------------------------------- */

#define RACERS 8

typedef struct racer {
    logto_store_t *store;
    const char *kid;
    apr_time_t now;
    logto_reason_e reason;
    apr_interval_time_t took;
} racer_t;

static void *APR_THREAD_FUNC racer_main(apr_thread_t *thread, void *data)
{
    racer_t *r = data;
    apr_time_t start = apr_time_now();

    r->reason = lookup_raw(r->store, r->kid, ES384, r->now);
    r->took = apr_time_now() - start;
    (void)thread; /* returns: see mini_server.c on apr_thread_exit */
    return NULL;
}

/* Starts n racers on store and joins them. */
static void race(apr_pool_t *p, racer_t *racers, int n)
{
    apr_thread_t *threads[RACERS];
    apr_status_t rv;
    int i;

    assert_true(n <= RACERS);
    for (i = 0; i < n; i++) {
        assert_int_equal(apr_thread_create(&threads[i], NULL, racer_main, &racers[i], p),
                         APR_SUCCESS);
    }
    for (i = 0; i < n; i++) {
        assert_int_equal(apr_thread_join(&rv, threads[i]), APR_SUCCESS);
    }
}

/* Requests for a new kid (k2, published meanwhile) and for kids that do not
 * exist, all at once while the refetch is slow: one fetch, and every request
 * waiting for it sees its outcome. */
static void single_flight_for_unknown_kids(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake;
    logto_store_t *store = fetched_store(p, test_jwks_json(p, jwk1(p), NULL), &fake);
    racer_t racers[RACERS];
    int i;

    fake_http_set(fake, JWKS_URL, 200, test_jwks_json(p, jwk1(p), jwk2(p), NULL));
    fake_http_delay(fake, JWKS_URL, apr_time_from_msec(200));
    for (i = 0; i < RACERS; i++) {
        racers[i].store = store;
        racers[i].kid = (i % 2) ? "k2" : apr_psprintf(p, "nope-%d", i);
        /* past the interval that the first fetch started */
        racers[i].now = NOW + INTERVAL + 1;
    }
    race(p, racers, RACERS);
    for (i = 0; i < RACERS; i++) {
        assert_string_equal(logto_reason_name(racers[i].reason), (i % 2) ? "ok" : "unknown_kid");
    }
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 2);
}

static void single_flight_for_the_first_fetch(void **state)
{
    apr_pool_t *p = *state;
    logto_store_conf_t conf = conf_default();
    fake_http_t *fake = issuer_up(p, test_jwks_json(p, jwk1(p), jwk2(p), NULL));
    logto_store_t *store = new_store(p, fake, &conf);
    racer_t racers[RACERS];
    int i;

    fake_http_delay(fake, DISCOVERY, apr_time_from_msec(100));
    fake_http_delay(fake, JWKS_URL, apr_time_from_msec(100));
    for (i = 0; i < RACERS; i++) {
        racers[i].store = store;
        racers[i].kid = (i % 2) ? "k1" : "k2";
        racers[i].now = NOW;
    }
    race(p, racers, RACERS);
    for (i = 0; i < RACERS; i++) {
        assert_string_equal(logto_reason_name(racers[i].reason), "ok");
    }
    assert_int_equal(fake_http_calls(fake, DISCOVERY), 1);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 1);
}

/* While one request refetches for an unknown kid, known keys answer at once. */
static void known_kid_not_blocked_by_a_fetch(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake;
    logto_store_t *store = fetched_store(p, test_jwks_json(p, jwk1(p), NULL), &fake);
    racer_t slow = {store, "nope", NOW + INTERVAL + 1, LOGTO_OK, 0};
    apr_thread_t *thread;
    apr_status_t rv;

    fake_http_delay(fake, JWKS_URL, apr_time_from_msec(600));
    assert_int_equal(apr_thread_create(&thread, NULL, racer_main, &slow, p), APR_SUCCESS);
    while (fake_http_active(fake) == 0) {
        apr_sleep(apr_time_from_msec(5));
    }
    assert_lookup(store, "k1", ES384, NOW + INTERVAL + 1, LOGTO_OK);
    /* answered while the fetch was still running */
    assert_int_equal(fake_http_done(fake, JWKS_URL), 1);
    assert_int_equal(apr_thread_join(&rv, thread), APR_SUCCESS);
    assert_string_equal(logto_reason_name(slow.reason), "unknown_kid");
    assert_true(slow.took >= apr_time_from_msec(500));
}

static int wait_for_calls(fake_http_t *fake, const char *url, unsigned n, apr_interval_time_t max)
{
    apr_time_t until = apr_time_now() + max;

    while (fake_http_calls(fake, url) < n) {
        if (apr_time_now() > until) {
            return 0;
        }
        apr_sleep(apr_time_from_msec(5));
    }
    return 1;
}

/* With a refresher, a request past the TTL does not wait for the refresh; the
 * refresher keeps refreshing on its own and is stopped (and joined, even in
 * the middle of a fetch) when its pool goes. Real time, about 1 s. */
static void refresher_refreshes_and_stops(void **state)
{
    apr_pool_t *p = *state, *sp;
    logto_store_conf_t conf = conf_default();
    fake_http_t *fake = issuer_up(p, test_jwks_json(p, jwk1(p), NULL));
    logto_stores_t *stores;
    logto_store_t *store;

    conf.jwks_uri = JWKS_URL;
    conf.ttl = apr_time_from_msec(200);
    conf.refresh_interval = apr_time_from_msec(50);
    assert_int_equal(apr_pool_create(&sp, p), APR_SUCCESS);
    assert_int_equal(logto_stores_create(&stores, fake_http_iface(fake), 1, sp), APR_SUCCESS);
    assert_int_equal(logto_stores_get(stores, &conf, &store), APR_SUCCESS);

    assert_lookup(store, "k1", ES384, apr_time_now(), LOGTO_OK);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 1);

    fake_http_delay(fake, JWKS_URL, apr_time_from_msec(400));
    apr_sleep(apr_time_from_msec(250));
    assert_lookup(store, "k1", ES384, apr_time_now(), LOGTO_OK);
    /* the request did not wait for the refresh it asked for */
    assert_int_equal(fake_http_done(fake, JWKS_URL), 1);

    /* that refresh, then one more without any request */
    assert_true(wait_for_calls(fake, JWKS_URL, 2, apr_time_from_sec(2)));
    assert_true(wait_for_calls(fake, JWKS_URL, 3, apr_time_from_sec(2)));
    assert_int_equal(stats_of(store).failures, 0);

    /* stopped and joined: no fetch in flight after, none started later */
    apr_pool_destroy(sp);
    assert_int_equal(fake_http_active(fake), 0);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 3);
}

static void refresher_start_and_attach(void **state)
{
    apr_pool_t *p = *state, *sp;
    logto_store_conf_t conf = conf_default();
    fake_http_t *fake = issuer_up(p, test_jwks_json(p, jwk1(p), NULL));
    logto_refresher_t *refresher;
    logto_store_t *store;

    conf.jwks_uri = JWKS_URL;
    conf.ttl = apr_time_from_msec(100);
    assert_int_equal(apr_pool_create(&sp, p), APR_SUCCESS);
    assert_int_equal(logto_refresher_start(&refresher, sp), APR_SUCCESS);
    apr_sleep(apr_time_from_msec(50)); /* the thread starts and goes idle */
    store = new_store(sp, fake, &conf);
    logto_store_attach(store, refresher);

    assert_lookup(store, "k1", ES384, apr_time_now(), LOGTO_OK);
    fake_http_delay(fake, JWKS_URL, apr_time_from_msec(300));
    apr_sleep(apr_time_from_msec(150));
    assert_lookup(store, "k1", ES384, apr_time_now(), LOGTO_OK);
    assert_int_equal(fake_http_done(fake, JWKS_URL), 1);
    assert_true(wait_for_calls(fake, JWKS_URL, 2, apr_time_from_sec(2)));
    apr_pool_destroy(sp);
    assert_int_equal(fake_http_active(fake), 0);
}

/* ---- the registry ----------------------------------------------------------------- */

static void count_store(void *baton, logto_store_t *store)
{
    (void)store;
    (*(int *)baton)++;
}

static void stores_shared_by_source(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake = fake_http_create(p);
    logto_stores_t *stores;
    logto_store_conf_t a = conf_default(), same = conf_default(), ttl = conf_default(),
                       uri = conf_default(), file = conf_default();
    logto_store_t *s1, *s2, *s3, *s4, *s5;
    int n = 0;

    assert_int_equal(logto_stores_create(&stores, fake_http_iface(fake), 0, p), APR_SUCCESS);
    same.issuer = apr_pstrdup(p, ISS); /* equal, not the same pointer */
    ttl.ttl = TTL + 1;
    uri.jwks_uri = JWKS_URL;
    file.jwks_file = "/nonexistent/jwks.json";

    assert_int_equal(logto_stores_get(stores, &a, &s1), APR_SUCCESS);
    assert_int_equal(logto_stores_get(stores, &same, &s2), APR_SUCCESS);
    assert_ptr_equal(s1, s2);
    assert_int_equal(logto_stores_get(stores, &ttl, &s3), APR_SUCCESS);
    assert_int_equal(logto_stores_get(stores, &uri, &s4), APR_SUCCESS);
    assert_int_equal(logto_stores_get(stores, &file, &s5), APR_SUCCESS);
    assert_ptr_not_equal(s3, s1);
    assert_ptr_not_equal(s4, s1);
    assert_ptr_not_equal(s4, s3);
    assert_ptr_not_equal(s5, s1);
    assert_ptr_not_equal(s5, s4);
    assert_string_equal(logto_store_id(s1), logto_store_conf_id(p, &same));
    logto_stores_each(stores, count_store, &n);
    assert_int_equal(n, 4);
    /* nothing was fetched to create them */
    assert_int_equal(fake_http_calls(fake, NULL), 0);
}

typedef struct getter {
    logto_stores_t *stores;
    logto_store_conf_t conf;
    logto_store_t *store;
    apr_status_t rv;
} getter_t;

static void *APR_THREAD_FUNC getter_main(apr_thread_t *thread, void *data)
{
    getter_t *g = data;

    (void)thread; /* returns: see mini_server.c on apr_thread_exit */
    g->rv = logto_stores_get(g->stores, &g->conf, &g->store);
    return NULL;
}

/* Threads asking for the same issuer at once all get the one store. */
static void stores_get_from_threads(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake = fake_http_create(p);
    logto_stores_t *stores;
    getter_t getters[RACERS];
    apr_thread_t *threads[RACERS];
    apr_status_t rv;
    int i, n = 0;

    assert_int_equal(logto_stores_create(&stores, fake_http_iface(fake), 1, p), APR_SUCCESS);
    for (i = 0; i < RACERS; i++) {
        getters[i].stores = stores;
        getters[i].conf = conf_default();
        getters[i].conf.issuer = apr_pstrdup(p, (i % 2) ? ISS : "https://other.test/oidc");
        assert_int_equal(apr_thread_create(&threads[i], NULL, getter_main, &getters[i], p),
                         APR_SUCCESS);
    }
    for (i = 0; i < RACERS; i++) {
        assert_int_equal(apr_thread_join(&rv, threads[i]), APR_SUCCESS);
        assert_int_equal(getters[i].rv, APR_SUCCESS);
        assert_ptr_equal(getters[i].store, getters[i % 2].store);
    }
    assert_ptr_not_equal(getters[0].store, getters[1].store);
    logto_stores_each(stores, count_store, &n);
    assert_int_equal(n, 2);
}

/* ---- other sources ------------------------------------------------------------------ */

static void write_file(apr_pool_t *p, const char *path, const char *text)
{
    apr_file_t *f;
    apr_size_t len = strlen(text);

    assert_int_equal(apr_file_open(&f, path,
                                   APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE,
                                   APR_FPROT_OS_DEFAULT, p),
                     APR_SUCCESS);
    assert_int_equal(apr_file_write_full(f, text, len, NULL), APR_SUCCESS);
    assert_int_equal(apr_file_close(f), APR_SUCCESS);
}

static apr_status_t remove_file(void *path)
{
    apr_pool_t *p;

    if (apr_pool_create(&p, NULL) == APR_SUCCESS) {
        apr_file_remove(path, p);
        apr_pool_destroy(p);
    }
    return APR_SUCCESS;
}

static void file_source_read_and_reread(void **state)
{
    apr_pool_t *p = *state;
    logto_store_conf_t conf = conf_default();
    fake_http_t *fake = fake_http_create(p);
    char *path = apr_pstrdup(p, "/tmp/logto-unit-jwks-XXXXXX");
    apr_file_t *f;
    logto_store_t *store;
    apr_uint32_t epoch;

    assert_int_equal(
        apr_file_mktemp(&f, path,
                        APR_FOPEN_CREATE | APR_FOPEN_READ | APR_FOPEN_WRITE | APR_FOPEN_EXCL, p),
        APR_SUCCESS);
    apr_pool_cleanup_register(p, path, remove_file, apr_pool_cleanup_null);
    assert_int_equal(apr_file_close(f), APR_SUCCESS);
    write_file(p, path, test_jwks_json(p, jwk1(p), NULL));
    conf.jwks_file = path;
    store = new_store(p, fake, &conf);

    assert_lookup(store, "k1", ES384, NOW, LOGTO_OK);
    epoch = logto_store_epoch(store);
    /* a new key in the file is found by the unknown-kid re-read (at AFTER,
     * which is when the TTL starts again) */
    write_file(p, path, test_jwks_json(p, jwk1(p), jwk2(p), NULL));
    assert_lookup(store, "k2", ES384, AFTER, LOGTO_OK);
    assert_int_equal(logto_store_epoch(store), epoch);
    /* a key gone from the file is gone after the TTL re-read */
    write_file(p, path, test_jwks_json(p, jwk2(p), NULL));
    assert_lookup(store, "k2", ES384, AFTER + TTL, LOGTO_OK);
    assert_int_not_equal(logto_store_epoch(store), epoch);
    assert_false(logto_store_has_kid(store, "k1", AFTER + TTL));
    /* a broken file is a failed read that keeps the keys */
    write_file(p, path, "{\"keys\":[]}");
    assert_lookup(store, "k2", ES384, AFTER + 2 * TTL, LOGTO_OK);
    assert_int_equal(stats_of(store).failures, 1);
    assert_int_equal(stats_of(store).keys, 1);
    /* a missing file with no keys: unavailable */
    conf.jwks_file = "/nonexistent/logto/jwks.json";
    store = new_store(p, fake, &conf);
    assert_lookup(store, "k1", ES384, NOW, LOGTO_KEYS_UNAVAILABLE);
    /* files never touch the network */
    assert_int_equal(fake_http_calls(fake, NULL), 0);
}

static void static_store_never_fetches(void **state)
{
    apr_pool_t *p = *state;
    logto_store_t *store;
    logto_jwks_t *set = test_jwks(p, test_jwks_json(p, jwk1(p), NULL));
    const apr_time_t far = unit_time(LOGTO_NUMERIC_DATE_MAX);
    apr_time_t next = 1;

    assert_int_equal(logto_store_create_static(&store, "static", set, p), APR_SUCCESS);
    assert_lookup(store, "k1", ES384, NOW, LOGTO_OK);
    assert_lookup(store, "k1", ES384, far, LOGTO_OK);
    assert_lookup(store, "nope", ES384, NOW, LOGTO_UNKNOWN_KID);
    assert_lookup(store, "k1", LOGTO_ALG_RS256, NOW, LOGTO_ALG_NOT_ALLOWED);
    assert_true(logto_store_usable(store, far));
    assert_int_equal(logto_store_epoch(store), 0);
    logto_store_refresh_due(store, far, &next);
    assert_true(next == 0);
    assert_int_equal(stats_of(store).fetches, 0);
    assert_int_equal(stats_of(store).keys, 1);
    /* attaching a refresher to it is a no-op */
    logto_store_attach(store, NULL);
}

/* The key a store hands out for kid at NOW, in p. */
static const logto_jwk_t *key_of(apr_pool_t *p, logto_store_t *store, const char *kid,
                                 logto_alg_e alg)
{
    const logto_jwk_t *key = NULL;
    logto_result_t res;

    assert_int_equal(logto_store_key(store, kid, alg, NOW, p, &key, &res), APR_SUCCESS);
    assert_non_null(key);
    return key;
}

/* LogtoFastECDSA: with fast_ecdsa, every fetched key of a covered curve
 * comes with its table, built before the set is published; without it,
 * none does. The switch is part of the source's identity. */
static void fast_ecdsa_tables_follow_the_conf(void **state)
{
    apr_pool_t *p = *state;
    const char *jwks = test_jwks_json(p, jwk1(p), jwk3(p), NULL);
    logto_store_conf_t on = conf_default(), off = conf_default();
    fake_http_t *fake = issuer_up(p, jwks);
    logto_store_t *fast, *plain;

    on.fast_ecdsa = 1;
    fast = new_store(p, fake, &on);
    plain = new_store(p, fake, &off);
    assert_string_not_equal(logto_store_id(fast), logto_store_id(plain));
    assert_int_equal(logto_ecfast_covers(LOGTO_CRV_P384),
                     logto_jwk_ec_table(key_of(p, fast, "k1", ES384)) != NULL);
    assert_int_equal(logto_ecfast_covers(LOGTO_CRV_P256),
                     logto_jwk_ec_table(key_of(p, fast, "k3", LOGTO_ALG_ES256)) != NULL);
    assert_null(logto_jwk_ec_table(key_of(p, plain, "k1", ES384)));
    assert_null(logto_jwk_ec_table(key_of(p, plain, "k3", LOGTO_ALG_ES256)));
    /* a token signed by k1 verifies either way */
    {
        const char *token = test_sign(p, TEST_KEY_P384, "ES384", test_header(p, "ES384", "k1"),
                                      test_payload(p, NULL));
        logto_jws_t *jws = NULL;
        logto_result_t res;

        assert_int_equal(logto_jws_parse(p, token, strlen(token), 0, &jws, &res), APR_SUCCESS);
        assert_int_equal(logto_jws_verify(jws, key_of(p, fast, "k1", ES384), &res), APR_SUCCESS);
        assert_int_equal(logto_jws_verify(jws, key_of(p, plain, "k1", ES384), &res), APR_SUCCESS);
    }
}

static const struct CMUnitTest tests[] = {
    unit_test(discovery_then_jwks),
    unit_test(discovery_of_issuer_ending_in_slash),
    unit_test(fetches_bounded_in_size_and_time),
    capture_test(discovery_issuer_mismatch_unusable),
    unit_test(plain_http_off_loopback_refused),
    unit_test(ttl_refresh_by_calling_thread),
    unit_test(unknown_kid_one_refetch_then_rate_limited),
    unit_test(added_key_found_epoch_kept),
    unit_test(unknown_kid_at_ttl_fetches_once),
    unit_test(failed_refetch_for_unknown_kid_keeps_keys),
    unit_test(removed_key_bumps_epoch_and_stops_validating),
    unit_test(replaced_key_under_same_kid_bumps_epoch),
    unit_test(has_key_checks_kid_and_fingerprint),
    unit_test(key_in_use_survives_refresh),
    capture_test(failed_refresh_keeps_old_keys),
    unit_test(failed_refresh_retried_after_interval),
    unit_test(keys_dropped_after_max_stale),
    unit_test(no_keys_failure_retried_after_interval),
    unit_test(stalled_issuer_bounded_by_http_timeout),
    unit_test(alg_not_fitting_the_kid_refused),
    unit_test(single_flight_for_unknown_kids),
    unit_test(single_flight_for_the_first_fetch),
    unit_test(known_kid_not_blocked_by_a_fetch),
    unit_test(refresher_refreshes_and_stops),
    unit_test(refresher_start_and_attach),
    unit_test(stores_shared_by_source),
    unit_test(fast_ecdsa_tables_follow_the_conf),
    unit_test(stores_get_from_threads),
    unit_test(file_source_read_and_reread),
    unit_test(static_store_never_fetches),
};

LOGTO_TEST_GROUP(store, tests);
