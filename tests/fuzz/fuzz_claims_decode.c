/* libFuzzer target: a value a shared cache (shmcb, Redis, memcache) hands
 * back, after the module's 32-byte key prefix: the bytes logto_claims_decode
 * reads. Whoever reaches the cache's server chooses them. Decoding must
 * refuse anything inconsistent without reading out of bounds; what it
 * accepts must be claims the rest of the module can rely on (required
 * strings, exp in range, no more than 64 audiences, a payload of its stated
 * length without a NUL, derived strings as logto_claims_read() makes them);
 * and encoded again, they must decode to the very same claims, and encode
 * to the same bytes once more (an encoding the encoder made is a fixed point
 * of decode then encode).
 *
 * Seeds (tests/fuzz/corpus/claims_decode/): encodings of Logto's three
 * models, escapes, 64 audiences, a 10 KB scope, an LTC1 value of an earlier
 * build, and corruptions named after what they try (a reference past the
 * payload, length overflows, NULs, a missing terminator, trailing bytes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "logto_claims.h"
#include "logto_tcache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_AUDIENCES 64

static apr_pool_t *root;

static void fini(void)
{
    apr_pool_destroy(root);
    root = NULL;
    apr_terminate();
}

static int same_string(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int same_list(const apr_array_header_t *a, const apr_array_header_t *b)
{
    int i;

    if (a->nelts != b->nelts) {
        return 0;
    }
    for (i = 0; i < a->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(a, i, const char *), APR_ARRAY_IDX(b, i, const char *)) != 0) {
            return 0;
        }
    }
    return 1;
}

static int same_claims(const logto_claims_t *a, const logto_claims_t *b)
{
    return same_string(a->iss, b->iss) && same_string(a->sub, b->sub)
           && same_string(a->client_id, b->client_id) && same_string(a->jti, b->jti)
           && same_string(a->organization_id, b->organization_id) && same_string(a->scope, b->scope)
           && same_string(a->kid, b->kid) && same_string(a->scope_list, b->scope_list)
           && same_string(a->audience_list, b->audience_list) && same_list(a->scopes, b->scopes)
           && same_list(a->audiences, b->audiences) && a->exp == b->exp && a->iat == b->iat
           && a->nbf == b->nbf && a->payload_len == b->payload_len
           && memcmp(a->payload, b->payload, a->payload_len) == 0
           && memcmp(a->key_fingerprint, b->key_fingerprint, sizeof(a->key_fingerprint)) == 0;
}

/* What every accepted value must say, whatever its bytes. */
static void check_invariants(apr_pool_t *p, const logto_claims_t *c, size_t size)
{
    if (!c->iss || !c->sub || !c->scope || !c->scopes || !c->audiences || !c->scope_list
        || !c->audience_list || !c->payload) {
        abort();
    }
    if (c->exp <= 0 || c->exp > LOGTO_NUMERIC_DATE_MAX || c->audiences->nelts > MAX_AUDIENCES) {
        abort();
    }
    /* the payload is within the value, NUL-terminated, with no NUL inside */
    if (c->payload_len >= size || strlen(c->payload) != c->payload_len) {
        abort();
    }
    if (!same_list(c->scopes, logto_scope_split(p, c->scope))
        || strcmp(c->scope_list, logto_list_join(p, c->scopes)) != 0
        || strcmp(c->audience_list, logto_list_join(p, c->audiences)) != 0) {
        abort();
    }
    /* what authorization asks of them */
    (void)logto_claims_has_scope(c, "read:products");
    (void)logto_claims_has_audience(c, "https://api.example.com");
    (void)logto_claims_in_organization(c, "org4kd9x2m1q");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    logto_claims_t *claims = NULL, *again = NULL, *third = NULL;
    unsigned char *enc = NULL, *enc2 = NULL;
    apr_size_t len = 0, len2 = 0;

    if (!root) {
        if (apr_initialize() != APR_SUCCESS || apr_pool_create(&root, NULL) != APR_SUCCESS) {
            abort();
        }
        atexit(fini);
    }
    apr_pool_create(&p, root);
    if (logto_claims_decode(p, data, size, &claims) == APR_SUCCESS) {
        check_invariants(p, claims, size);
        /* Decoded claims always encode (the decoder holds them to what the
         * encoder accepts), decode to the same claims, and re-encode to the
         * same bytes. */
        if (logto_claims_encode(p, claims, &enc, &len) != APR_SUCCESS
            || logto_claims_decode(p, enc, len, &again) != APR_SUCCESS
            || !same_claims(claims, again)
            || logto_claims_encode(p, again, &enc2, &len2) != APR_SUCCESS || len2 != len
            || memcmp(enc, enc2, len) != 0
            || logto_claims_decode(p, enc2, len2, &third) != APR_SUCCESS
            || !same_claims(claims, third)) {
            abort();
        }
    }
    apr_pool_destroy(p);
    return 0;
}
