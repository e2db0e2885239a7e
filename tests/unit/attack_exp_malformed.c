/* Gap closed: an "exp" the checker does not understand. Loose code treats a
 * missing, null, string or non-finite exp as "no expiry" or compares it as
 * 0, NaN (every comparison false: never expired) or a wrapped integer; an
 * attacker who can get such a token signed (a custom-claims script, a
 * confused issuer) gets a token that never expires. Every such exp is
 * refused. Each token here is validly signed by the issuer's key. */
#include <string.h>

#include <apr_strings.h>

#include "test_keys.h"
#include "unit.h"

#define KID "issuer"

static const char *issuer_jwks(apr_pool_t *p)
{
    return test_jwks_json(p, test_jwk(p, TEST_KEY_P384, KID, "ES384"), NULL);
}

/* A Logto payload whose exp member is the given JSON text (NULL: absent). */
static const char *with_exp(apr_pool_t *p, const char *exp)
{
    return test_payload_with(
        p, "\"jti\":\"j1\"", "\"sub\":\"u1\"", apr_psprintf(p, "\"iat\":%ld", TEST_IAT),
        exp ? apr_pstrcat(p, "\"exp\":", exp, NULL) : NULL, "\"scope\":\"read:products\"",
        "\"client_id\":\"app\"", "\"iss\":\"" TEST_ISSUER "\"", "\"aud\":\"" TEST_API "\"");
}

static const char *token_with_exp(apr_pool_t *p, const char *exp)
{
    return test_sign(p, TEST_KEY_P384, "ES384", test_header(p, "ES384", KID), with_exp(p, exp));
}

static void exp_missing(void **state)
{
    apr_pool_t *p = *state;

    test_expect_refused(p, issuer_jwks(p), token_with_exp(p, NULL), LOGTO_EXP_MISSING);
}

static void exp_of_wrong_type(void **state)
{
    apr_pool_t *p = *state;
    const char *bad[] = {
        "\"1767228600\"",      "\"\"", "null",         "true",    "false",        "{}",
        "{\"at\":1767228600}", "[]",   "[1767228600]", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"",
        "\"1e400\"",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        test_expect_refused(p, issuer_jwks(p), token_with_exp(p, bad[i]), LOGTO_CLAIM_TYPE);
    }
}

/* Numbers outside NumericDate's range (after the epoch, before year 10000):
 * refused rather than clamped or wrapped. */
static void exp_out_of_range(void **state)
{
    apr_pool_t *p = *state;
    const char *bad[] = {"-1",
                         "-1767228600",
                         "1e300",
                         "-1e300",
                         "253402300800",
                         "9223372036854775807",
                         "-9223372036854775808",
                         "1.8e19"};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        test_expect_refused(p, issuer_jwks(p), token_with_exp(p, bad[i]), LOGTO_CLAIM_TYPE);
    }
}

/* Not JSON at all: NaN and Infinity literals, a double that overflows
 * (1e400) and an integer beyond 64 bits. The payload fails to parse. */
static void exp_not_json(void **state)
{
    apr_pool_t *p = *state;
    const char *bad[] = {"NaN",        "Infinity",    "-Infinity",
                         "1e400",      "-1e400",      "99999999999999999999",
                         "0x7fffffff", "+1767228600", "01767228600"};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        test_expect_refused(p, issuer_jwks(p), token_with_exp(p, bad[i]), LOGTO_MALFORMED);
    }
}

/* Old but well-formed exps expire; the genuine one passes. */
static void exp_valid_forms(void **state)
{
    apr_pool_t *p = *state;
    logto_claims_t *claims;
    logto_result_t res;

    test_expect_refused(p, issuer_jwks(p), token_with_exp(p, "0"), LOGTO_EXPIRED);
    test_expect_refused(p, issuer_jwks(p), token_with_exp(p, "1"), LOGTO_EXPIRED);
    test_expect_refused(p, issuer_jwks(p), token_with_exp(p, "0.5"), LOGTO_EXPIRED);
    assert_int_equal(test_validate(p, issuer_jwks(p),
                                   token_with_exp(p, apr_psprintf(p, "%ld", TEST_EXP)), &claims,
                                   &res),
                     APR_SUCCESS);
    assert_true(claims->exp == TEST_EXP);
    assert_int_equal(test_validate(p, issuer_jwks(p),
                                   token_with_exp(p, apr_psprintf(p, "%ld.75", TEST_EXP)), &claims,
                                   &res),
                     APR_SUCCESS);
    assert_true(claims->exp == TEST_EXP);
}

static const struct CMUnitTest tests[] = {
    unit_test(exp_missing),  unit_test(exp_of_wrong_type), unit_test(exp_out_of_range),
    unit_test(exp_not_json), unit_test(exp_valid_forms),
};

LOGTO_TEST_GROUP(attack_exp_malformed, tests);
