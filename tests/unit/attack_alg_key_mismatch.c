/* Gap closed: the algorithm must be bound to the key, never taken on trust
 * from the token (LOGTO.md section 0.2). A verifier that looks a key up by
 * kid and then runs whatever "alg" says can be made to check an RSA
 * signature against an EC key, ES256 against a P-384 key (a weaker hash on
 * a stronger curve), or PS256 against a key published for RS256 only. Each
 * token here is signed by the very key whose kid it carries, with the hash
 * the header names, so only the binding stops it. */
#include <string.h>

#include <apr_strings.h>

#include "test_keys.h"
#include "unit.h"

static const char *issuer_jwks(apr_pool_t *p)
{
    return test_jwks_json(p, test_jwk(p, TEST_KEY_RSA2048, "rsa", "RS256"),
                          test_jwk(p, TEST_KEY_P256, "ec256", "ES256"),
                          test_jwk(p, TEST_KEY_P384, "ec384", "ES384"),
                          test_jwk(p, TEST_KEY_ED25519, "ed", "EdDSA"), NULL);
}

/* The same keys without "alg" members (RSA keys never have one at Logto;
 * other issuers leave it off EC keys too): only kty and curve bind. */
static const char *issuer_jwks_without_alg(apr_pool_t *p)
{
    return test_jwks_json(
        p, test_jwk(p, TEST_KEY_RSA2048, "rsa", NULL), test_jwk(p, TEST_KEY_P256, "ec256", NULL),
        test_jwk(p, TEST_KEY_P384, "ec384", NULL), test_jwk(p, TEST_KEY_ED25519, "ed", NULL), NULL);
}

/* Refused by logto_validate (the issuer's key of that kid does not do this
 * algorithm), by logto_jwks_find, and by logto_jws_verify given that key
 * anyway; with and without "alg" on the issuer's JWKs. */
static void assert_mismatch_in(apr_pool_t *p, const char *jwks, const char *token, const char *kid)
{
    logto_jwks_t *set = test_jwks(p, jwks);
    logto_jws_t *jws = NULL;
    logto_result_t res;
    int i;

    test_expect_refused(p, jwks, token, LOGTO_ALG_NOT_ALLOWED);
    assert_int_equal(logto_jws_parse(p, token, strlen(token), 0, &jws, &res), APR_SUCCESS);
    assert_null(logto_jwks_find(set, kid, jws->alg));
    for (i = 0; i < set->keys->nelts; i++) {
        const logto_jwk_t *key = APR_ARRAY_IDX(set->keys, i, const logto_jwk_t *);

        if (strcmp(key->kid, kid) == 0) {
            assert_reason(logto_jws_verify(jws, key, &res), res, LOGTO_ALG_NOT_ALLOWED);
            return;
        }
    }
    fail_msg("kid %s not in the issuer's set", kid);
}

static void assert_mismatch(apr_pool_t *p, const char *token, const char *kid)
{
    assert_mismatch_in(p, issuer_jwks(p), token, kid);
    assert_mismatch_in(p, issuer_jwks_without_alg(p), token, kid);
}

static void rs256_against_ec_key(void **state)
{
    apr_pool_t *p = *state;

    assert_mismatch(p,
                    test_sign(p, TEST_KEY_RSA2048_B, "RS256", test_header(p, "RS256", "ec384"),
                              test_payload(p, NULL)),
                    "ec384");
    assert_mismatch(p,
                    test_sign(p, TEST_KEY_RSA2048_B, "PS256", test_header(p, "PS256", "ec256"),
                              test_payload(p, NULL)),
                    "ec256");
}

/* Signed by the P-384 key itself, over SHA-256: valid ECDSA math. */
static void es256_against_p384_key(void **state)
{
    apr_pool_t *p = *state;

    assert_mismatch(p,
                    test_sign(p, TEST_KEY_P384, "ES256", test_header(p, "ES256", "ec384"),
                              test_payload(p, NULL)),
                    "ec384");
}

static void es384_against_p256_key(void **state)
{
    apr_pool_t *p = *state;

    assert_mismatch(p,
                    test_sign(p, TEST_KEY_P256, "ES384", test_header(p, "ES384", "ec256"),
                              test_payload(p, NULL)),
                    "ec256");
    assert_mismatch(p,
                    test_sign(p, TEST_KEY_P256, "ES512", test_header(p, "ES512", "ec256"),
                              test_payload(p, NULL)),
                    "ec256");
}

static void eddsa_against_ec_key(void **state)
{
    apr_pool_t *p = *state;

    assert_mismatch(p,
                    test_sign(p, TEST_KEY_ED25519_B, "EdDSA", test_header(p, "EdDSA", "ec256"),
                              test_payload(p, NULL)),
                    "ec256");
    /* and the other way round: ES256 against the Ed25519 key's kid */
    assert_mismatch(p,
                    test_sign(p, TEST_KEY_P256_B, "ES256", test_header(p, "ES256", "ed"),
                              test_payload(p, NULL)),
                    "ed");
    assert_mismatch(p,
                    test_sign(p, TEST_KEY_RSA2048_B, "RS256", test_header(p, "RS256", "ed"),
                              test_payload(p, NULL)),
                    "ed");
}

/* The RSA key is published with "alg":"RS256": a PS256 or RS384 signature
 * by that same key is still refused, because the JWK says what it is for. */
static void jwk_alg_differs(void **state)
{
    apr_pool_t *p = *state;
    logto_claims_t *claims;
    logto_result_t res;

    assert_mismatch_in(p, issuer_jwks(p),
                       test_sign(p, TEST_KEY_RSA2048, "PS256", test_header(p, "PS256", "rsa"),
                                 test_payload(p, NULL)),
                       "rsa");
    assert_mismatch_in(p, issuer_jwks(p),
                       test_sign(p, TEST_KEY_RSA2048, "RS384", test_header(p, "RS384", "rsa"),
                                 test_payload(p, NULL)),
                       "rsa");
    /* without the JWK's alg the same RSA key may do PS256 (RFC 7518) */
    assert_int_equal(test_validate(p, issuer_jwks_without_alg(p),
                                   test_sign(p, TEST_KEY_RSA2048, "PS256",
                                             test_header(p, "PS256", "rsa"), test_payload(p, NULL)),
                                   &claims, &res),
                     APR_SUCCESS);
    /* its own algorithm passes */
    assert_int_equal(test_validate(p, issuer_jwks(p),
                                   test_sign(p, TEST_KEY_RSA2048, "RS256",
                                             test_header(p, "RS256", "rsa"), test_payload(p, NULL)),
                                   &claims, &res),
                     APR_SUCCESS);
}

/* Every key of the set verifies tokens of its own algorithm: the refusals
 * above are the bindings', not a broken key. */
static void bound_algorithms_pass(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        test_key_e key;
        const char *alg, *kid;
    } good[] = {{TEST_KEY_RSA2048, "RS256", "rsa"},
                {TEST_KEY_P256, "ES256", "ec256"},
                {TEST_KEY_P384, "ES384", "ec384"},
                {TEST_KEY_ED25519, "EdDSA", "ed"}};
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        logto_claims_t *claims = NULL;
        logto_result_t res;
        const char *token =
            test_sign(p, good[i].key, good[i].alg, test_header(p, good[i].alg, good[i].kid),
                      test_payload(p, NULL));

        if (test_validate(p, issuer_jwks(p), token, &claims, &res) != APR_SUCCESS) {
            fail_msg("%s refused: %s", good[i].alg, logto_reason_name(res.reason));
        }
        assert_string_equal(claims->kid, good[i].kid);
    }
}

static const struct CMUnitTest tests[] = {
    unit_test(rs256_against_ec_key),   unit_test(es256_against_p384_key),
    unit_test(es384_against_p256_key), unit_test(eddsa_against_ec_key),
    unit_test(jwk_alg_differs),        unit_test(bound_algorithms_pass),
};

LOGTO_TEST_GROUP(attack_alg_key_mismatch, tests);
