#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include "logto_ecfast.h"

#ifndef LOGTO_NO_FAST_ECDSA

/* ---- field elements ------------------------------------------------------- */

/* 64-bit limbs, least significant first: 6 for P-384, 9 for P-521. */
#define MAX_LIMBS 9
#define LIMB_BITS 64

/* n is a constant in each instance of the hot loops: let the compiler
 * unroll them (GCC and Clang both read this pragma). */
#define UNROLL _Pragma("GCC unroll 9")

typedef uint64_t limb_t;
typedef unsigned __int128 dlimb_t;

typedef struct {
    limb_t v[MAX_LIMBS];
} fe_t;

/* Arithmetic modulo an odd m of n limbs. Elements are kept in Montgomery
 * form a*R mod m, R = 2^(64 n), and always fully reduced (below m), so that
 * equal values have equal limbs. add and sub work in either form. */
typedef struct field field_t;
typedef void (*fe_op_fn)(fe_t *r, const fe_t *a, const fe_t *b, const field_t *f);
struct field {
    int n;
    fe_t m;
    limb_t m_inv;           /* -m^-1 mod 2^64 */
    fe_t rr;                /* R^2 mod m: to_mont(a) = mont_mul(a, R^2) */
    fe_t one;               /* R mod m: 1 in Montgomery form */
    fe_op_fn add, sub, mul; /* the instances for n limbs */
};

static int fe_is_zero(const fe_t *a, int n)
{
    limb_t acc = 0;
    int i;

    for (i = 0; i < n; i++) {
        acc |= a->v[i];
    }
    return acc == 0;
}

static int fe_equal(const fe_t *a, const fe_t *b, int n)
{
    return memcmp(a->v, b->v, (size_t)n * sizeof(limb_t)) == 0;
}

/* a < b as n-limb integers */
static int limbs_less(const limb_t *a, const limb_t *b, int n)
{
    int i;

    for (i = n - 1; i >= 0; i--) {
        if (a[i] != b[i]) {
            return a[i] < b[i];
        }
    }
    return 0;
}

/* r = a - b as n-limb integers; returns the borrow out (1 when a < b). */
static inline limb_t limbs_sub(limb_t *r, const limb_t *a, const limb_t *b, const int n)
{
    limb_t borrow = 0;
    int i;

    UNROLL
    for (i = 0; i < n; i++) {
        dlimb_t d = (dlimb_t)a[i] - b[i] - borrow;

        r[i] = (limb_t)d;
        borrow = (limb_t)(d >> LIMB_BITS) & 1;
    }
    return borrow;
}

/* r = a + b as n-limb integers; returns the carry out. */
static inline limb_t limbs_add(limb_t *r, const limb_t *a, const limb_t *b, const int n)
{
    dlimb_t acc = 0;
    int i;

    UNROLL
    for (i = 0; i < n; i++) {
        acc += (dlimb_t)a[i] + b[i];
        r[i] = (limb_t)acc;
        acc >>= LIMB_BITS;
    }
    return (limb_t)acc;
}

/* r = a + b mod m, for a, b < m. The sum is carry * 2^(64 n) + t; it is at
 * least m exactly when it carried out or t - m does not borrow, and then
 * t - m computed modulo 2^(64 n) is the result (it is below m). */
static inline void fe_add_n(fe_t *r, const fe_t *a, const fe_t *b, const field_t *f, const int n)
{
    limb_t t[MAX_LIMBS], u[MAX_LIMBS];
    limb_t carry = limbs_add(t, a->v, b->v, n);
    limb_t borrow = limbs_sub(u, t, f->m.v, n);

    memcpy(r->v, (carry || !borrow) ? u : t, (size_t)n * sizeof(limb_t));
}

/* r = a - b mod m, for a, b < m: a - b, plus m when it borrowed (the sum
 * then wraps past 2^(64 n), which is dropped). */
static inline void fe_sub_n(fe_t *r, const fe_t *a, const fe_t *b, const field_t *f, const int n)
{
    limb_t t[MAX_LIMBS];

    if (limbs_sub(t, a->v, b->v, n)) {
        (void)limbs_add(t, t, f->m.v, n);
    }
    memcpy(r->v, t, (size_t)n * sizeof(limb_t));
}

/* r = a * b / R mod m, for a, b < m: Montgomery multiplication, coarsely
 * integrated operand scanning (Koc, Acar, Kaliski 1996). r may be a or b.
 * Each step x + y * z + c with 64-bit x, y, z, c is at most 2^128 - 1, so it
 * fits in dlimb_t. Round i makes t = (t + a b_i + q m) / 2^64, exact since q
 * zeroes the low limb; with t < 2m on entry, the new t is at most
 * (2m - 1 + (m - 1)(2^64 - 1) + (2^64 - 1) m) / 2^64 < 2m. So t fits in
 * n + 1 limbs (t[n] is 0 or 1; t[n + 1] only holds a carry within the
 * round), and one conditional subtraction of m ends below m. */
static inline void mont_mul_n(fe_t *r, const fe_t *a, const fe_t *b, const field_t *f, const int n)
{
    limb_t t[MAX_LIMBS + 2] = {0};
    limb_t u[MAX_LIMBS];
    int i, j;

    UNROLL
    for (i = 0; i < n; i++) {
        dlimb_t acc = 0;
        limb_t q;

        /* t += a * b_i */
        UNROLL
        for (j = 0; j < n; j++) {
            acc += (dlimb_t)a->v[j] * b->v[i] + t[j];
            t[j] = (limb_t)acc;
            acc >>= LIMB_BITS;
        }
        acc += t[n];
        t[n] = (limb_t)acc;
        t[n + 1] = (limb_t)(acc >> LIMB_BITS);
        /* t = (t + q * m) / 2^64, q chosen so that the low limb is 0 */
        q = t[0] * f->m_inv;
        acc = (dlimb_t)q * f->m.v[0] + t[0];
        acc >>= LIMB_BITS;
        UNROLL
        for (j = 1; j < n; j++) {
            acc += (dlimb_t)q * f->m.v[j] + t[j];
            t[j - 1] = (limb_t)acc;
            acc >>= LIMB_BITS;
        }
        acc += t[n];
        t[n - 1] = (limb_t)acc;
        t[n] = t[n + 1] + (limb_t)(acc >> LIMB_BITS);
    }
    /* t < 2m: subtract m once if t >= m */
    if (limbs_sub(u, t, f->m.v, n) == 0 || t[n]) {
        memcpy(r->v, u, (size_t)n * sizeof(limb_t));
    }
    else {
        memcpy(r->v, t, (size_t)n * sizeof(limb_t));
    }
}

/* The instances: 6 limbs for P-384, 9 for P-521, each with a constant n
 * so that the loops unroll. */
static void fe_add_6(fe_t *r, const fe_t *a, const fe_t *b, const field_t *f)
{
    fe_add_n(r, a, b, f, 6);
}

static void fe_sub_6(fe_t *r, const fe_t *a, const fe_t *b, const field_t *f)
{
    fe_sub_n(r, a, b, f, 6);
}

static void mont_mul_6(fe_t *r, const fe_t *a, const fe_t *b, const field_t *f)
{
    mont_mul_n(r, a, b, f, 6);
}

static void fe_add_9(fe_t *r, const fe_t *a, const fe_t *b, const field_t *f)
{
    fe_add_n(r, a, b, f, 9);
}

static void fe_sub_9(fe_t *r, const fe_t *a, const fe_t *b, const field_t *f)
{
    fe_sub_n(r, a, b, f, 9);
}

static void mont_mul_9(fe_t *r, const fe_t *a, const fe_t *b, const field_t *f)
{
    mont_mul_n(r, a, b, f, 9);
}

static void fe_to_mont(fe_t *r, const fe_t *a, const field_t *f)
{
    f->mul(r, a, &f->rr, f);
}

static void fe_from_mont(fe_t *r, const fe_t *a, const field_t *f)
{
    fe_t one = {{1}};

    f->mul(r, a, &one, f);
}

/* Big-endian bytes (exactly len of them, len <= 8 n) to limbs. */
static void fe_from_bytes(fe_t *r, const unsigned char *in, apr_size_t len, int n)
{
    apr_size_t i;

    memset(r, 0, sizeof(*r));
    for (i = 0; i < len && i < (apr_size_t)n * 8; i++) {
        r->v[i / 8] |= (limb_t)in[len - 1 - i] << (8 * (i % 8));
    }
}

/* Limbs to big-endian bytes, len of them (the value must fit). */
static void fe_to_bytes(unsigned char *out, const fe_t *a, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        out[len - 1 - i] = (i / 8 < MAX_LIMBS) ? (unsigned char)(a->v[i / 8] >> (8 * (i % 8))) : 0;
    }
}

static apr_status_t fe_from_bn(fe_t *r, const BIGNUM *bn, int n)
{
    unsigned char buf[MAX_LIMBS * 8];

    if (BN_is_negative(bn) || BN_bn2binpad(bn, buf, n * 8) != n * 8) {
        return APR_EINVAL;
    }
    fe_from_bytes(r, buf, (apr_size_t)n * 8, n);
    return APR_SUCCESS;
}

static BIGNUM *fe_to_bn(const fe_t *a, int n)
{
    unsigned char buf[MAX_LIMBS * 8];

    fe_to_bytes(buf, a, (apr_size_t)n * 8);
    return BN_bin2bn(buf, n * 8, NULL);
}

static int limbs_is_one(const fe_t *a, int n)
{
    limb_t acc = a->v[0] ^ 1;
    int i;

    for (i = 1; i < n; i++) {
        acc |= a->v[i];
    }
    return acc == 0;
}

/* a >>= k for 0 < k < 64. */
static void limbs_shr(fe_t *a, int k, int n)
{
    int i;

    for (i = 0; i < n - 1; i++) {
        a->v[i] = (a->v[i] >> k) | (a->v[i + 1] << (LIMB_BITS - k));
    }
    a->v[n - 1] >>= k;
}

/* x = x / 2 mod m for x < m, m odd: x >> 1 when x is even, else
 * (x + m) >> 1, whose sum may carry out of the n limbs. */
static void half_mod(fe_t *x, const field_t *f)
{
    const int n = f->n;
    limb_t carry = 0;

    if (x->v[0] & 1) {
        carry = limbs_add(x->v, x->v, f->m.v, n);
    }
    limbs_shr(x, 1, n);
    x->v[n - 1] |= carry << (LIMB_BITS - 1);
}

/* r = a^-1 mod m, plain values (not Montgomery), 0 < a < m, m an odd prime:
 * binary inversion (HMV algorithm 2.22). Invariants: x1 a = u and
 * x2 a = v (mod m), u and v positive, x1 and x2 below m; every round strips
 * u and v of their factors 2 and subtracts the smaller from the larger, so
 * it ends with u or v equal to 1. Variable time: only public values are
 * inverted. Callers check the result (a r = 1) where it matters. */
static apr_status_t limbs_inverse(fe_t *r, const fe_t *a, const field_t *f)
{
    const int n = f->n;
    fe_t u = *a, v = f->m, x1 = {{1}}, x2 = {{0}};

    if (fe_is_zero(a, n) || !limbs_less(a->v, f->m.v, n)) {
        return APR_EINVAL;
    }
    while (!limbs_is_one(&u, n) && !limbs_is_one(&v, n)) {
        if (fe_is_zero(&u, n) || fe_is_zero(&v, n)) {
            return APR_EINVAL; /* gcd(a, m) > 1: m is not prime */
        }
        while (!(u.v[0] & 1)) {
            limbs_shr(&u, 1, n);
            half_mod(&x1, f);
        }
        while (!(v.v[0] & 1)) {
            limbs_shr(&v, 1, n);
            half_mod(&x2, f);
        }
        if (!limbs_less(u.v, v.v, n)) {
            (void)limbs_sub(u.v, u.v, v.v, n);
            f->sub(&x1, &x1, &x2, f);
        }
        else {
            (void)limbs_sub(v.v, v.v, u.v, n);
            f->sub(&x2, &x2, &x1, f);
        }
    }
    *r = limbs_is_one(&u, n) ? x1 : x2;
    return APR_SUCCESS;
}

/* r = 1 / a, both in Montgomery form. */
static apr_status_t fe_inv(fe_t *r, const fe_t *a, const field_t *f)
{
    fe_t plain;
    apr_status_t rv;

    fe_from_mont(&plain, a, f);
    if ((rv = limbs_inverse(&plain, &plain, f)) == APR_SUCCESS) {
        fe_to_mont(r, &plain, f);
    }
    return rv;
}

/* Sets up arithmetic modulo m (odd, below 2^(64 n)). */
static apr_status_t field_init(field_t *f, const BIGNUM *m, int n, BN_CTX *ctx)
{
    BIGNUM *r2;
    limb_t inv = 1;
    apr_status_t rv = APR_EGENERAL;
    int i;

    f->n = n;
    switch (n) {
    case 6:
        f->add = fe_add_6;
        f->sub = fe_sub_6;
        f->mul = mont_mul_6;
        break;
    case 9:
        f->add = fe_add_9;
        f->sub = fe_sub_9;
        f->mul = mont_mul_9;
        break;
    default:
        return APR_EINVAL;
    }
    r2 = BN_new();
    if (r2 && BN_is_odd(m) && BN_num_bits(m) <= n * LIMB_BITS
        && fe_from_bn(&f->m, m, n) == APR_SUCCESS) {
        /* Newton's iteration doubles the correct low bits of m^-1 mod 2^64
         * each round: 1, 2, 4, ..., 64 after six rounds. */
        for (i = 0; i < 6; i++) {
            inv *= 2 - f->m.v[0] * inv;
        }
        f->m_inv = (limb_t)0 - inv;
        /* R^2 mod m, then R mod m as R^2 / R */
        if (f->m.v[0] * inv == 1 && BN_set_bit(r2, 2 * n * LIMB_BITS) && BN_nnmod(r2, r2, m, ctx)
            && fe_from_bn(&f->rr, r2, n) == APR_SUCCESS) {
            fe_from_mont(&f->one, &f->rr, f);
            rv = APR_SUCCESS;
        }
    }
    BN_free(r2);
    return rv;
}

/* ---- points ---------------------------------------------------------------- */

/* Homogeneous projective coordinates: (X : Y : Z) is the affine point
 * (X/Z, Y/Z); Z = 0 is the point at infinity, (0 : 1 : 0) when made here. */
typedef struct {
    fe_t x, y, z;
} point_t;

typedef struct curve curve_t;

/* Tables hold the points [a_(w-1) ... a_0] = sum of a_i 2^(i d) P for
 * index a = 1 .. 2^w - 1 (0, the point at infinity, is never looked up), as
 * affine x then y in Montgomery form, n limbs each. */
struct logto_ecfast_key {
    const curve_t *curve;
    apr_size_t bytes;
    limb_t points[];
};

struct curve {
    logto_crv_e crv;
    int nid;
    int teeth; /* w: a table holds 2^w - 1 points */
    /* set once per process by curves_init, read-only afterwards */
    int ready;
    int bits;         /* of the order n */
    int cols;         /* d = ceil(bits / w), the comb's columns */
    apr_size_t bytes; /* of a coordinate, r and s */
    field_t fp;       /* modulo p: coordinates */
    field_t fn;       /* modulo the order n: scalars (fn.m is n) */
    fe_t b;           /* the curve's b, Montgomery form (a is -3) */
    logto_ecfast_key_t *g_table;
};

/* Only the curves measured faster than Debian 12's OpenSSL 3.0 (README,
 * "Performance"): P-384, which OpenSSL 3.0 verifies with generic code,
 * about 4.5 times, and P-521 about 1.3 times. Not P-256: OpenSSL's own
 * assembly for it was as fast as our tables (0.95x to 1.15x with 10 to 12
 * teeth). 10 teeth: 1023 points a table (96 KiB for P-384), a few
 * milliseconds to build; more teeth gained under 5%. */
static curve_t curves[] = {
    {.crv = LOGTO_CRV_P384, .nid = NID_secp384r1, .teeth = 10},
    {.crv = LOGTO_CRV_P521, .nid = NID_secp521r1, .teeth = 10},
};

#define N_CURVES (sizeof(curves) / sizeof(curves[0]))

static const curve_t *curve_for(logto_crv_e crv)
{
    apr_size_t i;

    for (i = 0; i < N_CURVES; i++) {
        if (curves[i].crv == crv) {
            return &curves[i];
        }
    }
    return NULL;
}

static void point_set_infinity(point_t *r, const curve_t *c)
{
    memset(r, 0, sizeof(*r));
    r->y = c->fp.one;
}

/* P1 + P2, complete: Renes, Costello, Batina 2016, algorithm 4 (a = -3),
 * step for step. Correct for every pair of points of a prime-order curve,
 * the point at infinity, equal and opposite points included. */
static void point_add(point_t *out, const point_t *p1, const point_t *p2, const curve_t *c)
{
    const field_t *f = &c->fp;
    fe_t t0, t1, t2, t3, t4, x3, y3, z3;

    f->mul(&t0, &p1->x, &p2->x, f); /* 1 */
    f->mul(&t1, &p1->y, &p2->y, f); /* 2 */
    f->mul(&t2, &p1->z, &p2->z, f); /* 3 */
    f->add(&t3, &p1->x, &p1->y, f); /* 4 */
    f->add(&t4, &p2->x, &p2->y, f); /* 5 */
    f->mul(&t3, &t3, &t4, f);       /* 6 */
    f->add(&t4, &t0, &t1, f);       /* 7 */
    f->sub(&t3, &t3, &t4, f);       /* 8 */
    f->add(&t4, &p1->y, &p1->z, f); /* 9 */
    f->add(&x3, &p2->y, &p2->z, f); /* 10 */
    f->mul(&t4, &t4, &x3, f);       /* 11 */
    f->add(&x3, &t1, &t2, f);       /* 12 */
    f->sub(&t4, &t4, &x3, f);       /* 13 */
    f->add(&x3, &p1->x, &p1->z, f); /* 14 */
    f->add(&y3, &p2->x, &p2->z, f); /* 15 */
    f->mul(&x3, &x3, &y3, f);       /* 16 */
    f->add(&y3, &t0, &t2, f);       /* 17 */
    f->sub(&y3, &x3, &y3, f);       /* 18 */
    f->mul(&z3, &c->b, &t2, f);     /* 19 */
    f->sub(&x3, &y3, &z3, f);       /* 20 */
    f->add(&z3, &x3, &x3, f);       /* 21 */
    f->add(&x3, &x3, &z3, f);       /* 22 */
    f->sub(&z3, &t1, &x3, f);       /* 23 */
    f->add(&x3, &t1, &x3, f);       /* 24 */
    f->mul(&y3, &c->b, &y3, f);     /* 25 */
    f->add(&t1, &t2, &t2, f);       /* 26 */
    f->add(&t2, &t1, &t2, f);       /* 27 */
    f->sub(&y3, &y3, &t2, f);       /* 28 */
    f->sub(&y3, &y3, &t0, f);       /* 29 */
    f->add(&t1, &y3, &y3, f);       /* 30 */
    f->add(&y3, &t1, &y3, f);       /* 31 */
    f->add(&t1, &t0, &t0, f);       /* 32 */
    f->add(&t0, &t1, &t0, f);       /* 33 */
    f->sub(&t0, &t0, &t2, f);       /* 34 */
    f->mul(&t1, &t4, &y3, f);       /* 35 */
    f->mul(&t2, &t0, &y3, f);       /* 36 */
    f->mul(&y3, &x3, &z3, f);       /* 37 */
    f->add(&y3, &y3, &t2, f);       /* 38 */
    f->mul(&x3, &t3, &x3, f);       /* 39 */
    f->sub(&x3, &x3, &t1, f);       /* 40 */
    f->mul(&z3, &t4, &z3, f);       /* 41 */
    f->mul(&t1, &t3, &t0, f);       /* 42 */
    f->add(&z3, &z3, &t1, f);       /* 43 */
    out->x = x3;
    out->y = y3;
    out->z = z3;
}

/* P1 + (x2, y2), P2 affine, so never the point at infinity: algorithm 5
 * (a = -3), step for step; complete under that condition. */
static void point_add_affine(point_t *out, const point_t *p1, const fe_t *x2, const fe_t *y2,
                             const curve_t *c)
{
    const field_t *f = &c->fp;
    fe_t t0, t1, t2, t3, t4, x3, y3, z3;

    f->mul(&t0, &p1->x, x2, f);     /* 1 */
    f->mul(&t1, &p1->y, y2, f);     /* 2 */
    f->add(&t3, x2, y2, f);         /* 3 */
    f->add(&t4, &p1->x, &p1->y, f); /* 4 */
    f->mul(&t3, &t3, &t4, f);       /* 5 */
    f->add(&t4, &t0, &t1, f);       /* 6 */
    f->sub(&t3, &t3, &t4, f);       /* 7 */
    f->mul(&t4, y2, &p1->z, f);     /* 8 */
    f->add(&t4, &t4, &p1->y, f);    /* 9 */
    f->mul(&y3, x2, &p1->z, f);     /* 10 */
    f->add(&y3, &y3, &p1->x, f);    /* 11 */
    f->mul(&z3, &c->b, &p1->z, f);  /* 12 */
    f->sub(&x3, &y3, &z3, f);       /* 13 */
    f->add(&z3, &x3, &x3, f);       /* 14 */
    f->add(&x3, &x3, &z3, f);       /* 15 */
    f->sub(&z3, &t1, &x3, f);       /* 16 */
    f->add(&x3, &t1, &x3, f);       /* 17 */
    f->mul(&y3, &c->b, &y3, f);     /* 18 */
    f->add(&t1, &p1->z, &p1->z, f); /* 19 */
    f->add(&t2, &t1, &p1->z, f);    /* 20 */
    f->sub(&y3, &y3, &t2, f);       /* 21 */
    f->sub(&y3, &y3, &t0, f);       /* 22 */
    f->add(&t1, &y3, &y3, f);       /* 23 */
    f->add(&y3, &t1, &y3, f);       /* 24 */
    f->add(&t1, &t0, &t0, f);       /* 25 */
    f->add(&t0, &t1, &t0, f);       /* 26 */
    f->sub(&t0, &t0, &t2, f);       /* 27 */
    f->mul(&t1, &t4, &y3, f);       /* 28 */
    f->mul(&t2, &t0, &y3, f);       /* 29 */
    f->mul(&y3, &x3, &z3, f);       /* 30 */
    f->add(&y3, &y3, &t2, f);       /* 31 */
    f->mul(&x3, &t3, &x3, f);       /* 32 */
    f->sub(&x3, &x3, &t1, f);       /* 33 */
    f->mul(&z3, &t4, &z3, f);       /* 34 */
    f->mul(&t1, &t3, &t0, f);       /* 35 */
    f->add(&z3, &z3, &t1, f);       /* 36 */
    out->x = x3;
    out->y = y3;
    out->z = z3;
}

/* 2 * P, exception-free: algorithm 6 (a = -3), step for step. */
static void point_double(point_t *out, const point_t *p, const curve_t *c)
{
    const field_t *f = &c->fp;
    fe_t t0, t1, t2, t3, x3, y3, z3;

    f->mul(&t0, &p->x, &p->x, f); /* 1 */
    f->mul(&t1, &p->y, &p->y, f); /* 2 */
    f->mul(&t2, &p->z, &p->z, f); /* 3 */
    f->mul(&t3, &p->x, &p->y, f); /* 4 */
    f->add(&t3, &t3, &t3, f);     /* 5 */
    f->mul(&z3, &p->x, &p->z, f); /* 6 */
    f->add(&z3, &z3, &z3, f);     /* 7 */
    f->mul(&y3, &c->b, &t2, f);   /* 8 */
    f->sub(&y3, &y3, &z3, f);     /* 9 */
    f->add(&x3, &y3, &y3, f);     /* 10 */
    f->add(&y3, &x3, &y3, f);     /* 11 */
    f->sub(&x3, &t1, &y3, f);     /* 12 */
    f->add(&y3, &t1, &y3, f);     /* 13 */
    f->mul(&y3, &x3, &y3, f);     /* 14 */
    f->mul(&x3, &x3, &t3, f);     /* 15 */
    f->add(&t3, &t2, &t2, f);     /* 16 */
    f->add(&t2, &t2, &t3, f);     /* 17 */
    f->mul(&z3, &c->b, &z3, f);   /* 18 */
    f->sub(&z3, &z3, &t2, f);     /* 19 */
    f->sub(&z3, &z3, &t0, f);     /* 20 */
    f->add(&t3, &z3, &z3, f);     /* 21 */
    f->add(&z3, &z3, &t3, f);     /* 22 */
    f->add(&t3, &t0, &t0, f);     /* 23 */
    f->add(&t0, &t3, &t0, f);     /* 24 */
    f->sub(&t0, &t0, &t2, f);     /* 25 */
    f->mul(&t0, &t0, &z3, f);     /* 26 */
    f->add(&y3, &y3, &t0, f);     /* 27 */
    f->mul(&t0, &p->y, &p->z, f); /* 28 */
    f->add(&t0, &t0, &t0, f);     /* 29 */
    f->mul(&z3, &t0, &z3, f);     /* 30 */
    f->sub(&x3, &x3, &z3, f);     /* 31 */
    f->mul(&z3, &t0, &t1, f);     /* 32 */
    f->add(&z3, &z3, &z3, f);     /* 33 */
    f->add(&z3, &z3, &z3, f);     /* 34 */
    out->x = x3;
    out->y = y3;
    out->z = z3;
}

/* y^2 = x^3 - 3x + b, affine, Montgomery form. */
static int on_curve(const fe_t *x, const fe_t *y, const curve_t *c)
{
    const field_t *f = &c->fp;
    fe_t lhs, rhs, t;

    f->mul(&lhs, y, y, f);
    f->mul(&rhs, x, x, f);
    f->mul(&rhs, &rhs, x, f);
    f->add(&t, x, x, f);
    f->add(&t, &t, x, f);
    f->sub(&rhs, &rhs, &t, f);
    f->add(&rhs, &rhs, &c->b, f);
    return fe_equal(&lhs, &rhs, f->n);
}

/* ---- tables ---------------------------------------------------------------- */

static apr_size_t table_points(const curve_t *c)
{
    return ((apr_size_t)1 << c->teeth) - 1;
}

/* The entry of index idx (1 .. 2^w - 1): x then y. */
static const limb_t *table_entry(const logto_ecfast_key_t *t, unsigned idx)
{
    return t->points + (apr_size_t)(idx - 1) * 2 * (apr_size_t)t->curve->fp.n;
}

static void entry_load(const logto_ecfast_key_t *t, unsigned idx, fe_t *x, fe_t *y)
{
    const limb_t *e = table_entry(t, idx);
    size_t n = (size_t)t->curve->fp.n;

    memcpy(x->v, e, n * sizeof(limb_t));
    memcpy(y->v, e + n, n * sizeof(limb_t));
}

/* OpenSSL's k * (x, y) for k = sum of 2^(i d), i < w: the last entry of the
 * table, made by the other implementation. */
static apr_status_t check_last_entry(const logto_ecfast_key_t *t, const fe_t *x, const fe_t *y)
{
    const curve_t *c = t->curve;
    const field_t *f = &c->fp;
    EC_GROUP *group = EC_GROUP_new_by_curve_name(c->nid);
    BN_CTX *ctx = BN_CTX_new();
    EC_POINT *base = group ? EC_POINT_new(group) : NULL;
    EC_POINT *prod = group ? EC_POINT_new(group) : NULL;
    BIGNUM *k = BN_new(), *bx = NULL, *by = NULL, *ox = BN_new(), *oy = BN_new();
    fe_t px, py, ex, ey;
    apr_status_t rv = APR_ENOMEM;
    int i;

    fe_from_mont(&px, x, f);
    fe_from_mont(&py, y, f);
    bx = fe_to_bn(&px, f->n);
    by = fe_to_bn(&py, f->n);
    if (group && ctx && base && prod && k && bx && by && ox && oy) {
        rv = APR_EGENERAL;
        BN_zero(k);
        for (i = 0; i < c->teeth; i++) {
            if (!BN_set_bit(k, i * c->cols)) {
                goto leave;
            }
        }
        entry_load(t, (unsigned)table_points(c), &ex, &ey);
        fe_from_mont(&ex, &ex, f);
        fe_from_mont(&ey, &ey, f);
        if (EC_POINT_set_affine_coordinates(group, base, bx, by, ctx) == 1
            && EC_POINT_mul(group, prod, NULL, base, k, ctx) == 1
            && EC_POINT_get_affine_coordinates(group, prod, ox, oy, ctx) == 1
            && fe_from_bn(&px, ox, f->n) == APR_SUCCESS && fe_from_bn(&py, oy, f->n) == APR_SUCCESS
            && fe_equal(&px, &ex, f->n) && fe_equal(&py, &ey, f->n)) {
            rv = APR_SUCCESS;
        }
    }
leave:
    BN_free(oy);
    BN_free(ox);
    BN_free(by);
    BN_free(bx);
    BN_free(k);
    EC_POINT_free(prod);
    EC_POINT_free(base);
    BN_CTX_free(ctx);
    EC_GROUP_free(group);
    ERR_clear_error();
    return rv;
}

/* The comb table of the affine point (x, y), Montgomery form, on the curve. */
static apr_status_t table_make(const curve_t *c, const fe_t *x, const fe_t *y,
                               logto_ecfast_key_t **out)
{
    const field_t *f = &c->fp;
    const apr_size_t count = table_points(c);
    const size_t n = (size_t)f->n;
    point_t base[16], *proj = NULL;
    fe_t *prefix = NULL, inv, zinv, ex, ey;
    logto_ecfast_key_t *t;
    apr_size_t bytes = sizeof(*t) + count * 2 * n * sizeof(limb_t);
    apr_size_t idx;
    apr_status_t rv = APR_ENOMEM;
    int i, j;

    *out = NULL;
    if (c->teeth > (int)(sizeof(base) / sizeof(base[0])) || !on_curve(x, y, c)) {
        return APR_EINVAL;
    }
    t = malloc(bytes);
    proj = malloc((count + 1) * sizeof(*proj));
    prefix = malloc((count + 1) * sizeof(*prefix));
    if (!t || !proj || !prefix) {
        goto leave;
    }
    t->curve = c;
    t->bytes = bytes;
    /* base[i] = 2^(i d) P */
    base[0].x = *x;
    base[0].y = *y;
    base[0].z = f->one;
    for (i = 1; i < c->teeth; i++) {
        base[i] = base[i - 1];
        for (j = 0; j < c->cols; j++) {
            point_double(&base[i], &base[i], c);
        }
    }
    /* proj[idx] = proj[idx without its top bit] + base[top bit] */
    for (idx = 1; idx <= count; idx++) {
        int top = 0;

        while ((idx >> (top + 1)) != 0) {
            top++;
        }
        if (idx == ((apr_size_t)1 << top)) {
            proj[idx] = base[top];
        }
        else {
            point_add(&proj[idx], &proj[idx ^ ((apr_size_t)1 << top)], &base[top], c);
        }
    }
    /* To affine with one inversion (Montgomery's trick): prefix[idx] is the
     * product of the Z of entries 1 .. idx. No entry may be the point at
     * infinity: its index would be a multiple of the order, which no sum of
     * distinct 2^(i d) below 2^(w d) < 2n is. */
    rv = APR_EGENERAL;
    prefix[0] = f->one;
    for (idx = 1; idx <= count; idx++) {
        if (fe_is_zero(&proj[idx].z, f->n)) {
            goto leave;
        }
        f->mul(&prefix[idx], &prefix[idx - 1], &proj[idx].z, f);
    }
    if (fe_inv(&inv, &prefix[count], f) != APR_SUCCESS) {
        goto leave;
    }
    for (idx = count; idx >= 1; idx--) {
        limb_t *e = t->points + (idx - 1) * 2 * n;

        f->mul(&zinv, &inv, &prefix[idx - 1], f); /* 1 / Z_idx */
        f->mul(&inv, &inv, &proj[idx].z, f);      /* 1 / (Z_1 ... Z_(idx-1)) */
        f->mul(&ex, &proj[idx].x, &zinv, f);
        f->mul(&ey, &proj[idx].y, &zinv, f);
        if (!on_curve(&ex, &ey, c)) {
            goto leave;
        }
        memcpy(e, ex.v, n * sizeof(limb_t));
        memcpy(e + n, ey.v, n * sizeof(limb_t));
    }
    if ((rv = check_last_entry(t, x, y)) != APR_SUCCESS) {
        goto leave;
    }
    *out = t;
    t = NULL;
leave:
    free(prefix);
    free(proj);
    free(t);
    return rv;
}

/* ---- the curves, once per process ------------------------------------------ */

static CRYPTO_ONCE curves_once = CRYPTO_ONCE_STATIC_INIT;

/* Reads the curve's constants from OpenSSL and builds G's table. The
 * formulas need a = -3, the final comparison n < p < 2n; a curve that does
 * not fit stays not ready (and its keys take OpenSSL's path). */
static void curve_init(curve_t *c, BN_CTX *ctx)
{
    EC_GROUP *group = EC_GROUP_new_by_curve_name(c->nid);
    BIGNUM *p = BN_new(), *a = BN_new(), *b = BN_new(), *gx = BN_new(), *gy = BN_new();
    BIGNUM *twice_n = BN_new();
    const BIGNUM *order;
    fe_t x, y;
    int n;

    if (!group || !p || !a || !b || !gx || !gy || !twice_n
        || EC_GROUP_get_curve(group, p, a, b, ctx) != 1
        || EC_POINT_get_affine_coordinates(group, EC_GROUP_get0_generator(group), gx, gy, ctx) != 1
        || !(order = EC_GROUP_get0_order(group))) {
        goto leave;
    }
    n = (BN_num_bits(p) + LIMB_BITS - 1) / LIMB_BITS;
    c->bits = BN_num_bits(order);
    c->cols = (c->bits + c->teeth - 1) / c->teeth;
    c->bytes = (apr_size_t)BN_num_bytes(p);
    if (n > MAX_LIMBS || field_init(&c->fp, p, n, ctx) != APR_SUCCESS
        || field_init(&c->fn, order, n, ctx) != APR_SUCCESS || !BN_add_word(a, 3)
        || BN_cmp(a, p) != 0 /* a = p - 3 */
        || BN_cmp(order, p) >= 0 || !BN_lshift1(twice_n, order) || BN_cmp(p, twice_n) >= 0
        || fe_from_bn(&c->b, b, n) != APR_SUCCESS || fe_from_bn(&x, gx, n) != APR_SUCCESS
        || fe_from_bn(&y, gy, n) != APR_SUCCESS) {
        goto leave;
    }
    fe_to_mont(&c->b, &c->b, &c->fp);
    fe_to_mont(&x, &x, &c->fp);
    fe_to_mont(&y, &y, &c->fp);
    c->ready = table_make(c, &x, &y, &c->g_table) == APR_SUCCESS;
leave:
    BN_free(twice_n);
    BN_free(gy);
    BN_free(gx);
    BN_free(b);
    BN_free(a);
    BN_free(p);
    EC_GROUP_free(group);
    ERR_clear_error();
}

static void curves_init(void)
{
    BN_CTX *ctx = BN_CTX_new();
    apr_size_t i;

    for (i = 0; ctx && i < N_CURVES; i++) {
        curve_init(&curves[i], ctx);
    }
    BN_CTX_free(ctx);
}

/* The curve, set up, or NULL. */
static const curve_t *curve_ready(logto_crv_e crv)
{
    const curve_t *c = curve_for(crv);

    if (!c || !CRYPTO_THREAD_run_once(&curves_once, curves_init) || !c->ready) {
        return NULL;
    }
    return c;
}

/* ---- verification ---------------------------------------------------------- */

/* Bit i of the scalar k (n limbs), 0 past its end. */
static unsigned scalar_bit(const fe_t *k, int i, int n)
{
    return (i < n * LIMB_BITS) ? (unsigned)(k->v[i / LIMB_BITS] >> (i % LIMB_BITS)) & 1u : 0u;
}

/* The comb's table index for column j: bits j + i d of k, i = w-1 .. 0. */
static unsigned comb_index(const fe_t *k, int j, const curve_t *c)
{
    unsigned idx = 0;
    int i;

    for (i = c->teeth - 1; i >= 0; i--) {
        idx = (idx << 1) | scalar_bit(k, i * c->cols + j, c->fp.n);
    }
    return idx;
}

/* u1 * G + u2 * Q: HMV algorithm 3.44 on both tables at once,
 * sum over columns j of 2^j (G[col_j(u1)] + Q[col_j(u2)]). */
static void double_comb(point_t *r, const fe_t *u1, const fe_t *u2, const logto_ecfast_key_t *q,
                        const curve_t *c)
{
    fe_t x, y;
    int j, started = 0;

    point_set_infinity(r, c);
    for (j = c->cols - 1; j >= 0; j--) {
        unsigned g_idx = comb_index(u1, j, c), q_idx = comb_index(u2, j, c);

        if (started) {
            point_double(r, r, c);
        }
        if (g_idx) {
            entry_load(c->g_table, g_idx, &x, &y);
            point_add_affine(r, r, &x, &y, c);
            started = 1;
        }
        if (q_idx) {
            entry_load(q, q_idx, &x, &y);
            point_add_affine(r, r, &x, &y, c);
            started = 1;
        }
    }
}

/* x(R) mod n == r, without inverting Z. x = X/Z lies in [0, p) and
 * n < p < 2n, so x mod n is x or x - n: it equals r exactly when
 * X = r Z, or when r + n < p and X = (r + n) Z. R must not be infinity. */
static int x_matches(const point_t *rp, const fe_t *r, const curve_t *c)
{
    const field_t *f = &c->fp;
    fe_t rm, t, rn;
    dlimb_t acc = 0;
    int i;

    if (fe_is_zero(&rp->z, f->n)) {
        return 0;
    }
    fe_to_mont(&rm, r, f);
    f->mul(&t, &rm, &rp->z, f);
    if (fe_equal(&t, &rp->x, f->n)) {
        return 1;
    }
    memset(&rn, 0, sizeof(rn));
    for (i = 0; i < f->n; i++) {
        acc += (dlimb_t)r->v[i] + c->fn.m.v[i];
        rn.v[i] = (limb_t)acc;
        acc >>= LIMB_BITS;
    }
    if (acc || !limbs_less(rn.v, f->m.v, f->n)) {
        return 0;
    }
    fe_to_mont(&rm, &rn, f);
    f->mul(&t, &rm, &rp->z, f);
    return fe_equal(&t, &rp->x, f->n);
}

/* e: the leftmost bits of the digest, as many as n has (FIPS 186-4
 * section 6.4), then reduced below n: e < 2^bits(n) < 2n, so one
 * subtraction does. */
static void digest_scalar(fe_t *e, const unsigned char *digest, apr_size_t len, const curve_t *c)
{
    const int n = c->fn.n;
    const apr_size_t bits = (apr_size_t)c->bits;

    if (8 * len > bits) {
        apr_size_t used = (bits + 7) / 8;

        fe_from_bytes(e, digest, used, n);
        if (8 * used > bits) {
            limbs_shr(e, (int)(8 * used - bits), n);
        }
    }
    else {
        fe_from_bytes(e, digest, len, n);
    }
    if (!limbs_less(e->v, c->fn.m.v, n)) {
        (void)limbs_sub(e->v, e->v, c->fn.m.v, n);
    }
}

apr_status_t logto_ecfast_verify(const logto_ecfast_key_t *key, const unsigned char *digest,
                                 apr_size_t digest_len, const unsigned char *sig,
                                 apr_size_t sig_len)
{
    const curve_t *c = key->curve;
    const field_t *fn = &c->fn;
    const apr_size_t half = c->bytes;
    fe_t r, s, e, w, check, u1, u2;
    point_t rp;

    if (sig_len != 2 * half || half > (apr_size_t)fn->n * sizeof(limb_t)) {
        return APR_EINVAL;
    }
    fe_from_bytes(&r, sig, half, fn->n);
    fe_from_bytes(&s, sig + half, half, fn->n);
    /* 1 <= r, s <= n - 1 */
    if (fe_is_zero(&r, fn->n) || fe_is_zero(&s, fn->n) || !limbs_less(r.v, fn->m.v, fn->n)
        || !limbs_less(s.v, fn->m.v, fn->n)) {
        return APR_EINVAL;
    }
    digest_scalar(&e, digest, digest_len, c);
    /* w = s^-1 in Montgomery form (w R); then plain products come out of
     * Montgomery multiplications: (x)(w R) / R = x w. s w = 1 is checked,
     * so a wrong inverse can only refuse. */
    if (limbs_inverse(&w, &s, fn) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    fe_to_mont(&w, &w, fn);
    fn->mul(&check, &s, &w, fn);
    if (!limbs_is_one(&check, fn->n)) {
        return APR_EGENERAL;
    }
    fn->mul(&u1, &e, &w, fn);
    fn->mul(&u2, &r, &w, fn);
    double_comb(&rp, &u1, &u2, key, c);
    return x_matches(&rp, &r, c) ? APR_SUCCESS : APR_EINVAL;
}

/* ---- keys ------------------------------------------------------------------ */

/* An element of f from big-endian bytes, below f's modulus, to Montgomery
 * form. */
static apr_status_t import_elem(const field_t *f, const unsigned char *in, apr_size_t len,
                                fe_t *out)
{
    fe_from_bytes(out, in, len, f->n);
    if (!limbs_less(out->v, f->m.v, f->n)) {
        return APR_EINVAL;
    }
    fe_to_mont(out, out, f);
    return APR_SUCCESS;
}

int logto_ecfast_covers(logto_crv_e crv)
{
    return curve_for(crv) != NULL;
}

apr_status_t logto_ecfast_key_make(logto_crv_e crv, const unsigned char *x, const unsigned char *y,
                                   apr_size_t coord_len, logto_ecfast_key_t **key)
{
    const curve_t *c = curve_ready(crv);
    fe_t fx, fy;

    *key = NULL;
    if (!c) {
        return curve_for(crv) ? APR_EGENERAL : APR_ENOTIMPL;
    }
    if (coord_len != c->bytes || import_elem(&c->fp, x, c->bytes, &fx) != APR_SUCCESS
        || import_elem(&c->fp, y, c->bytes, &fy) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    return table_make(c, &fx, &fy, key);
}

void logto_ecfast_key_free(logto_ecfast_key_t *key)
{
    free(key);
}

apr_size_t logto_ecfast_key_bytes(const logto_ecfast_key_t *key)
{
    return key ? key->bytes : 0;
}

/* ---- hooks for the tests of the arithmetic ---------------------------------- */

apr_status_t logto_ecfast_field_op(logto_crv_e crv, logto_ecfast_mod_e mod, logto_ecfast_op_e op,
                                   const unsigned char *a, const unsigned char *b,
                                   unsigned char *out, apr_size_t coord_len)
{
    const curve_t *c = curve_ready(crv);
    const field_t *f;
    fe_t fa, fb, fr;

    if (!c) {
        return APR_ENOTIMPL;
    }
    f = (mod == LOGTO_ECFAST_MOD_N) ? &c->fn : &c->fp;
    if (coord_len != c->bytes || import_elem(f, a, coord_len, &fa) != APR_SUCCESS
        || (op != LOGTO_ECFAST_INV && import_elem(f, b, coord_len, &fb) != APR_SUCCESS)) {
        return APR_EINVAL;
    }
    switch (op) {
    case LOGTO_ECFAST_ADD:
        f->add(&fr, &fa, &fb, f);
        break;
    case LOGTO_ECFAST_SUB:
        f->sub(&fr, &fa, &fb, f);
        break;
    case LOGTO_ECFAST_MUL:
        f->mul(&fr, &fa, &fb, f);
        break;
    case LOGTO_ECFAST_INV:
        if (fe_inv(&fr, &fa, f) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        break;
    default:
        return APR_EINVAL;
    }
    fe_from_mont(&fr, &fr, f);
    fe_to_bytes(out, &fr, coord_len);
    return APR_SUCCESS;
}

static apr_status_t import_point(const curve_t *c, const unsigned char *in, point_t *p)
{
    if (!in) {
        point_set_infinity(p, c);
        return APR_SUCCESS;
    }
    p->z = c->fp.one;
    return (import_elem(&c->fp, in, c->bytes, &p->x) == APR_SUCCESS
            && import_elem(&c->fp, in + c->bytes, c->bytes, &p->y) == APR_SUCCESS)
               ? APR_SUCCESS
               : APR_EINVAL;
}

apr_status_t logto_ecfast_point_op(logto_crv_e crv, logto_ecfast_point_op_e op,
                                   const unsigned char *p1, const unsigned char *p2,
                                   unsigned char *out, int *infinity, apr_size_t coord_len)
{
    const curve_t *c = curve_ready(crv);
    point_t a, b, r;
    fe_t zinv;

    if (!c) {
        return APR_ENOTIMPL;
    }
    if (coord_len != c->bytes || import_point(c, p1, &a) != APR_SUCCESS
        || import_point(c, p2, &b) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    switch (op) {
    case LOGTO_ECFAST_POINT_ADD:
        point_add(&r, &a, &b, c);
        break;
    case LOGTO_ECFAST_POINT_ADD_AFFINE:
        if (!p2) {
            return APR_EINVAL;
        }
        point_add_affine(&r, &a, &b.x, &b.y, c);
        break;
    case LOGTO_ECFAST_POINT_DOUBLE:
        point_double(&r, &a, c);
        break;
    default:
        return APR_EINVAL;
    }
    *infinity = fe_is_zero(&r.z, c->fp.n);
    if (*infinity) {
        return APR_SUCCESS;
    }
    if (fe_inv(&zinv, &r.z, &c->fp) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    c->fp.mul(&r.x, &r.x, &zinv, &c->fp);
    c->fp.mul(&r.y, &r.y, &zinv, &c->fp);
    fe_from_mont(&r.x, &r.x, &c->fp);
    fe_from_mont(&r.y, &r.y, &c->fp);
    fe_to_bytes(out, &r.x, c->bytes);
    fe_to_bytes(out + c->bytes, &r.y, c->bytes);
    return APR_SUCCESS;
}

#else /* LOGTO_NO_FAST_ECDSA: configure --disable-fast-ecdsa */

int logto_ecfast_covers(logto_crv_e crv)
{
    (void)crv;
    return 0;
}

apr_status_t logto_ecfast_key_make(logto_crv_e crv, const unsigned char *x, const unsigned char *y,
                                   apr_size_t coord_len, logto_ecfast_key_t **key)
{
    (void)crv;
    (void)x;
    (void)y;
    (void)coord_len;
    *key = NULL;
    return APR_ENOTIMPL;
}

void logto_ecfast_key_free(logto_ecfast_key_t *key)
{
    (void)key;
}

apr_size_t logto_ecfast_key_bytes(const logto_ecfast_key_t *key)
{
    (void)key;
    return 0;
}

apr_status_t logto_ecfast_verify(const logto_ecfast_key_t *key, const unsigned char *digest,
                                 apr_size_t digest_len, const unsigned char *sig,
                                 apr_size_t sig_len)
{
    (void)key;
    (void)digest;
    (void)digest_len;
    (void)sig;
    (void)sig_len;
    return APR_ENOTIMPL;
}

apr_status_t logto_ecfast_field_op(logto_crv_e crv, logto_ecfast_mod_e mod, logto_ecfast_op_e op,
                                   const unsigned char *a, const unsigned char *b,
                                   unsigned char *out, apr_size_t coord_len)
{
    (void)crv;
    (void)mod;
    (void)op;
    (void)a;
    (void)b;
    (void)out;
    (void)coord_len;
    return APR_ENOTIMPL;
}

apr_status_t logto_ecfast_point_op(logto_crv_e crv, logto_ecfast_point_op_e op,
                                   const unsigned char *p1, const unsigned char *p2,
                                   unsigned char *out, int *infinity, apr_size_t coord_len)
{
    (void)crv;
    (void)op;
    (void)p1;
    (void)p2;
    (void)out;
    (void)infinity;
    (void)coord_len;
    return APR_ENOTIMPL;
}

#endif /* LOGTO_NO_FAST_ECDSA */
