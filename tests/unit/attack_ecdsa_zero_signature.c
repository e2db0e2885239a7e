/* Gap closed: CVE-2022-21449, "psychic signatures". Java 15 to 18 accepted an
 * ECDSA signature with r = s = 0 for any message under any key. The same
 * family: r or s equal to the group order n (which is 0 mod n) or above it,
 * which a careless range check lets through. RFC 7518 section 3.4 and
 * FIPS 186-4 require 0 < r, s < n. Checked on P-256 and P-384. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "logto_b64.h"
#include "test_keys.h"
#include "unit.h"

/* big-endian v + 1 in place */
static void increment(unsigned char *v, apr_size_t len)
{
    while (len-- > 0) {
        if (++v[len] != 0) {
            break;
        }
    }
}

static void psychic(apr_pool_t *p, test_key_e which, const char *alg)
{
    const char *jwks = test_jwks_json(p, test_jwk(p, which, "issuer", NULL), NULL);
    const char *token =
        test_sign(p, which, alg, test_header(p, alg, "issuer"), test_payload(p, NULL));
    const char *dot = strrchr(token, '.');
    apr_size_t olen, sig_len;
    const unsigned char *n = test_ec_order(which, &olen);
    unsigned char *good, *sig, n1[66];
    logto_claims_t *claims;
    logto_result_t res;
    int variant;

    /* the genuine token passes */
    assert_int_equal(test_validate(p, jwks, token, &claims, &res), APR_SUCCESS);
    assert_int_equal(logto_b64url_decode(p, dot + 1, strlen(dot + 1), 1024, &good, &sig_len),
                     APR_SUCCESS);
    assert_int_equal(sig_len, 2 * olen);
    memcpy(n1, n, olen);
    increment(n1, olen);

    for (variant = 0; variant < 10; variant++) {
        sig = apr_pmemdup(p, good, sig_len);
        switch (variant) {
        case 0: /* r = s = 0: the psychic signature */
            memset(sig, 0, sig_len);
            break;
        case 1: /* r = 0 */
            memset(sig, 0, olen);
            break;
        case 2: /* s = 0 */
            memset(sig + olen, 0, olen);
            break;
        case 3: /* r = n */
            memcpy(sig, n, olen);
            break;
        case 4: /* s = n */
            memcpy(sig + olen, n, olen);
            break;
        case 5: /* r = n + 1 */
            memcpy(sig, n1, olen);
            break;
        case 6: /* s = n + 1 */
            memcpy(sig + olen, n1, olen);
            break;
        case 7: /* r = s = n */
            memcpy(sig, n, olen);
            memcpy(sig + olen, n, olen);
            break;
        case 8: /* r = s = 2^k - 1 */
            memset(sig, 0xff, sig_len);
            break;
        default: /* r = 0, s = n */
            memset(sig, 0, olen);
            memcpy(sig + olen, n, olen);
            break;
        }
        {
            const char *forged = test_with_signature(p, token, sig, sig_len);
            logto_jws_t *jws = NULL;
            logto_jwks_t *set = test_jwks(p, jwks);

            test_expect_refused(p, jwks, forged, LOGTO_BAD_SIGNATURE);
            assert_int_equal(logto_jws_parse(p, forged, strlen(forged), 0, &jws, &res),
                             APR_SUCCESS);
            assert_reason(logto_jws_verify(jws, logto_jwks_find(set, "issuer", jws->alg), &res),
                          res, LOGTO_BAD_SIGNATURE);
        }
    }
}

static void p256_zero_and_order(void **state)
{
    psychic(*state, TEST_KEY_P256, "ES256");
}

static void p384_zero_and_order(void **state)
{
    psychic(*state, TEST_KEY_P384, "ES384");
}

/* The order table the test uses is OpenSSL's (a wrong table would make the
 * r = n cases meaningless). */
static void order_tables_are_right(void **state)
{
    static const struct {
        test_key_e key;
        int nid;
    } curves[] = {{TEST_KEY_P256, NID_X9_62_prime256v1}, {TEST_KEY_P384, NID_secp384r1}};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        apr_size_t len;
        const unsigned char *n = test_ec_order(curves[i].key, &len);
        EC_GROUP *group = EC_GROUP_new_by_curve_name(curves[i].nid);
        unsigned char buf[66];

        assert_non_null(group);
        assert_int_equal(BN_bn2binpad(EC_GROUP_get0_order(group), buf, (int)len), (int)len);
        assert_memory_equal(buf, n, len);
        EC_GROUP_free(group);
    }
}

static const struct CMUnitTest tests[] = {
    unit_test(p256_zero_and_order),
    unit_test(p384_zero_and_order),
    unit_test(order_tables_are_right),
};

LOGTO_TEST_GROUP(attack_ecdsa_zero_signature, tests);
