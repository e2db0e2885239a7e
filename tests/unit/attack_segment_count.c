/* Gap closed: tokens with the wrong number of parts. A splitter that takes
 * "the first three" or "the last three" parts, or that treats empty parts
 * as absent, verifies one thing and reads another. A compact JWS has
 * exactly three parts (RFC 7515 section 7.1); five are a JWE (RFC 7516),
 * which we do not take; anything else is malformed. */
#include <string.h>

#include <apr_strings.h>

#include "test_keys.h"
#include "unit.h"

#define KID "issuer"

static const char *issuer_jwks(apr_pool_t *p)
{
    return test_jwks_json(p, test_jwk(p, TEST_KEY_P256, KID, "ES256"), NULL);
}

static const char *good_token(apr_pool_t *p)
{
    return test_sign(p, TEST_KEY_P256, "ES256", test_header(p, "ES256", KID),
                     test_payload(p, NULL));
}

static void three_parts_pass(void **state)
{
    apr_pool_t *p = *state;
    logto_claims_t *claims;
    logto_result_t res;

    assert_int_equal(test_validate(p, issuer_jwks(p), good_token(p), &claims, &res), APR_SUCCESS);
}

static void two_parts(void **state)
{
    apr_pool_t *p = *state;
    const char *token = good_token(p);

    test_expect_refused(p, issuer_jwks(p),
                        apr_pstrmemdup(p, token, (apr_size_t)(strrchr(token, '.') - token)),
                        LOGTO_MALFORMED);
    /* signature and payload only */
    test_expect_refused(p, issuer_jwks(p), strchr(token, '.') + 1, LOGTO_MALFORMED);
}

/* Extra parts before or after a valid token: never "the good three". */
static void four_and_six_parts(void **state)
{
    apr_pool_t *p = *state;
    const char *token = good_token(p);
    const char *sig = strrchr(token, '.') + 1;

    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, token, ".", sig, NULL), LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, token, ".", NULL), LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, "e30.", token, NULL), LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, token, ".e30.e30.e30", NULL),
                        LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, token, ".", token, NULL),
                        LOGTO_MALFORMED);
}

/* Five parts is the shape of a JWE: said so, and refused. */
static void five_parts(void **state)
{
    apr_pool_t *p = *state;
    const char *token = good_token(p);

    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, token, ".e30.e30", NULL),
                        LOGTO_JWE_TOKEN);
    test_expect_refused(p, issuer_jwks(p), "....", LOGTO_JWE_TOKEN);
}

static void empty_parts(void **state)
{
    apr_pool_t *p = *state;
    const char *token = good_token(p);
    const char *dot1 = strchr(token, '.'), *dot2 = strrchr(token, '.');
    const char *header = apr_pstrmemdup(p, token, (apr_size_t)(dot1 - token));

    test_expect_refused(p, issuer_jwks(p), "", LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), ".", LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), "..", LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), "...", LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), "......", LOGTO_MALFORMED);
    /* empty header */
    test_expect_refused(p, issuer_jwks(p), dot1, LOGTO_MALFORMED);
    /* empty payload: no claims set */
    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, header, ".", dot2, NULL),
                        LOGTO_MALFORMED);
    /* empty signature of a well-formed token: parsed, then never verifies */
    test_expect_refused(p, issuer_jwks(p), apr_pstrmemdup(p, token, (apr_size_t)(dot2 - token + 1)),
                        LOGTO_BAD_SIGNATURE);
}

static const struct CMUnitTest tests[] = {
    unit_test(three_parts_pass), unit_test(two_parts),   unit_test(four_and_six_parts),
    unit_test(five_parts),       unit_test(empty_parts),
};

LOGTO_TEST_GROUP(attack_segment_count, tests);
