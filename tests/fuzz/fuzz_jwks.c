/* libFuzzer target: a JWK Set document as an issuer (or whoever sits between
 * us and it) serves it. Runs the set parser, key lookup by kid and without,
 * the single-JWK parser and the RFC 7638 thumbprint. Nothing may crash, leak
 * or read out of bounds; a parsed set holds at least one key, and every key
 * found fits the algorithm it was asked for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "logto_jwk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;

static void fini(void)
{
    apr_pool_destroy(root);
    root = NULL;
    apr_terminate();
}

static void lookups(const logto_jwks_t *set)
{
    int i, a;

    if (set->keys->nelts < 1 || set->keys->nelts > LOGTO_JWKS_MAX_KEYS) {
        abort();
    }
    for (a = LOGTO_ALG_UNKNOWN; a < LOGTO_ALG_COUNT; a++) {
        const logto_jwk_t *key = logto_jwks_find(set, NULL, (logto_alg_e)a);

        if (key && (!key->pkey || !logto_jwk_fits_alg(key, (logto_alg_e)a))) {
            abort();
        }
        for (i = 0; i < set->keys->nelts; i++) {
            const logto_jwk_t *k = APR_ARRAY_IDX(set->keys, i, const logto_jwk_t *);

            if (!k->pkey) {
                abort();
            }
            if (k->kid) {
                key = logto_jwks_find(set, k->kid, (logto_alg_e)a);
                if (key
                    && (strcmp(key->kid, k->kid) != 0
                        || !logto_jwk_fits_alg(key, (logto_alg_e)a))) {
                    abort();
                }
                if (!logto_jwks_has_kid(set, k->kid)) {
                    abort();
                }
            }
        }
    }
    (void)logto_jwks_find(set, "", LOGTO_ALG_ES384);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *json = (const char *)data;
    logto_jwks_t *set = NULL;
    logto_jwk_t *key = NULL;
    const char *why = NULL, *thumbprint = NULL;

    if (!root) {
        if (apr_initialize() != APR_SUCCESS || apr_pool_create(&root, NULL) != APR_SUCCESS) {
            abort();
        }
        atexit(fini);
    }
    apr_pool_create(&p, root);
    if (logto_jwks_parse(p, json, size, &set, &why) == APR_SUCCESS) {
        lookups(set);
    }
    else if (!why) {
        abort();
    }
    if (logto_jwk_parse(p, json, size, &key, &why) == APR_SUCCESS && (!key || !key->pkey)) {
        abort();
    }
    if (logto_jwk_thumbprint(p, json, size, &thumbprint) == APR_SUCCESS
        && (!thumbprint || strlen(thumbprint) != 43)) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
