/* Gap closed: unbounded input. Without a bound, one request header makes the
 * server decode and parse megabytes (and a JSON parser allocate for every
 * member) before any signature check. Tokens longer than LOGTO_MAX_TOKEN_LEN
 * are refused before anything is decoded; a token of exactly that length is
 * still a token (the bound is not off by one). */
#include <string.h>

#include <apr_strings.h>

#include "test_keys.h"
#include "unit.h"

#define KID "issuer"

static const char *issuer_jwks(apr_pool_t *p)
{
    return test_jwks_json(p, test_jwk(p, TEST_KEY_P256, KID, "ES256"), NULL);
}

/* A valid ES256 token of exactly len characters: a filler claim sized so
 * (the header gets leading spaces when base64 lengths would not meet). */
static const char *token_of_length(apr_pool_t *p, apr_size_t len)
{
    int spaces;

    for (spaces = 0; spaces < 4; spaces++) {
        const char *header = apr_pstrcat(p, apr_pstrndup(p, "    ", (apr_size_t)spaces),
                                         test_header(p, "ES256", KID), NULL);
        apr_size_t hlen = (strlen(header) * 4 + 2) / 3;
        apr_size_t base = strlen(test_payload(p, "\"filler\":\"\","));
        apr_size_t n;

        for (n = 0; n < len; n++) {
            apr_size_t plen = ((base + n) * 4 + 2) / 3;
            apr_size_t total = hlen + 1 + plen + 1 + 86;

            if (total == len) {
                char *fill = apr_palloc(p, n + 1);
                const char *token;

                memset(fill, 'x', n);
                fill[n] = '\0';
                token =
                    test_sign(p, TEST_KEY_P256, "ES256", header,
                              test_payload(p, apr_pstrcat(p, "\"filler\":\"", fill, "\",", NULL)));
                assert_int_equal(strlen(token), len);
                return token;
            }
            if (total > len) {
                break;
            }
        }
    }
    fail_msg("no token of length %lu", (unsigned long)len);
    return NULL;
}

static void one_over_the_limit(void **state)
{
    apr_pool_t *p = *state;
    const char *token = token_of_length(p, LOGTO_MAX_TOKEN_LEN + 1);
    logto_jws_t *jws = NULL;
    logto_result_t res;

    test_expect_refused(p, issuer_jwks(p), token, LOGTO_TOKEN_TOO_LARGE);
    assert_reason(logto_jws_parse(p, token, strlen(token), 0, &jws, &res), res,
                  LOGTO_TOKEN_TOO_LARGE);
}

static void exactly_the_limit(void **state)
{
    apr_pool_t *p = *state;
    const char *token = token_of_length(p, LOGTO_MAX_TOKEN_LEN);
    logto_claims_t *claims = NULL;
    logto_result_t res;

    if (test_validate(p, issuer_jwks(p), token, &claims, &res) != APR_SUCCESS) {
        fail_msg("token of exactly LOGTO_MAX_TOKEN_LEN refused: %s", logto_reason_name(res.reason));
    }
    assert_int_equal(claims->payload_len > 12000, 1);
}

/* Far over the limit, and junk of the limit's size: refused for its size
 * before any other reason (no dots here would otherwise be opaque_token). */
static void far_over_the_limit(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t sizes[] = {LOGTO_MAX_TOKEN_LEN + 1, (apr_size_t)4 * LOGTO_MAX_TOKEN_LEN,
                          (apr_size_t)1024 * 1024};
    size_t i;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char *junk = apr_palloc(p, sizes[i] + 1);

        memset(junk, 'A', sizes[i]);
        junk[sizes[i]] = '\0';
        test_expect_refused(p, issuer_jwks(p), junk, LOGTO_TOKEN_TOO_LARGE);
        junk[100] = '.';
        junk[200] = '.';
        test_expect_refused(p, issuer_jwks(p), junk, LOGTO_TOKEN_TOO_LARGE);
    }
}

static const struct CMUnitTest tests[] = {
    unit_test(one_over_the_limit),
    unit_test(exactly_the_limit),
    unit_test(far_over_the_limit),
};

LOGTO_TEST_GROUP(attack_oversized_token, tests);
