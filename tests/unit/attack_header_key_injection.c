/* Gap closed: keys named by the token itself (RFC 8725 section 3.10, RFC
 * 7515 sections 4.1.2 to 4.1.6). A header can carry "jwk" (the key inline),
 * "jku" or "x5u" (a URL to fetch keys from) or "x5c" (a certificate chain).
 * A verifier that uses any of them lets the attacker supply the key that
 * checks the attacker's signature. They are never used: tokens signed by
 * the attacker's key are refused, and a token signed by the issuer's key
 * verifies with the issuer's key whatever these members say. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "test_keys.h"
#include "unit.h"

#define ISSUER_KID "issuer-ec"

static const char *issuer_jwks(apr_pool_t *p)
{
    return test_jwks_json(p, test_jwk(p, TEST_KEY_P384, ISSUER_KID, "ES384"), NULL);
}

/* A self-signed certificate of the attacker's key, as an x5c entry
 * (standard base64 of the DER). */
static const char *attacker_x5c(apr_pool_t *p)
{
    EVP_PKEY *key = test_key(TEST_KEY_P384_B);
    X509 *x = X509_new();
    X509_NAME *name;
    unsigned char *der = NULL;
    char *b64;
    int len;

    assert_non_null(x);
    assert_int_equal(X509_set_version(x, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
    assert_int_equal(X509_set_pubkey(x, key), 1);
    name = X509_get_subject_name(x);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                                (const unsigned char *)"tenant.logto.app", -1, -1,
                                                0),
                     1);
    assert_int_equal(X509_set_issuer_name(x, name), 1);
    assert_true(X509_sign(x, key, EVP_sha384()) > 0);
    len = i2d_X509(x, &der);
    assert_true(len > 0);
    b64 = apr_palloc(p, (apr_size_t)4 * ((len + 2) / 3) + 1);
    assert_true(EVP_EncodeBlock((unsigned char *)b64, der, len) > 0);
    OPENSSL_free(der);
    X509_free(x);
    return b64;
}

/* The injected members, each alone, as header JSON text (without braces). */
static const char *const *injections(apr_pool_t *p)
{
    const char **list = apr_pcalloc(p, 6 * sizeof(*list));

    list[0] = apr_pstrcat(p, "\"jwk\":", test_jwk(p, TEST_KEY_P384_B, NULL, "ES384"), NULL);
    list[1] = "\"jku\":\"https://attacker.example/jwks.json\"";
    list[2] = "\"x5u\":\"https://attacker.example/cert.pem\"";
    list[3] = apr_pstrcat(p, "\"x5c\":[\"", attacker_x5c(p), "\"]", NULL);
    list[4] = apr_pstrcat(p, "\"jwk\":", test_jwk(p, TEST_KEY_P384_B, NULL, "ES384"),
                          ",\"jku\":\"https://attacker.example/jwks.json\",\"x5c\":[\"",
                          attacker_x5c(p), "\"]", NULL);
    return list;
}

static const char *header_with(apr_pool_t *p, const char *kid, const char *member)
{
    if (!kid) {
        return apr_pstrcat(p, "{\"alg\":\"ES384\",\"typ\":\"at+jwt\",", member, "}", NULL);
    }
    return apr_pstrcat(p, "{\"alg\":\"ES384\",\"typ\":\"at+jwt\",\"kid\":\"", kid, "\",", member,
                       "}", NULL);
}

/* Attacker's signature, the issuer's kid: the issuer's key decides. */
static void attacker_key_in_header_with_issuer_kid(void **state)
{
    apr_pool_t *p = *state;
    const char *const *list = injections(p);
    int i;

    for (i = 0; list[i]; i++) {
        test_expect_refused(p, issuer_jwks(p),
                            test_sign(p, TEST_KEY_P384_B, "ES384",
                                      header_with(p, ISSUER_KID, list[i]), test_payload(p, NULL)),
                            LOGTO_BAD_SIGNATURE);
    }
}

/* Attacker's signature and no kid: the single issuer key is tried, not the
 * embedded one. */
static void attacker_key_in_header_without_kid(void **state)
{
    apr_pool_t *p = *state;
    const char *const *list = injections(p);
    int i;

    for (i = 0; list[i]; i++) {
        test_expect_refused(p, issuer_jwks(p),
                            test_sign(p, TEST_KEY_P384_B, "ES384", header_with(p, NULL, list[i]),
                                      test_payload(p, NULL)),
                            LOGTO_BAD_SIGNATURE);
    }
}

/* Attacker's signature and the attacker's kid (the one inside the embedded
 * JWK or at the URL): unknown to the issuer, nothing is fetched or trusted. */
static void attacker_key_in_header_with_its_kid(void **state)
{
    apr_pool_t *p = *state;
    const char *const *list = injections(p);
    int i;

    for (i = 0; list[i]; i++) {
        test_expect_refused(p, issuer_jwks(p),
                            test_sign(p, TEST_KEY_P384_B, "ES384",
                                      header_with(p, "attacker-key", list[i]),
                                      test_payload(p, NULL)),
                            LOGTO_UNKNOWN_KID);
    }
}

/* The issuer's own signature with the attacker's key in the header still
 * verifies: proof that the embedded key is not the one used (it would fail
 * the issuer's signature). */
static void embedded_key_never_used(void **state)
{
    apr_pool_t *p = *state;
    const char *const *list = injections(p);
    int i;

    for (i = 0; list[i]; i++) {
        logto_claims_t *claims = NULL;
        logto_result_t res;
        const char *token = test_sign(p, TEST_KEY_P384, "ES384",
                                      header_with(p, ISSUER_KID, list[i]), test_payload(p, NULL));

        if (test_validate(p, issuer_jwks(p), token, &claims, &res) != APR_SUCCESS) {
            fail_msg("issuer-signed token with %.12s... refused: %s", list[i],
                     logto_reason_name(res.reason));
        }
        assert_string_equal(claims->kid, ISSUER_KID);
    }
}

static const struct CMUnitTest tests[] = {
    unit_test(attacker_key_in_header_with_issuer_kid),
    unit_test(attacker_key_in_header_without_kid),
    unit_test(attacker_key_in_header_with_its_kid),
    unit_test(embedded_key_never_used),
};

LOGTO_TEST_GROUP(attack_header_key_injection, tests);
