/* Gap closed: signatures of the wrong length. A verifier that only compares
 * the bytes it has (or pads what is missing) accepts a truncated signature;
 * one that reads the integer value accepts a leading zero byte on RSA or on
 * r||s. Empty, one byte short and one byte long (either end) must all fail,
 * for each signature family. */
#include <string.h>

#include <apr_strings.h>

#include "logto_b64.h"
#include "test_keys.h"
#include "unit.h"

static void lengths_refused(apr_pool_t *p, test_key_e which, const char *alg)
{
    const char *jwks = test_jwks_json(p, test_jwk(p, which, "issuer", NULL), NULL);
    const char *token =
        test_sign(p, which, alg, test_header(p, alg, "issuer"), test_payload(p, NULL));
    const char *dot = strrchr(token, '.');
    unsigned char *sig, *longer;
    apr_size_t len;
    logto_claims_t *claims;
    logto_result_t res;

    assert_int_equal(test_validate(p, jwks, token, &claims, &res), APR_SUCCESS);
    assert_int_equal(logto_b64url_decode(p, dot + 1, strlen(dot + 1), 4096, &sig, &len),
                     APR_SUCCESS);

    /* empty: "header.payload." */
    test_expect_refused(p, jwks, test_with_signature(p, token, sig, 0), LOGTO_BAD_SIGNATURE);
    /* one byte short, at either end */
    test_expect_refused(p, jwks, test_with_signature(p, token, sig, len - 1), LOGTO_BAD_SIGNATURE);
    test_expect_refused(p, jwks, test_with_signature(p, token, sig + 1, len - 1),
                        LOGTO_BAD_SIGNATURE);
    /* one byte long: a trailing byte, and a leading zero byte */
    longer = apr_pcalloc(p, len + 1);
    memcpy(longer, sig, len);
    test_expect_refused(p, jwks, test_with_signature(p, token, longer, len + 1),
                        LOGTO_BAD_SIGNATURE);
    memcpy(longer + 1, sig, len);
    longer[0] = 0;
    test_expect_refused(p, jwks, test_with_signature(p, token, longer, len + 1),
                        LOGTO_BAD_SIGNATURE);
    /* a single byte */
    test_expect_refused(p, jwks, test_with_signature(p, token, sig, 1), LOGTO_BAD_SIGNATURE);
}

static void rs256_lengths(void **state)
{
    lengths_refused(*state, TEST_KEY_RSA2048, "RS256");
}

static void ps256_lengths(void **state)
{
    lengths_refused(*state, TEST_KEY_RSA2048, "PS256");
}

static void es256_lengths(void **state)
{
    lengths_refused(*state, TEST_KEY_P256, "ES256");
}

static void es384_lengths(void **state)
{
    lengths_refused(*state, TEST_KEY_P384, "ES384");
}

static void es512_lengths(void **state)
{
    lengths_refused(*state, TEST_KEY_P521, "ES512");
}

static void eddsa_lengths(void **state)
{
    lengths_refused(*state, TEST_KEY_ED25519, "EdDSA");
}

static const struct CMUnitTest tests[] = {
    unit_test(rs256_lengths), unit_test(ps256_lengths), unit_test(es256_lengths),
    unit_test(es384_lengths), unit_test(es512_lengths), unit_test(eddsa_lengths),
};

LOGTO_TEST_GROUP(attack_truncated_signature, tests);
