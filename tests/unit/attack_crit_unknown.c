/* Gap closed: "crit" (RFC 7515 section 4.1.11). A header can declare
 * extensions the recipient MUST understand, or refuse the token. A verifier
 * that ignores crit may process a token whose meaning it does not know:
 * RFC 7797's "b64":false changes what was signed, and an issuer can mark
 * claims as critical restrictions. We implement no extension, so any crit,
 * in any shape, is refused; b64 without crit changes nothing. */
#include <string.h>

#include <apr_strings.h>

#include "test_keys.h"
#include "unit.h"

#define KID "issuer"

static const char *issuer_jwks(apr_pool_t *p)
{
    return test_jwks_json(p, test_jwk(p, TEST_KEY_P256, KID, "ES256"), NULL);
}

static const char *signed_with(apr_pool_t *p, const char *members)
{
    return test_sign(p, TEST_KEY_P256, "ES256",
                     apr_pstrcat(p, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"" KID "\",",
                                 members, "}", NULL),
                     test_payload(p, NULL));
}

static void crit_unknown_names(void **state)
{
    apr_pool_t *p = *state;

    test_expect_refused(p, issuer_jwks(p),
                        signed_with(p, "\"crit\":[\"x-tenant\"],\"x-tenant\":\"t1\""),
                        LOGTO_CRIT_UNSUPPORTED);
    test_expect_refused(p, issuer_jwks(p), signed_with(p, "\"crit\":[\"exp\"],\"exp\":1767228600"),
                        LOGTO_CRIT_UNSUPPORTED);
    test_expect_refused(p, issuer_jwks(p),
                        signed_with(p, "\"crit\":[\"x-a\",\"x-b\"],\"x-a\":1,\"x-b\":2"),
                        LOGTO_CRIT_UNSUPPORTED);
    /* named but absent from the header */
    test_expect_refused(p, issuer_jwks(p), signed_with(p, "\"crit\":[\"x-missing\"]"),
                        LOGTO_CRIT_UNSUPPORTED);
}

/* RFC 7515: crit MUST NOT be empty and MUST be an array of names. */
static void crit_empty_or_not_array(void **state)
{
    apr_pool_t *p = *state;
    const char *bad[] = {"\"crit\":[]",   "\"crit\":\"b64\"", "\"crit\":{}",       "\"crit\":null",
                         "\"crit\":true", "\"crit\":[1]",     "\"crit\":[[\"x\"]]"};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        test_expect_refused(p, issuer_jwks(p), signed_with(p, bad[i]), LOGTO_CRIT_UNSUPPORTED);
    }
}

/* RFC 7797: with "b64":false the payload is signed unencoded. The signature
 * here is over the raw payload exactly as RFC 7797 computes it. */
static void crit_b64_false(void **state)
{
    apr_pool_t *p = *state;
    const char *header = "{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"b64\":false,\"crit\":[\"b64\"]}";
    const char *hb64 = test_b64s(p, header);
    const char *input = apr_pstrcat(p, hb64, ".", "$.02", NULL);
    apr_size_t len;
    unsigned char *sig = test_sign_raw(p, TEST_KEY_P256, "ES256", input, strlen(input), &len);

    /* RFC 7797 section 4.2-style token with a base64url-safe payload */
    test_expect_refused(p, issuer_jwks(p),
                        apr_pstrcat(p, hb64, ".JC4wMg.", test_b64(p, sig, len), NULL),
                        LOGTO_CRIT_UNSUPPORTED);
    test_expect_refused(p, issuer_jwks(p), signed_with(p, "\"b64\":false,\"crit\":[\"b64\"]"),
                        LOGTO_CRIT_UNSUPPORTED);
}

/* b64:false without crit is not an extension in force: the payload is still
 * base64url-decoded and signed as usual, so a signature over the unencoded
 * payload fails, and a normal signature passes with the decoded claims. */
static void b64_false_without_crit(void **state)
{
    apr_pool_t *p = *state;
    const char *header = "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"" KID "\",\"b64\":false}";
    const char *payload = test_payload(p, NULL);
    const char *pb64 = test_b64s(p, payload);
    const char *hb64 = test_b64s(p, header);
    const char *raw_input = apr_pstrcat(p, hb64, ".", payload, NULL);
    apr_size_t len;
    unsigned char *sig =
        test_sign_raw(p, TEST_KEY_P256, "ES256", raw_input, strlen(raw_input), &len);
    logto_claims_t *claims;
    logto_result_t res;

    test_expect_refused(p, issuer_jwks(p),
                        apr_pstrcat(p, hb64, ".", pb64, ".", test_b64(p, sig, len), NULL),
                        LOGTO_BAD_SIGNATURE);
    assert_int_equal(test_validate(p, issuer_jwks(p),
                                   test_sign(p, TEST_KEY_P256, "ES256", header, payload), &claims,
                                   &res),
                     APR_SUCCESS);
    assert_string_equal(claims->sub, "u7x2k9q4m1pz");
}

static void without_crit_passes(void **state)
{
    apr_pool_t *p = *state;
    logto_claims_t *claims;
    logto_result_t res;

    assert_int_equal(
        test_validate(p, issuer_jwks(p), signed_with(p, "\"x-tenant\":\"t1\""), &claims, &res),
        APR_SUCCESS);
}

static const struct CMUnitTest tests[] = {
    unit_test(crit_unknown_names),  unit_test(crit_empty_or_not_array),
    unit_test(crit_b64_false),      unit_test(b64_false_without_crit),
    unit_test(without_crit_passes),
};

LOGTO_TEST_GROUP(attack_crit_unknown, tests);
