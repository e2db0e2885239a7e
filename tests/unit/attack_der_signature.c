/* Gap closed: JWS carries ECDSA signatures as raw r||s of fixed size (RFC
 * 7518 section 3.4). A verifier that hands the token's bytes to a DER-based
 * API, or accepts both forms, takes a second encoding of every signature
 * (malleability, cache-key confusion, ASN.1 parser exposure). A perfectly
 * valid DER signature must be refused. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include "logto_b64.h"
#include "test_keys.h"
#include "unit.h"

static void der_refused(apr_pool_t *p, test_key_e which, const char *alg)
{
    const char *jwks = test_jwks_json(p, test_jwk(p, which, "issuer", NULL), NULL);
    const char *token =
        test_sign(p, which, alg, test_header(p, alg, "issuer"), test_payload(p, NULL));
    const char *dot = strrchr(token, '.');
    unsigned char *raw, *der = NULL;
    apr_size_t raw_len;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r, *s;
    int der_len;
    logto_claims_t *claims;
    logto_result_t res;

    assert_int_equal(test_validate(p, jwks, token, &claims, &res), APR_SUCCESS);
    assert_int_equal(logto_b64url_decode(p, dot + 1, strlen(dot + 1), 1024, &raw, &raw_len),
                     APR_SUCCESS);
    r = BN_bin2bn(raw, (int)(raw_len / 2), NULL);
    s = BN_bin2bn(raw + raw_len / 2, (int)(raw_len / 2), NULL);
    assert_non_null(es);
    assert_int_equal(ECDSA_SIG_set0(es, r, s), 1);
    der_len = i2d_ECDSA_SIG(es, &der);
    assert_true(der_len > 0);
    assert_int_not_equal((apr_size_t)der_len, raw_len);

    test_expect_refused(p, jwks, test_with_signature(p, token, der, (apr_size_t)der_len),
                        LOGTO_BAD_SIGNATURE);
    /* DER padded or cut to the raw size is still no r||s of this message */
    if ((apr_size_t)der_len > raw_len) {
        test_expect_refused(p, jwks, test_with_signature(p, token, der, raw_len),
                            LOGTO_BAD_SIGNATURE);
    }
    else {
        unsigned char *padded = apr_pcalloc(p, raw_len);

        memcpy(padded, der, (apr_size_t)der_len);
        test_expect_refused(p, jwks, test_with_signature(p, token, padded, raw_len),
                            LOGTO_BAD_SIGNATURE);
    }
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
}

static void es256_der(void **state)
{
    der_refused(*state, TEST_KEY_P256, "ES256");
}

static void es384_der(void **state)
{
    der_refused(*state, TEST_KEY_P384, "ES384");
}

static void es512_der(void **state)
{
    der_refused(*state, TEST_KEY_P521, "ES512");
}

static const struct CMUnitTest tests[] = {
    unit_test(es256_der),
    unit_test(es384_der),
    unit_test(es512_der),
};

LOGTO_TEST_GROUP(attack_der_signature, tests);
