/* JWK and JWK Set parsing (RFC 7517, RFC 7518 section 6, RFC 8037), key
 * lookup, and the RFC 7638 thumbprint Logto uses as kid. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "logto_b64.h"
#include "logto_jwk.h"
#include "test_keys.h"
#include "unit.h"

/* RFC 7515 appendix A.2 (RSA), A.3 (P-256), A.4 (P-521), RFC 8037 A.2
 * (Ed25519): the public members only. */
#define RFC7515_RSA_N                                                                              \
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0"    \
    "Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5"  \
    "z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7a"  \
    "GhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
#define JWK_RSA           "{\"kty\":\"RSA\",\"n\":\"" RFC7515_RSA_N "\",\"e\":\"AQAB\"}"
#define P256_X            "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define P256_Y            "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define JWK_P256_XY(x, y) "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" x "\",\"y\":\"" y "\"}"
#define JWK_P256          JWK_P256_XY(P256_X, P256_Y)
#define JWK_P521                                                                                   \
    "{\"kty\":\"EC\",\"crv\":\"P-521\","                                                           \
    "\"x\":\"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceq" \
    "wQGk\","                                                                                      \
    "\"y\":\"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3k" \
    "yMj2\"}"
#define JWK_ED25519                                                                                \
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}"

/* RFC 7638 section 3.1: the example key and its SHA-256 thumbprint. */
#define RFC7638_N                                                                                  \
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJEC"  \
    "PebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Qvz"  \
    "qY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZ"  \
    "u0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
#define RFC7638_THUMBPRINT "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

static logto_jwk_t *parse_ok(apr_pool_t *p, const char *json)
{
    logto_jwk_t *key = NULL;
    const char *why = NULL;

    if (logto_jwk_parse(p, json, strlen(json), &key, &why) != APR_SUCCESS) {
        fail_msg("JWK refused (%s): %s", why ? why : "?", json);
    }
    assert_non_null(key);
    assert_non_null(key->pkey);
    return key;
}

static void parse_refused(apr_pool_t *p, const char *json)
{
    logto_jwk_t *key = NULL;
    const char *why = NULL;

    if (logto_jwk_parse(p, json, strlen(json), &key, &why) == APR_SUCCESS) {
        fail_msg("JWK accepted but must be refused: %s", json);
    }
    assert_non_null(why);
}

/* A base64url coordinate of len bytes made from the first bytes of b64. */
static const char *resized(apr_pool_t *p, const char *b64, apr_size_t len, int prepend_zero)
{
    unsigned char *raw, buf[80];
    apr_size_t raw_len;

    assert_int_equal(logto_b64url_decode(p, b64, strlen(b64), 200, &raw, &raw_len), APR_SUCCESS);
    if (prepend_zero) {
        buf[0] = 0;
        memcpy(buf + 1, raw, raw_len);
        return logto_b64url_encode(p, buf, raw_len + 1);
    }
    return logto_b64url_encode(p, raw, len);
}

static void rsa_key(void **state)
{
    logto_jwk_t *key = parse_ok(*state, JWK_RSA);

    assert_int_equal(key->kty, LOGTO_KTY_RSA);
    assert_int_equal(key->crv, LOGTO_CRV_NONE);
    assert_int_equal(key->alg, LOGTO_ALG_UNKNOWN);
    assert_int_equal(key->bits, 2048);
    assert_null(key->kid);
    assert_int_equal(EVP_PKEY_get_bits(key->pkey), 2048);
}

static void ec_keys_of_each_curve(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t olen;
    const unsigned char *order = test_ec_order(TEST_KEY_P256, &olen);
    logto_jwk_t *key = parse_ok(p, JWK_P256);

    assert_int_equal(key->kty, LOGTO_KTY_EC);
    assert_int_equal(key->crv, LOGTO_CRV_P256);
    assert_int_equal(key->coord_len, 32);
    assert_memory_equal(key->order, order, olen);

    key = parse_ok(p, test_jwk(p, TEST_KEY_P384, "k384", "ES384"));
    order = test_ec_order(TEST_KEY_P384, &olen);
    assert_int_equal(key->crv, LOGTO_CRV_P384);
    assert_int_equal(key->coord_len, 48);
    assert_int_equal(key->alg, LOGTO_ALG_ES384);
    assert_string_equal(key->kid, "k384");
    assert_memory_equal(key->order, order, olen);

    key = parse_ok(p, JWK_P521);
    assert_int_equal(key->crv, LOGTO_CRV_P521);
    assert_int_equal(key->coord_len, 66);
    assert_int_equal(key->bits, 521);
    /* the P-521 order starts with 0x01 0xff */
    assert_int_equal(key->order[0], 0x01);
    assert_int_equal(key->order[1], 0xff);
}

static void okp_ed25519_key(void **state)
{
    logto_jwk_t *key = parse_ok(*state, JWK_ED25519);

    assert_int_equal(key->kty, LOGTO_KTY_OKP);
    assert_int_equal(key->crv, LOGTO_CRV_ED25519);
    assert_true(EVP_PKEY_is_a(key->pkey, "ED25519"));
}

static void rsa_shorter_than_2048_refused(void **state)
{
    apr_pool_t *p = *state;

    parse_refused(p, test_jwk(p, TEST_KEY_RSA1024, "short", NULL));
    parse_refused(p, test_jwk(p, TEST_KEY_RSA1024, "short", "RS256"));
    /* e must be a usable exponent */
    parse_refused(p, "{\"kty\":\"RSA\",\"n\":\"" RFC7515_RSA_N "\",\"e\":\"AQ\"}");
    parse_refused(p, "{\"kty\":\"RSA\",\"n\":\"" RFC7515_RSA_N "\",\"e\":\"\"}");
    parse_refused(p, "{\"kty\":\"RSA\",\"n\":\"" RFC7515_RSA_N "\"}");
    parse_refused(p, "{\"kty\":\"RSA\",\"e\":\"AQAB\"}");
}

/* A point that is not on the curve must never become a key (invalid-curve
 * attacks); the last character of y is changed in its data bits. */
static void ec_point_not_on_curve_refused(void **state)
{
    apr_pool_t *p = *state;

    parse_ok(p, JWK_P256);
    parse_refused(p, JWK_P256_XY(P256_X, "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a4"));
    parse_refused(p, JWK_P256_XY("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    /* x and y swapped */
    parse_refused(p, JWK_P256_XY(P256_Y, P256_X));
}

/* RFC 7518 section 6.2.1.2: coordinates are the full field size. */
static void ec_wrong_coordinate_length_refused(void **state)
{
    apr_pool_t *p = *state;
    const char *x31 = resized(p, P256_X, 31, 0), *x33 = resized(p, P256_X, 0, 1);

    parse_refused(p, apr_psprintf(p, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
                                  x31, P256_Y));
    parse_refused(p, apr_psprintf(p, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
                                  x33, P256_Y));
    /* P-256 coordinates under a P-384 or P-521 name */
    parse_refused(p,
                  "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y "\"}");
    parse_refused(p,
                  "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y "\"}");
    parse_refused(p, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" P256_X "\"}");
    /* Ed25519 x of 31 bytes */
    parse_refused(p,
                  apr_psprintf(p, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}",
                               resized(p, "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", 31, 0)));
}

static void unknown_kty_and_crv_refused(void **state)
{
    apr_pool_t *p = *state;

    parse_refused(p, "{\"kty\":\"oct\",\"alg\":\"HS256\"}");
    parse_refused(p, "{\"kty\":\"foo\",\"n\":\"" RFC7515_RSA_N "\",\"e\":\"AQAB\"}");
    parse_refused(p, "{\"kty\":\"rsa\",\"n\":\"" RFC7515_RSA_N "\",\"e\":\"AQAB\"}");
    parse_refused(p, "{\"n\":\"" RFC7515_RSA_N "\",\"e\":\"AQAB\"}");
    parse_refused(p, "{\"kty\":1,\"n\":\"" RFC7515_RSA_N "\",\"e\":\"AQAB\"}");
    parse_refused(p,
                  "{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y "\"}");
    parse_refused(p, "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y
                     "\"}");
    parse_refused(p, "{\"kty\":\"EC\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y "\"}");
    parse_refused(p, "{\"kty\":\"OKP\",\"crv\":\"X25519\","
                     "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}");
    parse_refused(p, "{\"kty\":\"OKP\",\"crv\":\"Ed448\","
                     "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}");
}

/* A key's own alg must be one we verify and must fit its kty and curve. */
static void jwk_alg_checked(void **state)
{
    apr_pool_t *p = *state;

    assert_int_equal(parse_ok(p, test_jwk(p, TEST_KEY_P256, "a", "ES256"))->alg, LOGTO_ALG_ES256);
    assert_int_equal(parse_ok(p, test_jwk(p, TEST_KEY_RSA2048, "a", "PS384"))->alg,
                     LOGTO_ALG_PS384);
    parse_refused(p, test_jwk(p, TEST_KEY_P256, "a", "ES384"));
    parse_refused(p, test_jwk(p, TEST_KEY_P256, "a", "RS256"));
    parse_refused(p, test_jwk(p, TEST_KEY_RSA2048, "a", "ES256"));
    parse_refused(p, test_jwk(p, TEST_KEY_RSA2048, "a", "HS256"));
    parse_refused(p, test_jwk(p, TEST_KEY_ED25519, "a", "none"));
}

/* Published private keys are never trusted (the set has leaked them). */
static void private_members_refused(void **state)
{
    apr_pool_t *p = *state;

    parse_refused(p, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y
                     "\",\"d\":\"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI\"}");
    parse_refused(p, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                     "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\","
                     "\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\"}");
}

static void jwks_skips_non_signing_keys(void **state)
{
    apr_pool_t *p = *state;
    logto_jwks_t *set = test_jwks(
        p, test_jwks_json(p,
                          "{\"kty\":\"EC\",\"use\":\"enc\",\"kid\":\"enc\",\"crv\":\"P-256\","
                          "\"x\":\"" P256_X "\",\"y\":\"" P256_Y "\"}",
                          "{\"kty\":\"EC\",\"key_ops\":[\"encrypt\"],\"kid\":\"ops\","
                          "\"crv\":\"P-256\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y "\"}",
                          "{\"kty\":\"EC\",\"key_ops\":[\"verify\"],\"kid\":\"ver\","
                          "\"crv\":\"P-256\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y "\"}",
                          test_jwk(p, TEST_KEY_P384, "sig", "ES384"), NULL));

    assert_int_equal(set->keys->nelts, 2);
    assert_int_equal(set->skipped, 2);
    assert_false(logto_jwks_has_kid(set, "enc"));
    assert_false(logto_jwks_has_kid(set, "ops"));
    assert_true(logto_jwks_has_kid(set, "ver"));
    assert_true(logto_jwks_has_kid(set, "sig"));
    assert_null(logto_jwks_find(set, "enc", LOGTO_ALG_ES256));
}

/* One bad member must not cost the good ones (a partly broken JWKS still
 * serves the keys it has). */
static void jwks_keeps_good_members_among_junk(void **state)
{
    apr_pool_t *p = *state;
    logto_jwks_t *set = test_jwks(
        p, test_jwks_json(p, "42", "\"key\"", "null", "[]", "{}", "{\"kty\":\"RSA\"}",
                          "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"!!\",\"y\":\"" P256_Y "\"}",
                          "{\"kty\":\"EC\",\"kid\":7,\"crv\":\"P-256\",\"x\":\"" P256_X
                          "\",\"y\":\"" P256_Y "\"}",
                          test_jwk(p, TEST_KEY_RSA1024, "short", NULL),
                          "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}",
                          test_jwk(p, TEST_KEY_P384, "good", "ES384"), JWK_ED25519, NULL));

    assert_int_equal(set->keys->nelts, 2);
    assert_int_equal(set->skipped, 10);
    assert_non_null(logto_jwks_find(set, "good", LOGTO_ALG_ES384));
    assert_non_null(logto_jwks_find(set, NULL, LOGTO_ALG_EDDSA));
    assert_false(logto_jwks_has_kid(set, "short"));
}

static void jwks_refused(apr_pool_t *p, const char *json)
{
    logto_jwks_t *set = NULL;
    const char *why = NULL;

    if (logto_jwks_parse(p, json, strlen(json), &set, &why) == APR_SUCCESS) {
        fail_msg("key set accepted but must be refused: %s", json);
    }
    assert_non_null(why);
}

/* Such a set must never replace a good one: parsing it fails. */
static void jwks_without_usable_key_fails(void **state)
{
    apr_pool_t *p = *state;

    jwks_refused(p, "{\"keys\":[]}");
    jwks_refused(p, test_jwks_json(p, "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}",
                                   test_jwk(p, TEST_KEY_RSA1024, NULL, NULL), "1", NULL));
    jwks_refused(p, "{\"keys\":{}}");
    jwks_refused(p, "{\"keys\":\"" JWK_RSA "\"}");
    jwks_refused(p, "{\"key\":[" JWK_RSA "]}");
    jwks_refused(p, "[" JWK_RSA "]");
    jwks_refused(p, JWK_RSA);
    jwks_refused(p, "{\"keys\":[" JWK_RSA "]");
    jwks_refused(p, "");
    jwks_refused(p, "{\"keys\":[" JWK_RSA "],\"keys\":[" JWK_P256 "]}");
}

static void jwks_bounded(void **state)
{
    apr_pool_t *p = *state;
    const char *jwk = test_jwk(p, TEST_KEY_P256, NULL, NULL);
    char *big, *json = apr_pstrcat(p, "{\"keys\":[", NULL);
    logto_jwks_t *set;
    const char *why = NULL;
    int i;

    for (i = 0; i < LOGTO_JWKS_MAX_KEYS + 6; i++) {
        const char *one = apr_psprintf(p, "%.*s,\"kid\":\"k%d\"}", (int)strlen(jwk) - 1, jwk, i);

        json = apr_pstrcat(p, json, i ? "," : "", one, NULL);
    }
    json = apr_pstrcat(p, json, "]}", NULL);
    set = test_jwks(p, json);
    assert_int_equal(set->keys->nelts, LOGTO_JWKS_MAX_KEYS);
    assert_int_equal(set->skipped, 6);

    /* a valid document one byte over the size bound is refused */
    big = apr_palloc(p, LOGTO_JWKS_MAX_BYTES + 2);
    strcpy(big, "{\"keys\":[" JWK_P256 "],\"pad\":\"");
    i = (int)strlen(big);
    memset(big + i, 'x', LOGTO_JWKS_MAX_BYTES + 1 - (apr_size_t)i - 2);
    strcpy(big + LOGTO_JWKS_MAX_BYTES + 1 - 2, "\"}");
    assert_int_equal(strlen(big), LOGTO_JWKS_MAX_BYTES + 1);
    assert_int_not_equal(logto_jwks_parse(p, big, strlen(big), &set, &why), APR_SUCCESS);
    /* the same document within the bound is fine */
    big[LOGTO_JWKS_MAX_BYTES - 2] = '"';
    big[LOGTO_JWKS_MAX_BYTES - 1] = '}';
    assert_int_equal(logto_jwks_parse(p, big, LOGTO_JWKS_MAX_BYTES, &set, &why), APR_SUCCESS);
}

/* RFC 7517 section 4.5 allows one kid on keys of different types; two keys
 * of the same type and kid are ambiguous: the first (Logto's Current) wins. */
static void duplicate_kid(void **state)
{
    apr_pool_t *p = *state;
    logto_jwks_t *set =
        test_jwks(p, test_jwks_json(p, test_jwk(p, TEST_KEY_P256, "dup", NULL),
                                    test_jwk(p, TEST_KEY_P256_B, "dup", NULL), NULL));
    const logto_jwk_t *first = APR_ARRAY_IDX(set->keys, 0, const logto_jwk_t *);

    assert_int_equal(set->keys->nelts, 1);
    assert_int_equal(set->skipped, 1);
    assert_true(logto_jwks_find(set, "dup", LOGTO_ALG_ES256) == first);
    assert_int_equal(EVP_PKEY_eq(first->pkey, test_key(TEST_KEY_P256)), 1);

    set = test_jwks(p, test_jwks_json(p, test_jwk(p, TEST_KEY_RSA2048, "same", NULL),
                                      test_jwk(p, TEST_KEY_P256, "same", NULL), NULL));
    assert_int_equal(set->keys->nelts, 2);
    assert_int_equal(logto_jwks_find(set, "same", LOGTO_ALG_RS256)->kty, LOGTO_KTY_RSA);
    assert_int_equal(logto_jwks_find(set, "same", LOGTO_ALG_ES256)->kty, LOGTO_KTY_EC);
    assert_null(logto_jwks_find(set, "same", LOGTO_ALG_ES384));
}

static void find_by_kid(void **state)
{
    apr_pool_t *p = *state;
    logto_jwks_t *set =
        test_jwks(p, test_jwks_json(p, test_jwk(p, TEST_KEY_RSA2048, "current", NULL),
                                    test_jwk(p, TEST_KEY_P384, "next", "ES384"),
                                    test_jwk(p, TEST_KEY_P384_B, "previous", "ES384"), NULL));
    const logto_jwk_t *key = logto_jwks_find(set, "previous", LOGTO_ALG_ES384);

    assert_non_null(key);
    assert_string_equal(key->kid, "previous");
    assert_int_equal(EVP_PKEY_eq(key->pkey, test_key(TEST_KEY_P384_B)), 1);
    assert_string_equal(logto_jwks_find(set, "current", LOGTO_ALG_PS256)->kid, "current");
    /* a known kid with an algorithm its key cannot do */
    assert_null(logto_jwks_find(set, "current", LOGTO_ALG_ES384));
    assert_null(logto_jwks_find(set, "next", LOGTO_ALG_ES256));
    assert_null(logto_jwks_find(set, "next", LOGTO_ALG_UNKNOWN));
    /* an unknown kid never falls back to some key, even the only RSA one */
    assert_null(logto_jwks_find(set, "other", LOGTO_ALG_RS256));
    assert_null(logto_jwks_find(set, "", LOGTO_ALG_RS256));
    assert_null(logto_jwks_find(set, "Current", LOGTO_ALG_RS256));
    assert_true(logto_jwks_has_kid(set, "next"));
    assert_false(logto_jwks_has_kid(set, "nex"));
    assert_false(logto_jwks_has_kid(set, NULL));
}

/* Without a kid only the single key of the algorithm's type may be tried. */
static void find_without_kid(void **state)
{
    apr_pool_t *p = *state;
    logto_jwks_t *set =
        test_jwks(p, test_jwks_json(p, test_jwk(p, TEST_KEY_RSA2048, "r", NULL),
                                    test_jwk(p, TEST_KEY_P256, "e256", NULL),
                                    test_jwk(p, TEST_KEY_P384, "e384", NULL), NULL));

    assert_string_equal(logto_jwks_find(set, NULL, LOGTO_ALG_RS256)->kid, "r");
    assert_string_equal(logto_jwks_find(set, NULL, LOGTO_ALG_ES256)->kid, "e256");
    assert_string_equal(logto_jwks_find(set, NULL, LOGTO_ALG_ES384)->kid, "e384");
    assert_null(logto_jwks_find(set, NULL, LOGTO_ALG_ES512));
    assert_null(logto_jwks_find(set, NULL, LOGTO_ALG_EDDSA));

    /* two RSA keys: ambiguous, so none */
    set = test_jwks(p, test_jwks_json(p, test_jwk(p, TEST_KEY_RSA2048, "r1", NULL),
                                      test_jwk(p, TEST_KEY_RSA2048_B, "r2", NULL), NULL));
    assert_null(logto_jwks_find(set, NULL, LOGTO_ALG_RS256));
    assert_non_null(logto_jwks_find(set, "r2", LOGTO_ALG_RS256));

    /* the single key of the type must still fit the algorithm (its own alg) */
    set = test_jwks(p, test_jwks_json(p, test_jwk(p, TEST_KEY_RSA2048, NULL, "RS256"), NULL));
    assert_non_null(logto_jwks_find(set, NULL, LOGTO_ALG_RS256));
    assert_null(logto_jwks_find(set, NULL, LOGTO_ALG_PS256));
}

static void fits_alg(void **state)
{
    apr_pool_t *p = *state;
    logto_jwk_t *rsa = parse_ok(p, JWK_RSA);
    logto_jwk_t *rs256 = parse_ok(p, test_jwk(p, TEST_KEY_RSA2048, NULL, "RS256"));
    logto_jwk_t *p256 = parse_ok(p, JWK_P256);
    logto_jwk_t *ed = parse_ok(p, JWK_ED25519);
    int a;

    for (a = LOGTO_ALG_RS256; a <= LOGTO_ALG_PS512; a++) {
        assert_true(logto_jwk_fits_alg(rsa, (logto_alg_e)a));
        assert_int_equal(logto_jwk_fits_alg(rs256, (logto_alg_e)a), a == LOGTO_ALG_RS256);
    }
    for (a = LOGTO_ALG_UNKNOWN; a < LOGTO_ALG_COUNT; a++) {
        assert_int_equal(logto_jwk_fits_alg(p256, (logto_alg_e)a), a == LOGTO_ALG_ES256);
        assert_int_equal(logto_jwk_fits_alg(ed, (logto_alg_e)a), a == LOGTO_ALG_EDDSA);
        if (a >= LOGTO_ALG_ES256 || a == LOGTO_ALG_UNKNOWN) {
            assert_false(logto_jwk_fits_alg(rsa, (logto_alg_e)a));
        }
    }
}

static const char *thumbprint(apr_pool_t *p, const char *json)
{
    const char *tp = NULL;

    assert_int_equal(logto_jwk_thumbprint(p, json, strlen(json), &tp), APR_SUCCESS);
    assert_non_null(tp);
    return tp;
}

/* RFC 7638 section 3.1's example value; optional members do not count. */
static void thumbprint_rfc7638(void **state)
{
    apr_pool_t *p = *state;
    const char *tp = NULL;

    assert_string_equal(thumbprint(p, "{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\"}"),
                        RFC7638_THUMBPRINT);
    assert_string_equal(thumbprint(p, "{\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\","
                                      "\"n\":\"" RFC7638_N "\",\"kty\":\"RSA\"}"),
                        RFC7638_THUMBPRINT);
    assert_string_not_equal(thumbprint(p, JWK_RSA), RFC7638_THUMBPRINT);
    assert_int_not_equal(logto_jwk_thumbprint(p, "{\"kty\":\"RSA\",\"e\":\"AQAB\"}",
                                              strlen("{\"kty\":\"RSA\",\"e\":\"AQAB\"}"), &tp),
                         APR_SUCCESS);
    assert_int_not_equal(logto_jwk_thumbprint(p, "{\"kty\":\"oct\",\"k\":\"AA\"}",
                                              strlen("{\"kty\":\"oct\",\"k\":\"AA\"}"), &tp),
                         APR_SUCCESS);
}

/* The kids generate.py computed (in Python) for the Logto-shaped vectors
 * are their keys' thumbprints here too: EC, RSA and OKP. */
static void thumbprint_matches_logto_kids(void **state)
{
    apr_pool_t *p = *state;
    const char *vectors[] = {"logto-es384-model1-user", "logto-rs256-4096", "logto-eddsa",
                             "logto-es512"};
    size_t i;

    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        apr_size_t len;
        char *doc = unit_read_file(p, unit_vector_path(p, vectors[i], "jwks.json"), &len);
        json_t *jwks = json_loadb(doc, len, 0, NULL);
        json_t *jwk = json_array_get(json_object_get(jwks, "keys"), 0);
        char *text = json_dumps(jwk, JSON_COMPACT);
        const char *kid = apr_pstrdup(p, json_string_value(json_object_get(jwk, "kid")));

        assert_non_null(text);
        assert_string_equal(thumbprint(p, text), kid);
        free(text);
        json_decref(jwks);
    }
}

static const struct CMUnitTest tests[] = {
    unit_test(rsa_key),
    unit_test(ec_keys_of_each_curve),
    unit_test(okp_ed25519_key),
    unit_test(rsa_shorter_than_2048_refused),
    unit_test(ec_point_not_on_curve_refused),
    unit_test(ec_wrong_coordinate_length_refused),
    unit_test(unknown_kty_and_crv_refused),
    unit_test(jwk_alg_checked),
    unit_test(private_members_refused),
    unit_test(jwks_skips_non_signing_keys),
    unit_test(jwks_keeps_good_members_among_junk),
    unit_test(jwks_without_usable_key_fails),
    unit_test(jwks_bounded),
    unit_test(duplicate_kid),
    unit_test(find_by_kid),
    unit_test(find_without_kid),
    unit_test(fits_alg),
    unit_test(thumbprint_rfc7638),
    unit_test(thumbprint_matches_logto_kids),
};

LOGTO_TEST_GROUP(jwk, tests);
