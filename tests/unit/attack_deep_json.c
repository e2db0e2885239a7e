/* Gap closed: stack exhaustion through nesting. A recursive JSON parser fed
 * 10,000 nested arrays or objects recurses 10,000 deep: a crash of the httpd
 * child for the price of one request, or of every child through the key set.
 * Deep nesting is refused before any recursion, in the header, in the
 * payload and in a JWK Set, and the process survives to say so. (Within the
 * 16 KiB token bound 10,000 levels of arrays fit only unclosed, objects only
 * 2,000 to 2,800 deep; the key set takes the full 10,000 closed.) */
#include <string.h>

#include <apr_strings.h>

#include "test_keys.h"
#include "unit.h"

#define DEPTH 10000
#define KID   "issuer"

static const char *issuer_jwks(apr_pool_t *p)
{
    return test_jwks_json(p, test_jwk(p, TEST_KEY_P256, KID, "ES256"), NULL);
}

/* open repeated n times, then close repeated n times (close may be ""). */
static char *nest(apr_pool_t *p, const char *open, const char *inner, const char *close, int n)
{
    apr_size_t lo = strlen(open), lc = strlen(close), li = strlen(inner);
    char *out = apr_palloc(p, (lo + lc) * (apr_size_t)n + li + 1), *at = out;
    int i;

    for (i = 0; i < n; i++, at += lo) {
        memcpy(at, open, lo);
    }
    memcpy(at, inner, li);
    at += li;
    for (i = 0; i < n; i++, at += lc) {
        memcpy(at, close, lc);
    }
    *at = '\0';
    return out;
}

static const char *signed_token(apr_pool_t *p, const char *header, const char *payload)
{
    return test_sign(p, TEST_KEY_P256, "ES256", header, payload);
}

static const char *deep_header(apr_pool_t *p, const char *value)
{
    return apr_pstrcat(p, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"" KID "\",\"x\":", value,
                       "}", NULL);
}

static void deep_arrays_in_header(void **state)
{
    apr_pool_t *p = *state;
    const char *payload = test_payload(p, NULL);

    test_expect_refused(p, issuer_jwks(p),
                        signed_token(p, deep_header(p, nest(p, "[", "", "", DEPTH)), payload),
                        LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p),
                        signed_token(p, deep_header(p, nest(p, "[", "1", "]", 5000)), payload),
                        LOGTO_MALFORMED);
}

static void deep_objects_in_header(void **state)
{
    apr_pool_t *p = *state;
    const char *payload = test_payload(p, NULL);

    test_expect_refused(p, issuer_jwks(p),
                        signed_token(p, deep_header(p, nest(p, "{\"\":", "1", "}", 2000)), payload),
                        LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p),
                        signed_token(p, deep_header(p, nest(p, "{\"\":", "", "", 2800)), payload),
                        LOGTO_MALFORMED);
}

static void deep_nesting_in_payload(void **state)
{
    apr_pool_t *p = *state;
    const char *header = test_header(p, "ES256", KID);

    test_expect_refused(
        p, issuer_jwks(p),
        signed_token(p, header,
                     test_payload(p, apr_pstrcat(p, "\"x\":", nest(p, "[", "", "", DEPTH), NULL))),
        LOGTO_MALFORMED);
    test_expect_refused(
        p, issuer_jwks(p),
        signed_token(
            p, header,
            test_payload(p, apr_pstrcat(p, "\"x\":", nest(p, "[", "0", "]", 5000), ",", NULL))),
        LOGTO_MALFORMED);
    test_expect_refused(
        p, issuer_jwks(p),
        signed_token(p, header,
                     test_payload(p, apr_pstrcat(p, "\"x\":", nest(p, "{\"\":", "0", "}", 2000),
                                                 ",", NULL))),
        LOGTO_MALFORMED);
    /* a whole payload that is only nesting */
    test_expect_refused(p, issuer_jwks(p), signed_token(p, header, nest(p, "[", "", "", DEPTH)),
                        LOGTO_MALFORMED);
}

/* Closed 10,000-deep nesting does not fit a token at all. */
static void deep_closed_nesting_too_large(void **state)
{
    apr_pool_t *p = *state;
    const char *header = test_header(p, "ES256", KID);

    test_expect_refused(
        p, issuer_jwks(p),
        signed_token(
            p, header,
            test_payload(p, apr_pstrcat(p, "\"x\":", nest(p, "[", "", "]", DEPTH), ",", NULL))),
        LOGTO_TOKEN_TOO_LARGE);
    test_expect_refused(
        p, issuer_jwks(p),
        signed_token(p, header,
                     test_payload(p, apr_pstrcat(p, "\"x\":", nest(p, "{\"a\":", "0", "}", DEPTH),
                                                 ",", NULL))),
        LOGTO_TOKEN_TOO_LARGE);
}

static void deep_nesting_in_key_set(void **state)
{
    apr_pool_t *p = *state;
    const char *good = test_jwk(p, TEST_KEY_P256, KID, "ES256");
    const char *docs[] = {
        apr_pstrcat(p, "{\"keys\":[", good, ",", nest(p, "[", "", "]", DEPTH), "]}", NULL),
        apr_pstrcat(p, "{\"keys\":[", good, ",", nest(p, "{\"a\":", "0", "}", DEPTH), "]}", NULL),
        apr_pstrcat(p, "{\"keys\":[", good, "],\"x\":", nest(p, "{\"a\":", "0", "}", DEPTH), "}",
                    NULL),
        apr_pstrcat(p, "{\"keys\":[", good, ",", nest(p, "[", "", "", DEPTH), NULL),
        nest(p, "{\"keys\":", "[]", "}", DEPTH),
    };
    size_t i;

    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        logto_jwks_t *set = NULL;
        const char *why = NULL;

        assert_int_not_equal(logto_jwks_parse(p, docs[i], strlen(docs[i]), &set, &why),
                             APR_SUCCESS);
        assert_non_null(why);
    }
    {
        logto_jwk_t *key = NULL;
        const char *why = NULL;
        const char *jwk =
            apr_pstrcat(p, "{\"kty\":\"EC\",\"x5c\":", nest(p, "[", "", "]", DEPTH), "}", NULL);

        assert_int_not_equal(logto_jwk_parse(p, jwk, strlen(jwk), &key, &why), APR_SUCCESS);
    }
}

/* Moderate nesting (Custom JWT claims) is fine. */
static void shallow_nesting_passes(void **state)
{
    apr_pool_t *p = *state;
    logto_claims_t *claims;
    logto_result_t res;
    const char *payload = test_payload(
        p, "\"roles\":[[\"a\"]],\"ctx\":{\"tenant\":{\"plan\":{\"tier\":[1,2,{\"x\":null}]}}},");

    assert_int_equal(test_validate(p, issuer_jwks(p),
                                   signed_token(p, test_header(p, "ES256", KID), payload), &claims,
                                   &res),
                     APR_SUCCESS);
}

static const struct CMUnitTest tests[] = {
    unit_test(deep_arrays_in_header),   unit_test(deep_objects_in_header),
    unit_test(deep_nesting_in_payload), unit_test(deep_closed_nesting_too_large),
    unit_test(deep_nesting_in_key_set), unit_test(shallow_nesting_passes),
};

LOGTO_TEST_GROUP(attack_deep_json, tests);
