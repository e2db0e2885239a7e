/* Gap closed: duplicate JSON members (RFC 8725 section 3.3, RFC 7515
 * section 5.2 step 4). Parsers disagree on which duplicate wins: a header
 * {"alg":"ES384",...,"alg":"none"} or a payload with two "exp", "iss" or
 * "sub" means one thing to the component that checked it and another to the
 * one that uses it. Duplicates are refused outright, including spellings
 * that only become equal after JSON unescaping. Every token here carries a
 * valid signature of the issuer's key. */
#include <string.h>

#include <apr_strings.h>

#include "test_keys.h"
#include "unit.h"

#define KID "issuer"

static const char *issuer_jwks(apr_pool_t *p)
{
    return test_jwks_json(p, test_jwk(p, TEST_KEY_P384, KID, "ES384"), NULL);
}

static const char *token_of(apr_pool_t *p, const char *header, const char *payload)
{
    return test_sign(p, TEST_KEY_P384, "ES384", header, payload);
}

static void duplicate_alg_in_header(void **state)
{
    apr_pool_t *p = *state;
    const char *payload = test_payload(p, NULL);
    const char *headers[] = {
        "{\"alg\":\"ES384\",\"typ\":\"at+jwt\",\"kid\":\"" KID "\",\"alg\":\"none\"}",
        "{\"alg\":\"none\",\"typ\":\"at+jwt\",\"kid\":\"" KID "\",\"alg\":\"ES384\"}",
        "{\"alg\":\"ES384\",\"typ\":\"at+jwt\",\"kid\":\"" KID "\",\"alg\":\"ES384\"}",
        "{\"alg\":\"ES384\",\"typ\":\"at+jwt\",\"kid\":\"" KID "\",\"\\u0061lg\":\"HS256\"}",
        "{\"alg\":\"ES384\",\"typ\":\"at+jwt\",\"kid\":\"" KID "\",\"kid\":\"other\"}",
        "{\"alg\":\"ES384\",\"typ\":\"JWT\",\"kid\":\"" KID "\",\"typ\":\"at+jwt\"}",
    };
    size_t i;

    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        test_expect_refused(p, issuer_jwks(p), token_of(p, headers[i], payload), LOGTO_MALFORMED);
    }
}

static void duplicate_claims_in_payload(void **state)
{
    apr_pool_t *p = *state;
    const char *header = test_header(p, "ES384", KID);
    const char *extras[] = {
        "\"exp\":4102444800,",                        /* exp twice: 2100 and valid */
        "\"iss\":\"https://evil.example.com/oidc\",", /* iss twice */
        "\"sub\":\"admin\",",                         /* sub twice */
        "\"scope\":\"admin\",",                       /* scope twice */
        "\"aud\":\"https://other.example.com\",",     /* aud twice */
        "\"ex\\u0070\":4102444800,",                  /* exp, escaped */
        "\"organization_id\":\"o1\",\"organization_id\":\"o2\",",
    };
    size_t i;

    for (i = 0; i < sizeof(extras) / sizeof(extras[0]); i++) {
        test_expect_refused(p, issuer_jwks(p), token_of(p, header, test_payload(p, extras[i])),
                            LOGTO_MALFORMED);
    }
}

/* Duplicates inside nested objects are refused too (custom claims). */
static void duplicate_in_nested_object(void **state)
{
    apr_pool_t *p = *state;

    test_expect_refused(p, issuer_jwks(p),
                        token_of(p, test_header(p, "ES384", KID),
                                 test_payload(p, "\"act\":{\"sub\":\"a\",\"sub\":\"b\"},")),
                        LOGTO_MALFORMED);
}

static void without_duplicates_passes(void **state)
{
    apr_pool_t *p = *state;
    logto_claims_t *claims;
    logto_result_t res;

    assert_int_equal(test_validate(p, issuer_jwks(p),
                                   token_of(p, test_header(p, "ES384", KID),
                                            test_payload(p, "\"act\":{\"sub\":\"a\"},")),
                                   &claims, &res),
                     APR_SUCCESS);
}

static const struct CMUnitTest tests[] = {
    unit_test(duplicate_alg_in_header),
    unit_test(duplicate_claims_in_payload),
    unit_test(duplicate_in_nested_object),
    unit_test(without_duplicates_passes),
};

LOGTO_TEST_GROUP(attack_duplicate_members, tests);
