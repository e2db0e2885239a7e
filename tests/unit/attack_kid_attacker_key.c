/* Gap closed: the kid only names a key, it proves nothing. An attacker signs
 * with a key of their own and writes the issuer's kid (which is public, in
 * the JWKS) into the header; the signature must be checked against the
 * issuer's key of that kid and fail. Also: a kid the issuer never published
 * must not fall back to "some key". */
#include <string.h>

#include <apr_strings.h>

#include "test_keys.h"
#include "unit.h"

static const char *issuer_jwks(apr_pool_t *p)
{
    return test_jwks_json(p, test_jwk(p, TEST_KEY_P384, "issuer-ec", "ES384"),
                          test_jwk(p, TEST_KEY_RSA2048, "issuer-rsa", NULL), NULL);
}

static void attacker_ec_key_with_issuer_kid(void **state)
{
    apr_pool_t *p = *state;
    const char *payload = test_payload(p, NULL);

    test_expect_refused(
        p, issuer_jwks(p),
        test_sign(p, TEST_KEY_P384_B, "ES384", test_header(p, "ES384", "issuer-ec"), payload),
        LOGTO_BAD_SIGNATURE);
}

static void attacker_rsa_key_with_issuer_kid(void **state)
{
    apr_pool_t *p = *state;
    const char *payload = test_payload(p, NULL);

    test_expect_refused(
        p, issuer_jwks(p),
        test_sign(p, TEST_KEY_RSA2048_B, "RS256", test_header(p, "RS256", "issuer-rsa"), payload),
        LOGTO_BAD_SIGNATURE);
    test_expect_refused(
        p, issuer_jwks(p),
        test_sign(p, TEST_KEY_RSA2048_B, "PS512", test_header(p, "PS512", "issuer-rsa"), payload),
        LOGTO_BAD_SIGNATURE);
}

/* No kid: the issuer's single key of the type is tried, and fails. */
static void attacker_key_without_kid(void **state)
{
    apr_pool_t *p = *state;

    test_expect_refused(p, issuer_jwks(p),
                        test_sign(p, TEST_KEY_P384_B, "ES384", test_header(p, "ES384", NULL),
                                  test_payload(p, NULL)),
                        LOGTO_BAD_SIGNATURE);
}

/* The attacker's own kid is not the issuer's: unknown, with no fallback to
 * the only EC key of the set. */
static void attacker_kid_unknown(void **state)
{
    apr_pool_t *p = *state;
    const char *kid = "attacker-key";

    test_expect_refused(
        p, issuer_jwks(p),
        test_sign(p, TEST_KEY_P384_B, "ES384", test_header(p, "ES384", kid), test_payload(p, NULL)),
        LOGTO_UNKNOWN_KID);
    /* even when the attacker's token is signed by the issuer's key (a kid
     * the issuer never published is not a way to pick a key) */
    test_expect_refused(
        p, issuer_jwks(p),
        test_sign(p, TEST_KEY_P384, "ES384", test_header(p, "ES384", kid), test_payload(p, NULL)),
        LOGTO_UNKNOWN_KID);
}

static void issuer_key_passes(void **state)
{
    apr_pool_t *p = *state;
    logto_claims_t *claims;
    logto_result_t res;

    assert_int_equal(
        test_validate(p, issuer_jwks(p),
                      test_sign(p, TEST_KEY_P384, "ES384", test_header(p, "ES384", "issuer-ec"),
                                test_payload(p, NULL)),
                      &claims, &res),
        APR_SUCCESS);
    assert_string_equal(claims->kid, "issuer-ec");
}

static const struct CMUnitTest tests[] = {
    unit_test(attacker_ec_key_with_issuer_kid),
    unit_test(attacker_rsa_key_with_issuer_kid),
    unit_test(attacker_key_without_kid),
    unit_test(attacker_kid_unknown),
    unit_test(issuer_key_passes),
};

LOGTO_TEST_GROUP(attack_kid_attacker_key, tests);
