/* Gap closed: an Ed25519 public key of small order. A JWK Set member whose
 * "x" encodes a point of the curve's 8-torsion (the identity, the point of
 * order 2, the two of order 4, the four of order 8) lets anyone forge
 * signatures: with A of order h, the signature R = identity, S = 0 passes
 * [S]B = R + [k]A whenever h divides k, that is for every payload when A is
 * the identity and for one payload in h otherwise. OpenSSL 3.0 checks
 * neither the key's order nor that its y is below p (RFC 8032 section
 * 5.1.3), so such keys must be refused when the key set is parsed: the set
 * keeps its other members, and a token naming the weak key's kid is refused.
 * Also refused: y >= p (non-canonical, 19 values, either sign bit) and x = 0
 * encoded with the sign bit set. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/evp.h>

#include "test_keys.h"
#include "unit.h"

#define ED_LEN 32

/* Little-endian encodings of the 8-torsion points (RFC 8032 section 5.1.2:
 * y, with the sign of x in the top bit), and the two "negative zero" x
 * encodings of y = 1 and y = p - 1. */
static const char *const small_order_hex[] = {
    "0100000000000000000000000000000000000000000000000000000000000000", /* identity */
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* order 2 */
    "0000000000000000000000000000000000000000000000000000000000000000", /* order 4 */
    "0000000000000000000000000000000000000000000000000000000000000080", /* order 4 */
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", /* order 8 */
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", /* order 8 */
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", /* order 8 */
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", /* order 8 */
    "0100000000000000000000000000000000000000000000000000000000000080", /* identity, -0 */
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", /* order 2, -0 */
};

/* y = p - 3 is on the curve and of large order: the highest canonical y
 * that a real key can have, next to the refused ones. */
static const char canonical_high_y_hex[] =
    "eaffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f";

static void from_hex(const char *hex, unsigned char *out)
{
    apr_size_t i;

    assert_int_equal(strlen(hex), 2 * ED_LEN);
    for (i = 0; i < ED_LEN; i++) {
        char byte[3] = {hex[2 * i], hex[2 * i + 1], '\0'};

        out[i] = (unsigned char)strtoul(byte, NULL, 16);
    }
}

/* p + k, little-endian, with the sign bit as given: y >= p for k in 0..18. */
static void noncanonical(unsigned k, int sign, unsigned char *out)
{
    memset(out, 0xff, ED_LEN);
    out[0] = (unsigned char)(0xed + k);
    out[ED_LEN - 1] = sign ? 0xff : 0x7f;
}

static const char *okp_jwk(apr_pool_t *p, const unsigned char *x, const char *kid)
{
    return apr_psprintf(p,
                        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"use\":\"sig\",\"kid\":\"%s\","
                        "\"x\":\"%s\"}",
                        kid, test_b64(p, x, ED_LEN));
}

/* Whether OpenSSL itself, given the raw key, accepts sig over input. */
static int openssl_accepts(const unsigned char *x, const char *input, const unsigned char *sig)
{
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, ED_LEN);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = pkey && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1
             && EVP_DigestVerify(ctx, sig, 64, (const unsigned char *)input, strlen(input)) == 1;

    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return ok;
}

/* The forgery R = identity, S = 0 under the weak key's kid, on a payload
 * that raw OpenSSL accepts with that key when there is one in 64 (every
 * small-order key has one; a large-order key has none). Returns whether the
 * attack would work without the key check; the token must be refused. */
static int forged_token_refused(apr_pool_t *p, const unsigned char *x, const char *jwks)
{
    unsigned char sig[64] = {1};
    const char *header = test_b64s(p, test_header(p, "EdDSA", "weak"));
    int i;

    for (i = 0; i < 64; i++) {
        const char *payload = test_b64s(p, test_payload(p, apr_psprintf(p, "\"forgery\":%d,", i)));
        const char *input = apr_pstrcat(p, header, ".", payload, NULL);

        if (openssl_accepts(x, input, sig)) {
            const char *token = apr_pstrcat(p, input, ".", test_b64(p, sig, sizeof(sig)), NULL);

            test_expect_refused(p, jwks, token, LOGTO_UNKNOWN_KID);
            return 1;
        }
    }
    return 0;
}

/* The weak key is refused alone and left out of a set, whose good member
 * stays usable. */
static void weak_key_refused(apr_pool_t *p, const unsigned char *x)
{
    const char *jwk = okp_jwk(p, x, "weak");
    const char *good = test_jwk(p, TEST_KEY_ED25519, "good", NULL);
    logto_jwk_t *key = NULL;
    logto_jwks_t *set;
    const char *why = NULL;

    assert_int_not_equal(logto_jwk_parse(p, jwk, strlen(jwk), &key, &why), APR_SUCCESS);
    assert_non_null(why);
    set = test_jwks(p, test_jwks_json(p, jwk, good, NULL));
    assert_int_equal(set->keys->nelts, 1);
    assert_int_equal(set->skipped, 1);
    assert_false(logto_jwks_has_kid(set, "weak"));
    assert_true(logto_jwks_has_kid(set, "good"));
}

static void small_order_points(void **state)
{
    apr_pool_t *p = *state;
    size_t i;

    for (i = 0; i < sizeof(small_order_hex) / sizeof(small_order_hex[0]); i++) {
        unsigned char x[ED_LEN];
        const char *jwks;

        from_hex(small_order_hex[i], x);
        weak_key_refused(p, x);
        jwks = test_jwks_json(p, okp_jwk(p, x, "weak"), test_jwk(p, TEST_KEY_ED25519, "good", NULL),
                              NULL);
        /* the attack is real against OpenSSL alone, and refused here */
        if (!forged_token_refused(p, x, jwks)) {
            fail_msg("small-order encoding %s: no forgery found", small_order_hex[i]);
        }
    }
}

static void noncanonical_y(void **state)
{
    apr_pool_t *p = *state;
    unsigned k;
    int sign, forgeries = 0;

    for (k = 0; k <= 18; k++) {
        for (sign = 0; sign <= 1; sign++) {
            unsigned char x[ED_LEN];

            noncanonical(k, sign, x);
            weak_key_refused(p, x);
            forgeries += forged_token_refused(
                p, x,
                test_jwks_json(p, okp_jwk(p, x, "weak"),
                               test_jwk(p, TEST_KEY_ED25519, "good", NULL), NULL));
        }
    }
    /* y = p and y = p + 1 are small-order points in disguise (both signs) */
    assert_true(forgeries >= 4);
}

/* The check refuses no real key: a generated one, and y = p - 3, the highest
 * canonical y on the curve. */
static void canonical_keys_kept(void **state)
{
    apr_pool_t *p = *state;
    unsigned char x[ED_LEN];
    const char *jwk = test_jwk(p, TEST_KEY_ED25519, "good", NULL);
    logto_jwk_t *key = NULL;
    const char *why = NULL;

    assert_int_equal(logto_jwk_parse(p, jwk, strlen(jwk), &key, &why), APR_SUCCESS);
    from_hex(canonical_high_y_hex, x);
    jwk = okp_jwk(p, x, "high");
    assert_int_equal(logto_jwk_parse(p, jwk, strlen(jwk), &key, &why), APR_SUCCESS);
    x[ED_LEN - 1] |= 0x80;
    jwk = okp_jwk(p, x, "high-negative");
    assert_int_equal(logto_jwk_parse(p, jwk, strlen(jwk), &key, &why), APR_SUCCESS);
}

static const struct CMUnitTest tests[] = {
    unit_test(small_order_points),
    unit_test(noncanonical_y),
    unit_test(canonical_keys_kept),
};

LOGTO_TEST_GROUP(attack_ed25519_small_order, tests);
