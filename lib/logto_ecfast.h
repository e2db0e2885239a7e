/* ECDSA verification (FIPS 186-4 section 6.4.2) with a precomputed table per
 * public key, for the issuer's few, long-lived keys.
 *
 * u1*G + u2*Q is computed as two fixed-base comb multiplications that share
 * their doublings (Hankerson, Menezes, Vanstone, Guide to Elliptic Curve
 * Cryptography, algorithm 3.44), over tables of 2^w - 1 affine points kept
 * per key Q and once per process for G. The arithmetic is our own: Montgomery
 * multiplication (CIOS) modulo p and the complete formulas of Renes, Costello
 * and Batina (EUROCRYPT 2016, algorithms 4 to 6, a = -3), which have no
 * exceptional cases (doubling, infinity, P + -P). Only public data is
 * handled, so nothing is constant-time. Every table is checked when built:
 * each point on the curve, the last one against OpenSSL's own scalar
 * multiplication.
 *
 * Compiled out with configure --disable-fast-ecdsa (LOGTO_NO_FAST_ECDSA):
 * then no curve is covered and every EC key takes OpenSSL's path. */
#ifndef LOGTO_ECFAST_H
#define LOGTO_ECFAST_H

#include <apr.h>
#include <apr_errno.h>

#include "logto_alg.h"

typedef struct logto_ecfast_key logto_ecfast_key_t;

/* Whether the fast verifier handles this curve: P-384 and P-521, where it
 * was measured faster than Debian 12's OpenSSL 3.0 (README, "The token cache
 * and performance"); not P-256, where OpenSSL's assembly is as fast. */
int logto_ecfast_covers(logto_crv_e crv);

/* Builds the table of the public point (x, y), big-endian, each exactly
 * the curve's coordinate size, in memory of its own (malloc, not a pool: it
 * may be built on one thread while others verify). The point must be on the
 * curve. APR_ENOTIMPL for a curve not covered; APR_EINVAL for a point not on
 * the curve; APR_ENOMEM; APR_EGENERAL when a check of the table fails. */
apr_status_t logto_ecfast_key_make(logto_crv_e crv, const unsigned char *x, const unsigned char *y,
                                   apr_size_t coord_len, logto_ecfast_key_t **key);

/* Frees a table (NULL is allowed). */
void logto_ecfast_key_free(logto_ecfast_key_t *key);

/* The bytes a table holds (its allocation). */
apr_size_t logto_ecfast_key_bytes(const logto_ecfast_key_t *key);

/* Verifies a raw r||s signature (RFC 7518 section 3.4: each half exactly the
 * coordinate size) over a message digest. The digest becomes an integer as
 * FIPS 186-4 says: its leftmost bits, as many as the order n has. Refuses
 * (APR_EINVAL) a signature of another size, r or s outside [1, n-1], R the
 * point at infinity, and x(R) mod n != r. APR_SUCCESS only for a valid
 * signature; any other status means "not verified". Thread-safe. */
apr_status_t logto_ecfast_verify(const logto_ecfast_key_t *key, const unsigned char *digest,
                                 apr_size_t digest_len, const unsigned char *sig,
                                 apr_size_t sig_len);

/* For the tests of the arithmetic itself: a op b modulo p (the field) or n
 * (the order, for scalars), through the Montgomery representation and back;
 * INV is a^-1 and ignores b (which may be NULL). Inputs big-endian, below
 * the modulus, coord_len bytes; out likewise. APR_EINVAL for an input out
 * of range or the inverse of 0. */
typedef enum { LOGTO_ECFAST_MOD_P, LOGTO_ECFAST_MOD_N } logto_ecfast_mod_e;
typedef enum {
    LOGTO_ECFAST_ADD,
    LOGTO_ECFAST_SUB,
    LOGTO_ECFAST_MUL,
    LOGTO_ECFAST_INV
} logto_ecfast_op_e;
apr_status_t logto_ecfast_field_op(logto_crv_e crv, logto_ecfast_mod_e mod, logto_ecfast_op_e op,
                                   const unsigned char *a, const unsigned char *b,
                                   unsigned char *out, apr_size_t coord_len);

/* For the tests of the point formulas: P1 + P2 (complete projective
 * addition), P1 + P2 with P2 taken as affine (mixed addition) and 2 * P1,
 * on affine points given as x||y (big-endian, 2 * coord_len bytes; NULL is
 * the point at infinity; P2 may not be NULL for mixed addition). The result
 * is written as x||y, or *infinity is set. */
typedef enum {
    LOGTO_ECFAST_POINT_ADD,
    LOGTO_ECFAST_POINT_ADD_AFFINE,
    LOGTO_ECFAST_POINT_DOUBLE
} logto_ecfast_point_op_e;
apr_status_t logto_ecfast_point_op(logto_crv_e crv, logto_ecfast_point_op_e op,
                                   const unsigned char *p1, const unsigned char *p2,
                                   unsigned char *out, int *infinity, apr_size_t coord_len);

#endif /* LOGTO_ECFAST_H */
