/* Gap closed: "alg":"none" (RFC 7515 section 6 / RFC 8725 section 2.1). An
 * unsecured JWS has no signature at all; a verifier that takes the algorithm
 * from the token accepts any claims anyone writes. We never accept "none",
 * in any spelling, with or without a signature part, whatever the policy. */
#include <string.h>

#include <apr_strings.h>

#include "test_keys.h"
#include "unit.h"

static const char *const spellings[] = {"none", "None", "NONE", "nOnE"};

static const char *issuer_jwks(apr_pool_t *p)
{
    return test_jwks_json(p, test_jwk(p, TEST_KEY_P384, "issuer-key", "ES384"), NULL);
}

static void none_with_empty_signature(void **state)
{
    apr_pool_t *p = *state;
    size_t i;

    for (i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
        const char *header = apr_psprintf(p, "{\"alg\":\"%s\",\"typ\":\"at+jwt\"}", spellings[i]);
        const char *token = apr_pstrcat(p, test_b64s(p, header), ".",
                                        test_b64s(p, test_payload(p, NULL)), ".", NULL);

        test_expect_refused(p, issuer_jwks(p), token, LOGTO_ALG_NOT_ALLOWED);
    }
}

/* Two parts only ("header.payload"): not even a JWS. */
static void none_without_signature_part(void **state)
{
    apr_pool_t *p = *state;
    size_t i;

    for (i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
        const char *header = apr_psprintf(p, "{\"alg\":\"%s\"}", spellings[i]);
        const char *token =
            apr_pstrcat(p, test_b64s(p, header), ".", test_b64s(p, test_payload(p, NULL)), NULL);

        test_expect_refused(p, issuer_jwks(p), token, LOGTO_MALFORMED);
    }
}

/* "none" with a signature part that is a real signature of the issuer's key
 * over the same input: the algorithm is refused before any key is used. */
static void none_with_signature(void **state)
{
    apr_pool_t *p = *state;
    size_t i;

    for (i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
        const char *header = apr_psprintf(
            p, "{\"alg\":\"%s\",\"typ\":\"at+jwt\",\"kid\":\"issuer-key\"}", spellings[i]);
        const char *token = test_sign(p, TEST_KEY_P384, "ES384", header, test_payload(p, NULL));
        logto_jws_t *jws = NULL;
        logto_result_t res;

        test_expect_refused(p, issuer_jwks(p), token, LOGTO_ALG_NOT_ALLOWED);
        /* refused by the parser itself, so no policy can allow it */
        assert_reason(logto_jws_parse(p, token, strlen(token), LOGTO_JWS_PAYLOAD_ANY, &jws, &res),
                      res, LOGTO_ALG_NOT_ALLOWED);
    }
    /* the same token with alg ES384 is good: the refusal is the algorithm's */
    {
        const char *ok = test_sign(p, TEST_KEY_P384, "ES384", test_header(p, "ES384", "issuer-key"),
                                   test_payload(p, NULL));
        logto_claims_t *claims;
        logto_result_t res;

        assert_int_equal(test_validate(p, issuer_jwks(p), ok, &claims, &res), APR_SUCCESS);
        assert_non_null(claims);
    }
}

/* An empty alg, a JSON null alg, and "none" with an empty signature in the
 * claims of an otherwise perfect Logto token. */
static void none_like_values(void **state)
{
    apr_pool_t *p = *state;
    const char *payload = test_b64s(p, test_payload(p, NULL));

    test_expect_refused(
        p, issuer_jwks(p),
        apr_pstrcat(p, test_b64s(p, "{\"alg\":\"\",\"typ\":\"at+jwt\"}"), ".", payload, ".", NULL),
        LOGTO_ALG_NOT_ALLOWED);
    test_expect_refused(
        p, issuer_jwks(p),
        apr_pstrcat(p, test_b64s(p, "{\"alg\":null,\"typ\":\"at+jwt\"}"), ".", payload, ".", NULL),
        LOGTO_MALFORMED);
    test_expect_refused(
        p, issuer_jwks(p),
        apr_pstrcat(p, test_b64s(p, "{\"typ\":\"at+jwt\"}"), ".", payload, ".", NULL),
        LOGTO_MALFORMED);
}

static const struct CMUnitTest tests[] = {
    unit_test(none_with_empty_signature),
    unit_test(none_without_signature_part),
    unit_test(none_with_signature),
    unit_test(none_like_values),
};

LOGTO_TEST_GROUP(attack_alg_none, tests);
