/* Gap closed: base64 leniency. JWS parts are unpadded base64url (RFC 7515
 * section 2). A decoder that also takes '=' padding, the '+' and '/' of
 * standard base64, whitespace, non-zero unused bits or a length of 1 mod 4
 * gives one signed token many spellings (so a cache or a revocation list
 * keyed on the token text is bypassed) and hides smuggled bytes from
 * anything that compares texts. Each spelling below decodes, leniently, to
 * the bytes of a valid token; each must be malformed. */
#include <string.h>

#include <apr_strings.h>

#include "test_keys.h"
#include "unit.h"

#define KID "issuer"

static const char *issuer_jwks(apr_pool_t *p)
{
    return test_jwks_json(p, test_jwk(p, TEST_KEY_P256, KID, "ES256"), NULL);
}

/* A valid ES256 token (86-character signature: 4 unused bits) whose
 * signature part holds the character c. ECDSA signatures are random, so a
 * few signings find one. */
static const char *token_with_char(apr_pool_t *p, char c)
{
    int i;

    for (i = 0; i < 500; i++) {
        const char *token = test_sign(p, TEST_KEY_P256, "ES256", test_header(p, "ES256", KID),
                                      test_payload(p, NULL));

        if (!c || strchr(strrchr(token, '.'), c)) {
            return token;
        }
    }
    fail_msg("no signature with '%c' in 500 tries", c);
    return NULL;
}

static char *replace_first(apr_pool_t *p, const char *token, char from, char to)
{
    char *copy = apr_pstrdup(p, token);
    char *at = strchr(strrchr(copy, '.'), from);

    assert_non_null(at);
    *at = to;
    return copy;
}

static void valid_token_passes(void **state)
{
    apr_pool_t *p = *state;
    logto_claims_t *claims;
    logto_result_t res;
    const char *token = token_with_char(p, 0);

    assert_int_equal(strlen(strrchr(token, '.') + 1), 86);
    assert_int_equal(test_validate(p, issuer_jwks(p), token, &claims, &res), APR_SUCCESS);
}

static void padding(void **state)
{
    apr_pool_t *p = *state;
    const char *token = token_with_char(p, 0);
    const char *dot1 = strchr(token, '.');
    const char *header = apr_pstrmemdup(p, token, (apr_size_t)(dot1 - token));

    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, token, "==", NULL), LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, token, "=", NULL), LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, header, "=", dot1, NULL),
                        LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, header, "==", dot1, NULL),
                        LOGTO_MALFORMED);
}

/* The standard alphabet's '+' and '/' for base64url's '-' and '_': the same
 * bytes to a lenient decoder, so the signature would still verify. */
static void standard_alphabet(void **state)
{
    apr_pool_t *p = *state;

    test_expect_refused(p, issuer_jwks(p), replace_first(p, token_with_char(p, '-'), '-', '+'),
                        LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), replace_first(p, token_with_char(p, '_'), '_', '/'),
                        LOGTO_MALFORMED);
}

static void whitespace(void **state)
{
    apr_pool_t *p = *state;
    const char *token = token_with_char(p, 0);
    const char *dot1 = strchr(token, '.');
    const char *head = apr_pstrmemdup(p, token, (apr_size_t)(dot1 - token));
    const char *mid = apr_pstrmemdup(p, token, 10);

    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, token, "\n", NULL), LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, token, " ", NULL), LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, " ", token, NULL), LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, head, ".\t", dot1 + 1, NULL),
                        LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, mid, "\r\n", token + 10, NULL),
                        LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p), apr_pstrcat(p, mid, " ", token + 10, NULL),
                        LOGTO_MALFORMED);
}

/* The value of a base64url character, and the character of a value. */
static int b64_value(char c)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *at = strchr(alphabet, c);

    assert_non_null(at);
    return (int)(at - alphabet);
}

static char b64_char(int v)
{
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[v];
}

/* 64 bytes take 86 characters: the last one carries 4 unused bits, which a
 * lenient decoder ignores. Setting any of them gives a second spelling. */
static void nonzero_trailing_bits(void **state)
{
    apr_pool_t *p = *state;
    const char *token = token_with_char(p, 0);
    apr_size_t len = strlen(token);
    int v = b64_value(token[len - 1]), bit;

    assert_int_equal(v & 0x0f, 0);
    for (bit = 0; bit < 4; bit++) {
        char *copy = apr_pstrdup(p, token);

        copy[len - 1] = b64_char(v | (1 << bit));
        test_expect_refused(p, issuer_jwks(p), copy, LOGTO_MALFORMED);
    }
}

/* A part of 1 mod 4 characters decodes to nothing whole. */
static void length_one_mod_four(void **state)
{
    apr_pool_t *p = *state;
    const char *token = token_with_char(p, 0);
    const char *dot1 = strchr(token, '.');
    const char *dot2 = strrchr(token, '.');
    apr_size_t hlen = (apr_size_t)(dot1 - token), plen = (apr_size_t)(dot2 - dot1 - 1);
    const char *header = apr_pstrmemdup(p, token, hlen);
    const char *payload = apr_pstrmemdup(p, dot1 + 1, plen);
    const char *pad[] = {"", "A", "AA", "AAA"};

    /* signature: 86 characters, one dropped is 85 = 1 mod 4 */
    test_expect_refused(p, issuer_jwks(p), apr_pstrmemdup(p, token, strlen(token) - 1),
                        LOGTO_MALFORMED);
    /* header and payload grown to 1 mod 4 */
    test_expect_refused(p, issuer_jwks(p),
                        apr_pstrcat(p, header, pad[(5 - hlen % 4) % 4], dot1, NULL),
                        LOGTO_MALFORMED);
    test_expect_refused(p, issuer_jwks(p),
                        apr_pstrcat(p, header, ".", payload, pad[(5 - plen % 4) % 4], dot2, NULL),
                        LOGTO_MALFORMED);
}

/* Characters outside any base64 alphabet. */
static void foreign_characters(void **state)
{
    apr_pool_t *p = *state;
    const char *token = token_with_char(p, 0);
    const char *bad = "!*~%\"\\,;:@$&'()[]{}<>?\x7f\xc3";
    size_t i;

    for (i = 0; i < strlen(bad); i++) {
        char *copy = apr_pstrdup(p, token);

        copy[5] = bad[i];
        test_expect_refused(p, issuer_jwks(p), copy, LOGTO_MALFORMED);
    }
    /* an embedded NUL: the token ends there for C, not for the length */
    {
        char *copy = apr_pstrdup(p, token);
        logto_jws_t *jws = NULL;
        logto_result_t res;

        copy[20] = '\0';
        assert_reason(logto_jws_parse(p, copy, strlen(token), 0, &jws, &res), res, LOGTO_MALFORMED);
    }
}

static const struct CMUnitTest tests[] = {
    unit_test(valid_token_passes),    unit_test(padding),
    unit_test(standard_alphabet),     unit_test(whitespace),
    unit_test(nonzero_trailing_bits), unit_test(length_one_mod_four),
    unit_test(foreign_characters),
};

LOGTO_TEST_GROUP(attack_base64_noncanonical, tests);
