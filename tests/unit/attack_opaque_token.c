/* Gap closed: tokens that are not a JWS at all. Logto hands out an opaque
 * (reference) access token, about 43 base64url characters without dots,
 * when the client asks for no resource (LOGTO.md section 0.11); it can only
 * be introspected, never verified locally. An encrypted JWT (JWE, five
 * parts) cannot be verified either. Both are refused with a reason that
 * says what they are, so the client developer learns what to fix. */
#include <string.h>

#include <apr_strings.h>

#include "test_keys.h"
#include "unit.h"

static const char *issuer_jwks(apr_pool_t *p)
{
    return test_jwks_json(p, test_jwk(p, TEST_KEY_P384, "issuer", "ES384"), NULL);
}

static void logto_opaque_token(void **state)
{
    apr_pool_t *p = *state;
    const char *opaque[] = {
        "r8ZqL2vN5xK9mT4wY7bH3cJ6dF1gP0sA2eU8iO5nQkW", /* 43, Logto's length */
        "Xq0-_Zt8v4L1mN7bR2cK9dF6gH3jP5sA8eU1iO4nQwE", /* with - and _ */
        "abc", "eyJhbGciOiJFUzM4NCJ9",                 /* a lone base64url JSON */
    };
    size_t i;

    assert_int_equal(strlen(opaque[0]), 43);
    for (i = 0; i < sizeof(opaque) / sizeof(opaque[0]); i++) {
        logto_jws_t *jws = NULL;
        logto_result_t res;

        test_expect_refused(p, issuer_jwks(p), opaque[i], LOGTO_OPAQUE_TOKEN);
        assert_reason(logto_jws_parse(p, opaque[i], strlen(opaque[i]), 0, &jws, &res), res,
                      LOGTO_OPAQUE_TOKEN);
        assert_non_null(logto_reason_text(res.reason));
    }
}

static void jwe_five_parts(void **state)
{
    apr_pool_t *p = *state;
    /* RSA-OAEP + A256GCM shape, and "dir" with an empty encrypted key */
    const char *jwe[] = {
        apr_pstrcat(
            p, test_b64s(p, "{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\"}"),
            ".OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGe",
            ".48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6ji",
            ".XFBoMYUZodetZdvTiFvSkQ", NULL),
        apr_pstrcat(p, test_b64s(p, "{\"alg\":\"dir\",\"enc\":\"A128CBC-HS256\"}"),
                    "..AxY8DCtDaGlsbGljb3RoZQ.KDlTtXchhZTGufMYmOYGS4HffxPSUrfmqCHXaI9wOGY",
                    ".9hH0vgRfYgPnAHOd8stkvw", NULL),
    };
    size_t i;

    for (i = 0; i < sizeof(jwe) / sizeof(jwe[0]); i++) {
        logto_jws_t *jws = NULL;
        logto_result_t res;

        test_expect_refused(p, issuer_jwks(p), jwe[i], LOGTO_JWE_TOKEN);
        assert_reason(logto_jws_parse(p, jwe[i], strlen(jwe[i]), 0, &jws, &res), res,
                      LOGTO_JWE_TOKEN);
    }
}

/* What the glue tells the client differs for the three (stable names). */
static void reasons_are_distinct(void **state)
{
    (void)state;
    assert_string_equal(logto_reason_name(LOGTO_OPAQUE_TOKEN), "opaque_token");
    assert_string_equal(logto_reason_name(LOGTO_JWE_TOKEN), "jwe_token");
    assert_string_not_equal(logto_reason_text(LOGTO_OPAQUE_TOKEN),
                            logto_reason_text(LOGTO_MALFORMED));
    assert_string_not_equal(logto_reason_text(LOGTO_JWE_TOKEN), logto_reason_text(LOGTO_MALFORMED));
}

static const struct CMUnitTest tests[] = {
    unit_test(logto_opaque_token),
    unit_test(jwe_five_parts),
    unit_test(reasons_are_distinct),
};

LOGTO_TEST_GROUP(attack_opaque_token, tests);
