#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "logto_b64.h"
#include "logto_store.h"
#include "logto_validate.h"
#include "test_keys.h"
#include "unit.h"

static EVP_PKEY *keys[TEST_KEY_COUNT];

EVP_PKEY *test_key(test_key_e which)
{
    if (!keys[which]) {
        switch (which) {
        case TEST_KEY_RSA2048:
        case TEST_KEY_RSA2048_B:
            keys[which] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
            break;
        case TEST_KEY_RSA1024:
            keys[which] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
            break;
        case TEST_KEY_P256:
        case TEST_KEY_P256_B:
            keys[which] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
            break;
        case TEST_KEY_P384:
        case TEST_KEY_P384_B:
            keys[which] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
            break;
        case TEST_KEY_P521:
            keys[which] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
            break;
        case TEST_KEY_ED25519:
        case TEST_KEY_ED25519_B:
            keys[which] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
            break;
        default:
            fail_msg("no such test key %d", (int)which);
        }
        assert_non_null(keys[which]);
    }
    return keys[which];
}

const char *test_b64(apr_pool_t *p, const void *data, apr_size_t len)
{
    return logto_b64url_encode(p, data, len);
}

const char *test_b64s(apr_pool_t *p, const char *text)
{
    return logto_b64url_encode(p, (const unsigned char *)text, strlen(text));
}

static const char *bn_param_b64(apr_pool_t *p, EVP_PKEY *pkey, const char *name, apr_size_t pad)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    int n;

    assert_int_equal(EVP_PKEY_get_bn_param(pkey, name, &bn), 1);
    n = pad ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
    BN_free(bn);
    assert_true(n > 0);
    return test_b64(p, buf, (apr_size_t)n);
}

static apr_size_t ec_coord_len(EVP_PKEY *pkey)
{
    return (apr_size_t)(EVP_PKEY_get_bits(pkey) + 7) / 8;
}

const char *test_jwk(apr_pool_t *p, test_key_e which, const char *kid, const char *alg)
{
    EVP_PKEY *pkey = test_key(which);
    const char *body;
    const char *extra =
        apr_pstrcat(p, kid ? ",\"kid\":\"" : "", kid ? kid : "", kid ? "\"" : "",
                    alg ? ",\"alg\":\"" : "", alg ? alg : "", alg ? "\"" : "", NULL);

    if (EVP_PKEY_is_a(pkey, "RSA")) {
        body = apr_psprintf(p, "\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"",
                            bn_param_b64(p, pkey, OSSL_PKEY_PARAM_RSA_N, 0),
                            bn_param_b64(p, pkey, OSSL_PKEY_PARAM_RSA_E, 0));
    }
    else if (EVP_PKEY_is_a(pkey, "EC")) {
        apr_size_t c = ec_coord_len(pkey);
        const char *crv = c == 32 ? "P-256" : c == 48 ? "P-384" : "P-521";

        body = apr_psprintf(p, "\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"", crv,
                            bn_param_b64(p, pkey, OSSL_PKEY_PARAM_EC_PUB_X, c),
                            bn_param_b64(p, pkey, OSSL_PKEY_PARAM_EC_PUB_Y, c));
    }
    else {
        unsigned char raw[32];
        size_t raw_len = sizeof(raw);

        assert_int_equal(EVP_PKEY_get_raw_public_key(pkey, raw, &raw_len), 1);
        body = apr_psprintf(p, "\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"",
                            test_b64(p, raw, raw_len));
    }
    return apr_pstrcat(p, "{", body, ",\"use\":\"sig\"", extra, "}", NULL);
}

const char *test_jwks_json(apr_pool_t *p, ...)
{
    va_list ap;
    const char *jwk, *out = "{\"keys\":[";
    int first = 1;

    va_start(ap, p);
    while ((jwk = va_arg(ap, const char *)) != NULL) {
        out = apr_pstrcat(p, out, first ? "" : ",", jwk, NULL);
        first = 0;
    }
    va_end(ap);
    return apr_pstrcat(p, out, "]}", NULL);
}

logto_jwks_t *test_jwks(apr_pool_t *p, const char *json)
{
    logto_jwks_t *set = NULL;
    const char *why = NULL;

    if (logto_jwks_parse(p, json, strlen(json), &set, &why) != APR_SUCCESS) {
        fail_msg("test JWKS refused: %s", why ? why : "?");
    }
    return set;
}

static const EVP_MD *alg_md(const char *alg)
{
    if (strcmp(alg, "EdDSA") == 0) {
        return NULL;
    }
    if (strcmp(alg + 2, "384") == 0) {
        return EVP_sha384();
    }
    if (strcmp(alg + 2, "512") == 0) {
        return EVP_sha512();
    }
    return EVP_sha256();
}

unsigned char *test_sign_raw(apr_pool_t *p, test_key_e which, const char *alg, const char *input,
                             apr_size_t len, apr_size_t *sig_len)
{
    EVP_PKEY *pkey = test_key(which);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    size_t n = 0;
    unsigned char *sig;

    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit(ctx, &pctx, alg_md(alg), NULL, pkey), 1);
    if (alg[0] == 'P') {
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
    }
    assert_int_equal(EVP_DigestSign(ctx, NULL, &n, (const unsigned char *)input, len), 1);
    sig = apr_palloc(p, n);
    assert_int_equal(EVP_DigestSign(ctx, sig, &n, (const unsigned char *)input, len), 1);
    EVP_MD_CTX_free(ctx);

    if (EVP_PKEY_is_a(pkey, "EC")) {
        /* DER to the raw r||s of RFC 7518 section 3.4 */
        const unsigned char *der = sig;
        apr_size_t c = ec_coord_len(pkey);
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &der, (long)n);
        unsigned char *raw = apr_palloc(p, 2 * c);

        assert_non_null(es);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)c), (int)c);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + c, (int)c), (int)c);
        ECDSA_SIG_free(es);
        sig = raw;
        n = 2 * c;
    }
    *sig_len = n;
    return sig;
}

const char *test_sign(apr_pool_t *p, test_key_e which, const char *alg, const char *header,
                      const char *payload)
{
    const char *input = apr_pstrcat(p, test_b64s(p, header), ".", test_b64s(p, payload), NULL);
    apr_size_t sig_len;
    unsigned char *sig = test_sign_raw(p, which, alg, input, strlen(input), &sig_len);

    return apr_pstrcat(p, input, ".", test_b64(p, sig, sig_len), NULL);
}

const char *test_header(apr_pool_t *p, const char *alg, const char *kid)
{
    if (!kid) {
        return apr_psprintf(p, "{\"alg\":\"%s\",\"typ\":\"at+jwt\"}", alg);
    }
    return apr_psprintf(p, "{\"alg\":\"%s\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", alg, kid);
}

const char *test_payload_with(apr_pool_t *p, const char *jti, const char *sub, const char *iat,
                              const char *exp, const char *scope, const char *client_id,
                              const char *iss, const char *aud)
{
    const char *members[] = {jti, sub, iat, exp, scope, client_id, iss, aud};
    const char *out = "{";
    int i, first = 1;

    for (i = 0; i < (int)(sizeof(members) / sizeof(members[0])); i++) {
        if (members[i]) {
            out = apr_pstrcat(p, out, first ? "" : ",", members[i], NULL);
            first = 0;
        }
    }
    return apr_pstrcat(p, out, "}", NULL);
}

const char *test_payload(apr_pool_t *p, const char *extra)
{
    const char *body = test_payload_with(
        p, "\"jti\":\"Vq3xK8mZ2pL7nR4tY9wB1\"", "\"sub\":\"u7x2k9q4m1pz\"",
        apr_psprintf(p, "\"iat\":%ld", TEST_IAT), apr_psprintf(p, "\"exp\":%ld", TEST_EXP),
        "\"scope\":\"read:products write:products\"", "\"client_id\":\"app9m2kq7x1b4z8c6v3n5\"",
        "\"iss\":\"" TEST_ISSUER "\"", "\"aud\":\"" TEST_API "\"");

    return apr_pstrcat(p, "{", extra ? extra : "", body + 1, NULL);
}

apr_status_t test_validate_at(apr_pool_t *p, const char *jwks_json, const char *token,
                              apr_time_t now, logto_claims_t **claims, logto_result_t *res)
{
    logto_policy_t *policy = logto_policy_make(p);
    logto_store_t *store = NULL, *used = NULL;
    apr_uint32_t epoch = 0;

    assert_int_equal(logto_store_create_static(&store, "test", test_jwks(p, jwks_json), p),
                     APR_SUCCESS);
    logto_policy_add_issuer(policy, TEST_ISSUER, store);
    logto_policy_seal(policy);
    *claims = NULL;
    return logto_validate(policy, token, strlen(token), now, p, claims, &used, &epoch, res);
}

apr_status_t test_validate(apr_pool_t *p, const char *jwks_json, const char *token,
                           logto_claims_t **claims, logto_result_t *res)
{
    return test_validate_at(p, jwks_json, token, unit_time(TEST_NOW), claims, res);
}

void test_expect_refused(apr_pool_t *p, const char *jwks_json, const char *token,
                         logto_reason_e expected)
{
    logto_claims_t *claims = NULL;
    logto_result_t res;
    apr_status_t rv = test_validate(p, jwks_json, token, &claims, &res);

    assert_reason(rv, res, expected);
    assert_null(claims);
}

const char *test_with_signature(apr_pool_t *p, const char *token, const unsigned char *sig,
                                apr_size_t sig_len)
{
    const char *last = strrchr(token, '.');

    assert_non_null(last);
    return apr_pstrcat(p, apr_pstrmemdup(p, token, (apr_size_t)(last - token + 1)),
                       test_b64(p, sig, sig_len), NULL);
}

/* The group orders of SEC 2 / FIPS 186-4, big-endian. */
static const unsigned char order_p256[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
static const unsigned char order_p384[48] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73};

const unsigned char *test_ec_order(test_key_e which, apr_size_t *len)
{
    switch (which) {
    case TEST_KEY_P256:
    case TEST_KEY_P256_B:
        *len = sizeof(order_p256);
        return order_p256;
    case TEST_KEY_P384:
    case TEST_KEY_P384_B:
        *len = sizeof(order_p384);
        return order_p384;
    default:
        fail_msg("no order table for key %d", (int)which);
    }
    return NULL;
}
