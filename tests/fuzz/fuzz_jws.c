/* libFuzzer target: a bearer token as an attacker sends it. Runs the JWS
 * parser (both payload modes), the header policy check, key lookup and
 * verification against a small fixed key set (the keys of the test vectors,
 * so their tokens reach signature checks), and the whole logto_validate
 * pipeline with a static store. Nothing may crash, leak or read out of
 * bounds; a token must never be accepted by a key that does not fit it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "logto_jws.h"
#include "logto_store.h"
#include "logto_validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The vectors' issuer and clock (tests/vectors/generate.py). */
#define ISSUER "https://abc123.logto.app/oidc"
#define NOW    1767225600

/* Public keys of the vectors: Logto ES384 (kid), RFC 7515 A.2 RSA, A.3 P-256,
 * A.4 P-521, RFC 8037 Ed25519 (no kid). */
static const char jwks_json[] =
    "{\"keys\":["
    "{\"kty\":\"EC\",\"use\":\"sig\",\"kid\":\"7yBAiFyJ3M54qQ8U6o71jYj4nuTUOIbHtfPInROwlso\","
    "\"alg\":\"ES384\",\"crv\":\"P-384\","
    "\"x\":\"AjvZKlYZsl4e4oDwWioh3PbuDlO0T2WyhbHRqnLo-ASJalyEJFUVvDanyctQPj2k\","
    "\"y\":\"lXC0gg-VSBICg4sXQhgkrXep5ntBwsEOt6fpJc6pWGqCHx_-AMDrEJz8yQJISAX5\"},"
    "{\"kty\":\"RSA\",\"n\":\"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Va"
    "w-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg"
    "0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5Z"
    "wKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
    "\",\"e\":\"AQAB\"},"
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"},"
    "{\"kty\":\"EC\",\"crv\":\"P-521\","
    "\"x\":\"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_"
    "NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk\","
    "\"y\":\"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-"
    "x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2\"},"
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}"
    "]}";

static apr_pool_t *root;
static logto_jwks_t *jwks;
static logto_policy_t *policy;
static apr_array_header_t *types;

/* The keys live in root, whose memory a leak checker may not scan (APR can
 * take it from mmap): release them at exit so every leak report is real. */
static void fini(void)
{
    apr_pool_destroy(root);
    root = NULL;
    apr_terminate();
}

static void init(void)
{
    logto_store_t *store = NULL;
    const char *why = NULL;

    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&root, NULL) != APR_SUCCESS
        || logto_jwks_parse(root, jwks_json, sizeof(jwks_json) - 1, &jwks, &why) != APR_SUCCESS
        || logto_store_create_static(&store, "fuzz", jwks, root) != APR_SUCCESS) {
        abort();
    }
    atexit(fini);
    types = apr_array_make(root, 1, sizeof(const char *));
    APR_ARRAY_PUSH(types, const char *) = "at+jwt";
    policy = logto_policy_make(root);
    logto_policy_add_issuer(policy, ISSUER, store);
    logto_policy_add_issuer(policy, "joe", store);
    logto_policy_seal(policy);
}

static void jws_paths(apr_pool_t *p, const char *token, apr_size_t len, int flags)
{
    logto_jws_t *jws = NULL;
    logto_result_t res;
    const logto_jwk_t *key;
    int i;

    if (logto_jws_parse(p, token, len, flags, &jws, &res) != APR_SUCCESS) {
        if (res.reason == LOGTO_OK) {
            abort();
        }
        return;
    }
    (void)logto_jws_check_header(jws, LOGTO_ALG_MASK_ALL, types, &res);
    (void)logto_jws_check_header(jws, LOGTO_ALG_BIT(LOGTO_ALG_ES384), NULL, &res);
    key = logto_jwks_find(jwks, jws->kid, jws->alg);
    if (key && !logto_jwk_fits_alg(key, jws->alg)) {
        abort();
    }
    /* every key, fitting or not: a misfit must be refused, never verified */
    for (i = 0; i < jwks->keys->nelts; i++) {
        const logto_jwk_t *k = APR_ARRAY_IDX(jwks->keys, i, const logto_jwk_t *);

        if (logto_jws_verify(jws, k, &res) == APR_SUCCESS && !logto_jwk_fits_alg(k, jws->alg)) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *token = (const char *)data;
    logto_claims_t *claims = NULL;
    logto_store_t *used = NULL;
    apr_uint32_t epoch = 0;
    logto_result_t res;

    if (!root) {
        init();
    }
    apr_pool_create(&p, root);
    jws_paths(p, token, size, 0);
    jws_paths(p, token, size, LOGTO_JWS_PAYLOAD_ANY);
    if (logto_validate(policy, token, size, apr_time_from_sec(NOW), p, &claims, &used, &epoch, &res)
        == APR_SUCCESS) {
        /* an accepted token has the claims authorization relies on */
        if (!claims || !claims->sub || !claims->iss || res.reason != LOGTO_OK) {
            abort();
        }
        (void)logto_claims_has_scope(claims, "read:products");
        (void)logto_claims_has_audience(claims, "https://api.example.com");
        (void)logto_claims_in_organization(claims, "org4kd9x2m1q");
    }
    else if (res.reason == LOGTO_OK) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
