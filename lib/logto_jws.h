/* Compact JWS (RFC 7515 section 7.1) parsing and verification, with the checks
 * of RFC 8725: strict base64url, JSON objects parsed with duplicate members
 * rejected, the algorithm taken from an allow-list and bound to the key, unknown
 * "crit" refused, "jku", "x5u", "x5c" and "jwk" never used to find a key. */
#ifndef LOGTO_JWS_H
#define LOGTO_JWS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "logto_alg.h"
#include "logto_jwk.h"
#include "logto_result.h"

/* The longest token accepted, in bytes. Logto's tokens are well under 2 KiB;
 * the bound keeps a hostile header from costing more than a small parse. */
#define LOGTO_MAX_TOKEN_LEN 16384

/* Parse flags. */
#define LOGTO_JWS_PAYLOAD_ANY 0x1 /* payload need not be a JSON object (RFC test vectors) */

typedef struct logto_jws {
    logto_alg_e alg;
    const char *kid;         /* NULL when absent */
    const char *typ;         /* NULL when absent */
    json_t *header;          /* released by a cleanup of the parse pool */
    json_t *payload;         /* likewise; NULL with LOGTO_JWS_PAYLOAD_ANY and a non-object */
    const char *payload_raw; /* decoded payload bytes, NUL-terminated */
    apr_size_t payload_len;
    const char *signing_input; /* points into the token: header '.' payload */
    apr_size_t signing_input_len;
    const unsigned char *sig;
    apr_size_t sig_len;
} logto_jws_t;

/* Splits, decodes and parses a compact JWS. Refuses with: token_too_large,
 * opaque_token (no '.'), jwe_token (five parts), malformed (other part counts,
 * bad base64url, non-object or duplicate-member JSON, wrong header types),
 * alg_not_allowed ("none", HS*, anything unknown), crit_unsupported. */
apr_status_t logto_jws_parse(apr_pool_t *p, const char *token, apr_size_t len, int flags,
                             logto_jws_t **jws, logto_result_t *res);

/* Checks the header against the policy: the algorithm in alg_mask, and typ in
 * types (lower-case values without "application/"; NULL accepts any typ).
 * typ is compared case-insensitively, with an optional "application/" prefix
 * (RFC 9068 section 2.1). */
apr_status_t logto_jws_check_header(const logto_jws_t *jws, unsigned alg_mask,
                                    const apr_array_header_t *types, logto_result_t *res);

/* Verifies the signature with key. The key must fit the algorithm; ECDSA
 * signatures must be raw r||s of the curve's size with 0 < r, s < n. An EC
 * key with a published table (logto_jwk_precompute) is verified by the fast
 * verifier (logto_ecfast.h), any other key by OpenSSL. */
apr_status_t logto_jws_verify(const logto_jws_t *jws, const logto_jwk_t *key, logto_result_t *res);

#endif /* LOGTO_JWS_H */
