/* Gap closed: algorithm confusion (CVE-2015-9235 and its many siblings). The
 * issuer's public key is public; if a verifier lets the token's "alg" pick
 * HMAC and keys it with that public key (as PEM or as the JWK text), anyone
 * can mint tokens. HS256/384/512 must be refused whatever bytes key them. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "test_keys.h"
#include "unit.h"

/* The key's SubjectPublicKeyInfo as PEM text. */
static const char *public_pem(apr_pool_t *p, test_key_e which)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long len;
    const char *pem;

    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PUBKEY(bio, test_key(which)), 1);
    len = BIO_get_mem_data(bio, &data);
    assert_true(len > 0);
    pem = apr_pstrmemdup(p, data, (apr_size_t)len);
    BIO_free(bio);
    return pem;
}

static const char *hmac_token(apr_pool_t *p, const char *alg, const char *kid, const char *secret,
                              apr_size_t secret_len)
{
    const EVP_MD *md = strcmp(alg, "HS256") == 0   ? EVP_sha256()
                       : strcmp(alg, "HS384") == 0 ? EVP_sha384()
                                                   : EVP_sha512();
    const char *input = apr_pstrcat(p, test_b64s(p, test_header(p, alg, kid)), ".",
                                    test_b64s(p, test_payload(p, NULL)), NULL);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;

    assert_non_null(HMAC(md, secret, (int)secret_len, (const unsigned char *)input, strlen(input),
                         mac, &mac_len));
    assert_true(mac_len >= 32);
    return apr_pstrcat(p, input, ".", test_b64(p, mac, mac_len), NULL);
}

static void confusion_with(apr_pool_t *p, test_key_e which, const char *kid, const char *alg)
{
    const char *jwk = test_jwk(p, which, kid, NULL);
    const char *jwks = test_jwks_json(p, jwk, NULL);
    const char *pem = public_pem(p, which);
    const char *secrets[] = {pem, jwk, jwks};
    size_t i;

    for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        const char *token = hmac_token(p, alg, kid, secrets[i], strlen(secrets[i]));
        logto_jws_t *jws = NULL;
        logto_result_t res;

        test_expect_refused(p, jwks, token, LOGTO_ALG_NOT_ALLOWED);
        assert_reason(logto_jws_parse(p, token, strlen(token), 0, &jws, &res), res,
                      LOGTO_ALG_NOT_ALLOWED);
        /* without kid, where the single RSA or EC key would be picked */
        token = hmac_token(p, alg, NULL, secrets[i], strlen(secrets[i]));
        test_expect_refused(p, jwks, token, LOGTO_ALG_NOT_ALLOWED);
    }
}

static void hs256_keyed_with_public_key(void **state)
{
    confusion_with(*state, TEST_KEY_RSA2048, "rsa-key", "HS256");
    confusion_with(*state, TEST_KEY_P384, "ec-key", "HS256");
}

static void hs384_keyed_with_public_key(void **state)
{
    confusion_with(*state, TEST_KEY_RSA2048, "rsa-key", "HS384");
    confusion_with(*state, TEST_KEY_P384, "ec-key", "HS384");
}

static void hs512_keyed_with_public_key(void **state)
{
    confusion_with(*state, TEST_KEY_RSA2048, "rsa-key", "HS512");
    confusion_with(*state, TEST_KEY_P384, "ec-key", "HS512");
}

/* The same claims signed with the issuer's key and RS256 are accepted: the
 * refusal above is the HMAC algorithm's, not the claims'. */
static void same_claims_rs256_accepted(void **state)
{
    apr_pool_t *p = *state;
    const char *jwks = test_jwks_json(p, test_jwk(p, TEST_KEY_RSA2048, "rsa-key", NULL), NULL);
    const char *token = test_sign(p, TEST_KEY_RSA2048, "RS256", test_header(p, "RS256", "rsa-key"),
                                  test_payload(p, NULL));
    logto_claims_t *claims;
    logto_result_t res;

    assert_int_equal(test_validate(p, jwks, token, &claims, &res), APR_SUCCESS);
    assert_string_equal(claims->sub, "u7x2k9q4m1pz");
}

static const struct CMUnitTest tests[] = {
    unit_test(hs256_keyed_with_public_key),
    unit_test(hs384_keyed_with_public_key),
    unit_test(hs512_keyed_with_public_key),
    unit_test(same_claims_rs256_accepted),
};

LOGTO_TEST_GROUP(attack_hs256_public_key, tests);
