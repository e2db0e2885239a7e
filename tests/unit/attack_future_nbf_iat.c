/* Gap closed: tokens dated in the future. A token minted ahead of time (a
 * leaked signing moment, an issuer clock far ahead, a pre-signed token
 * meant for later) must not be usable now: nbf beyond the leeway is
 * not_yet_valid (RFC 7519 4.1.5) and an iat beyond it is iat_future.
 * Within the 60 s leeway both are clock skew and pass. */
#include <string.h>

#include <apr_strings.h>

#include "test_keys.h"
#include "unit.h"

#define KID "issuer"

static const char *issuer_jwks(apr_pool_t *p)
{
    return test_jwks_json(p, test_jwk(p, TEST_KEY_P384, KID, "ES384"), NULL);
}

static const char *token_of(apr_pool_t *p, const char *payload)
{
    return test_sign(p, TEST_KEY_P384, "ES384", test_header(p, "ES384", KID), payload);
}

static const char *dated(apr_pool_t *p, long iat, long exp, const char *extra)
{
    return apr_psprintf(p,
                        "{%s\"jti\":\"j1\",\"sub\":\"u1\",\"iat\":%ld,\"exp\":%ld,"
                        "\"scope\":\"read:products\",\"client_id\":\"app\","
                        "\"iss\":\"" TEST_ISSUER "\",\"aud\":\"" TEST_API "\"}",
                        extra ? extra : "", iat, exp);
}

static void expect_ok(apr_pool_t *p, const char *token)
{
    logto_claims_t *claims = NULL;
    logto_result_t res;

    if (test_validate(p, issuer_jwks(p), token, &claims, &res) != APR_SUCCESS) {
        fail_msg("refused: %s", logto_reason_name(res.reason));
    }
}

static void nbf_in_the_future(void **state)
{
    apr_pool_t *p = *state;

    test_expect_refused(
        p, issuer_jwks(p),
        token_of(p, dated(p, TEST_IAT, TEST_EXP, apr_psprintf(p, "\"nbf\":%ld,", TEST_NOW + 3600))),
        LOGTO_NOT_YET_VALID);
    test_expect_refused(
        p, issuer_jwks(p),
        token_of(p, dated(p, TEST_IAT, TEST_EXP, apr_psprintf(p, "\"nbf\":%ld,", TEST_NOW + 61))),
        LOGTO_NOT_YET_VALID);
    expect_ok(p, token_of(p, dated(p, TEST_IAT, TEST_EXP,
                                   apr_psprintf(p, "\"nbf\":%ld,", TEST_NOW + 60))));
    expect_ok(p, token_of(p, dated(p, TEST_IAT, TEST_EXP,
                                   apr_psprintf(p, "\"nbf\":%ld,", TEST_NOW - 600))));
}

static void iat_in_the_future(void **state)
{
    apr_pool_t *p = *state;

    /* minted an hour ahead, valid for an hour after that */
    test_expect_refused(p, issuer_jwks(p),
                        token_of(p, dated(p, TEST_NOW + 3600, TEST_NOW + 7200, NULL)),
                        LOGTO_IAT_FUTURE);
    test_expect_refused(p, issuer_jwks(p),
                        token_of(p, dated(p, TEST_NOW + 61, TEST_NOW + 3661, NULL)),
                        LOGTO_IAT_FUTURE);
    /* minted for the year 2100 */
    test_expect_refused(p, issuer_jwks(p), token_of(p, dated(p, 4102444800L, 4102448400L, NULL)),
                        LOGTO_IAT_FUTURE);
    expect_ok(p, token_of(p, dated(p, TEST_NOW + 60, TEST_NOW + 3660, NULL)));
}

/* nbf and iat of the wrong type are refused, not skipped. */
static void nbf_iat_wrong_type(void **state)
{
    apr_pool_t *p = *state;
    const char *bad[] = {"\"nbf\":\"1767229200\",", "\"nbf\":null,", "\"nbf\":1e300,",
                         "\"nbf\":[1],"};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        test_expect_refused(p, issuer_jwks(p), token_of(p, dated(p, TEST_IAT, TEST_EXP, bad[i])),
                            LOGTO_CLAIM_TYPE);
    }
    test_expect_refused(p, issuer_jwks(p),
                        token_of(p, apr_psprintf(p,
                                                 "{\"sub\":\"u1\",\"iat\":\"%ld\",\"exp\":%ld,"
                                                 "\"iss\":\"" TEST_ISSUER "\"}",
                                                 TEST_NOW + 3600, TEST_EXP)),
                        LOGTO_CLAIM_TYPE);
}

static const struct CMUnitTest tests[] = {
    unit_test(nbf_in_the_future),
    unit_test(iat_in_the_future),
    unit_test(nbf_iat_wrong_type),
};

LOGTO_TEST_GROUP(attack_future_nbf_iat, tests);
