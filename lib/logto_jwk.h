/* JWK and JWK Set (RFC 7517) to OpenSSL EVP_PKEY, parsed once per key set and
 * reused for every verification. Supported: RSA of 2048 bits or more, EC P-256,
 * P-384 and P-521, OKP Ed25519. A set keeps its good members and skips the
 * rest (non-objects, unknown kty, broken numbers, use other than "sig",
 * published private keys), each skip reported through the log. */
#ifndef LOGTO_JWK_H
#define LOGTO_JWK_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/evp.h>

#include "logto_alg.h"
#include "logto_ecfast.h"

/* SHA-256 of a key's DER SubjectPublicKeyInfo: tells keys apart whatever
 * their kid. */
#define LOGTO_KEY_FP_LEN 32
/* Large enough for the P-521 group order. */
#define LOGTO_EC_MAX_COORD 66
/* Bound on a JWK Set document and on the number of keys kept from it. */
#define LOGTO_JWKS_MAX_BYTES (512L * 1024)
#define LOGTO_JWKS_MAX_KEYS  64

typedef struct logto_jwk {
    const char *kid; /* NULL when the JWK has none */
    logto_kty_e kty;
    logto_crv_e crv;      /* LOGTO_CRV_NONE for RSA */
    logto_alg_e alg;      /* the JWK's own "alg", LOGTO_ALG_UNKNOWN when absent */
    int bits;             /* modulus or field size */
    EVP_PKEY *pkey;       /* freed by a cleanup of the pool the key was parsed in */
    apr_size_t coord_len; /* EC: bytes per coordinate, so |r||s| = 2 * coord_len */
    unsigned char order[LOGTO_EC_MAX_COORD]; /* EC: group order, big-endian, coord_len bytes */
    unsigned char fingerprint[LOGTO_KEY_FP_LEN];
    /* Per algorithm the key fits (not EdDSA, which hashes internally): a
     * verify context prepared once, duplicated for each verification, which
     * spares OpenSSL's per-call look-ups. Read-only once the key is parsed. */
    EVP_PKEY_CTX *verify[LOGTO_ALG_COUNT];
    unsigned char ec_xy[2 * LOGTO_EC_MAX_COORD]; /* EC: the point, x then y, coord_len each */
    /* EC keys on a curve the fast verifier covers (logto_ecfast.h): the
     * key's table, NULL until logto_jwk_precompute publishes it (atomically,
     * once); verification uses it when present, OpenSSL otherwise. Freed by
     * a cleanup of the pool the key was parsed in. Read it through
     * logto_jwk_ec_table(). */
    volatile void *ec_table;
} logto_jwk_t;

typedef struct logto_jwks {
    apr_array_header_t *keys; /* of logto_jwk_t *, read as const logto_jwk_t * */
    int skipped;              /* members left out as unusable */
} logto_jwks_t;

/* Parses one JWK object given as JSON text. *why explains a refusal. */
apr_status_t logto_jwk_parse(apr_pool_t *p, const char *json, apr_size_t len, logto_jwk_t **key,
                             const char **why);

/* Parses a JWK Set document ({"keys": [...]}). Fails (APR_EINVAL, *why set)
 * when the document is not a JSON object with a "keys" array, or when not one
 * member is usable: such a set must never replace a good one. */
apr_status_t logto_jwks_parse(apr_pool_t *p, const char *json, apr_size_t len, logto_jwks_t **set,
                              const char **why);

/* The key for a token: by kid when the token has one; without a kid, the only
 * key of the algorithm's key type, if there is exactly one. The key must fit
 * the algorithm (kty, curve, and the JWK's own alg when present). NULL when no
 * key qualifies. */
const logto_jwk_t *logto_jwks_find(const logto_jwks_t *set, const char *kid, logto_alg_e alg);

/* Whether any key of the set has this kid. */
int logto_jwks_has_kid(const logto_jwks_t *set, const char *kid);

/* Whether key can verify alg: key type, curve and the JWK's own alg agree. */
int logto_jwk_fits_alg(const logto_jwk_t *key, logto_alg_e alg);

/* Builds the key's table for the fast ECDSA verifier and publishes it, when
 * the key is EC on a covered curve (for any other key there is nothing to
 * do: APR_SUCCESS). A P-384 table takes a few milliseconds and is made in
 * memory of its own, not from the key's pool, so it may be built on a
 * background thread while request threads verify with the same key; they use
 * OpenSSL until the table is published. The caller keeps the key (its pool)
 * alive until this returns; at most one precompute should run per key (a
 * second one only wastes its work: the first table published stays). Never
 * called by the parsers: fuzzers, the CLI and configuration checks parse key
 * sets without paying for tables. */
apr_status_t logto_jwk_precompute(logto_jwk_t *key);

/* logto_jwk_precompute for every key of the set, with the same rules: the
 * caller holds the set alive while it runs, and runs at most one per set.
 * Returns the first failure after trying every key (a key left without a
 * table still verifies, through OpenSSL). */
apr_status_t logto_jwks_precompute(logto_jwks_t *set);

/* The key's published table, or NULL. */
const logto_ecfast_key_t *logto_jwk_ec_table(const logto_jwk_t *key);

/* The RFC 7638 SHA-256 thumbprint of a public JWK given as JSON, base64url. */
apr_status_t logto_jwk_thumbprint(apr_pool_t *p, const char *json, apr_size_t len,
                                  const char **thumbprint);

#endif /* LOGTO_JWK_H */
