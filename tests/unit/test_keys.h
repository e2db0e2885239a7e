/* Keys and tokens made at test time with OpenSSL, so each attack test can
 * sign exactly the header and payload bytes it needs (duplicate members,
 * odd types, a signature from the wrong key) and stay short. Keys are made
 * once per process and kept for its lifetime. */
#ifndef LOGTO_TEST_KEYS_H
#define LOGTO_TEST_KEYS_H

#include <apr_pools.h>
#include <openssl/evp.h>

#include "logto_claims.h"
#include "logto_jwk.h"
#include "logto_jws.h"
#include "logto_result.h"

/* The issuer and clock every generated token is made for. */
#define TEST_ISSUER "https://tenant.logto.app/oidc"
#define TEST_API    "https://api.example.com"
#define TEST_NOW    1767225600L /* 2026-01-01T00:00:00Z */
#define TEST_IAT    (TEST_NOW - 600L)
#define TEST_EXP    (TEST_NOW + 3000L)

typedef enum {
    TEST_KEY_RSA2048 = 0,
    TEST_KEY_P256,
    TEST_KEY_P384,
    TEST_KEY_P521,
    TEST_KEY_ED25519,
    /* a second key of each kind: the attacker's */
    TEST_KEY_RSA2048_B,
    TEST_KEY_P256_B,
    TEST_KEY_P384_B,
    TEST_KEY_ED25519_B,
    TEST_KEY_RSA1024, /* too short to be accepted */
    TEST_KEY_COUNT
} test_key_e;

/* The key pair (made on first use). */
EVP_PKEY *test_key(test_key_e which);

/* The public JWK of a key as JSON: {"kty",...,"kid","use":"sig"[,"alg"]}.
 * kid and alg are left out when NULL. */
const char *test_jwk(apr_pool_t *p, test_key_e which, const char *kid, const char *alg);

/* {"keys":[jwk, ...]} from a NULL-terminated list of JWK JSON texts. */
const char *test_jwks_json(apr_pool_t *p, ...);

/* Parses a JWK Set; fails the test if it does not parse. */
logto_jwks_t *test_jwks(apr_pool_t *p, const char *json);

/* base64url of bytes / of a string. */
const char *test_b64(apr_pool_t *p, const void *data, apr_size_t len);
const char *test_b64s(apr_pool_t *p, const char *text);

/* The JWS signature of input under alg (a JOSE name; its hash and padding
 * are used with whatever key is given, so a P-384 key can make an "ES256"
 * signature). ECDSA signatures are raw r||s sized for the key's curve. */
unsigned char *test_sign_raw(apr_pool_t *p, test_key_e which, const char *alg, const char *input,
                             apr_size_t len, apr_size_t *sig_len);

/* A compact JWS of exactly these header and payload JSON texts. */
const char *test_sign(apr_pool_t *p, test_key_e which, const char *alg, const char *header,
                      const char *payload);

/* {"alg":alg,"typ":"at+jwt","kid":kid} (kid left out when NULL). */
const char *test_header(apr_pool_t *p, const char *alg, const char *kid);

/* A Logto model-1 payload for TEST_ISSUER, valid at TEST_NOW; extra (may be
 * NULL or "") is inserted as the first members, e.g. "\"nbf\":1,". */
const char *test_payload(apr_pool_t *p, const char *extra);

/* A Logto payload built from its members: each argument is "name":value text
 * or NULL to leave that claim out. */
const char *test_payload_with(apr_pool_t *p, const char *jti, const char *sub, const char *iat,
                              const char *exp, const char *scope, const char *client_id,
                              const char *iss, const char *aud);

/* Runs logto_validate with the documented defaults (every algorithm,
 * typ at+jwt, leeway 60 s), TEST_ISSUER with a static store of jwks_json,
 * at TEST_NOW. */
apr_status_t test_validate(apr_pool_t *p, const char *jwks_json, const char *token,
                           logto_claims_t **claims, logto_result_t *res);

/* The same with a given policy clock. */
apr_status_t test_validate_at(apr_pool_t *p, const char *jwks_json, const char *token,
                              apr_time_t now, logto_claims_t **claims, logto_result_t *res);

/* Asserts that token is refused by logto_validate with the expected reason,
 * and that no claims come out. */
void test_expect_refused(apr_pool_t *p, const char *jwks_json, const char *token,
                         logto_reason_e expected);

/* The token with its signature replaced by these bytes. */
const char *test_with_signature(apr_pool_t *p, const char *token, const unsigned char *sig,
                                apr_size_t sig_len);

/* Big-endian bytes of an EC curve order (coordinate size). */
const unsigned char *test_ec_order(test_key_e which, apr_size_t *len);

#endif /* LOGTO_TEST_KEYS_H */
