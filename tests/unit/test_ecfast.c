/* The fast ECDSA verifier's own arithmetic (lib/logto_ecfast.c) against
 * OpenSSL's: field operations modulo p and n against BIGNUM on edge values
 * (0, 1, m - 1, limb boundaries, the Montgomery constants) and random ones,
 * and the point formulas against EC_POINT on the cases complete formulas
 * exist for (P + P, P + -P, the point at infinity on either side). */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

#include "logto_ecfast.h"
#include "unit.h"

#define MAX_COORD     66
#define RANDOM_VALUES 48
#define RANDOM_PAIRS  3000
#define RANDOM_POINTS 40

typedef struct {
    logto_crv_e crv;
    int nid;
    apr_size_t coord;
} ec_curve_t;

static const ec_curve_t curves[] = {
    {LOGTO_CRV_P256, NID_X9_62_prime256v1, 32},
    {LOGTO_CRV_P384, NID_secp384r1, 48},
    {LOGTO_CRV_P521, NID_secp521r1, 66},
};

#define N_CURVES (sizeof(curves) / sizeof(curves[0]))

static void to_bytes(const BIGNUM *v, unsigned char *out, apr_size_t len)
{
    assert_int_equal(BN_bn2binpad(v, out, (int)len), (int)len);
}

/* Edge values below m, then random ones. */
static int edge_values(const BIGNUM *m, BIGNUM **vals, int cap, BN_CTX *ctx)
{
    int count = 0, k, bits = BN_num_bits(m);
    BIGNUM *t = BN_new();

#define PUSH(expr)                                                                                 \
    do {                                                                                           \
        BIGNUM *v_ = BN_new();                                                                     \
        assert_non_null(v_);                                                                       \
        assert_true(expr);                                                                         \
        if (BN_is_negative(v_) || BN_cmp(v_, m) >= 0 || count >= cap) {                            \
            BN_free(v_);                                                                           \
        }                                                                                          \
        else {                                                                                     \
            vals[count++] = v_;                                                                    \
        }                                                                                          \
    } while (0)

    assert_non_null(t);
    PUSH(BN_set_word(v_, 0));
    PUSH(BN_set_word(v_, 1));
    PUSH(BN_set_word(v_, 2));
    PUSH(BN_set_word(v_, 3));
    PUSH(BN_sub(v_, m, BN_value_one()));
    PUSH(BN_sub(v_, m, BN_value_one()) && BN_sub_word(v_, 1));
    PUSH(BN_sub(v_, m, BN_value_one()) && BN_sub_word(v_, 2));
    PUSH(BN_rshift1(v_, m));                       /* (m - 1) / 2 */
    PUSH(BN_rshift1(v_, m) && BN_add_word(v_, 1)); /* (m + 1) / 2 */
    PUSH(BN_set_bit(v_, bits - 1));                /* top bit alone */
    for (k = 64; k < bits; k += 64) {
        PUSH(BN_set_bit(v_, k));                       /* 2^(64 k) */
        PUSH(BN_set_bit(v_, k) && BN_sub_word(v_, 1)); /* limbs of all ones */
        PUSH(BN_set_bit(v_, k) && BN_add_word(v_, 1));
        PUSH(BN_sub(v_, m, BN_value_one()) && BN_clear_bit(v_, k)); /* m - 1 with a hole */
    }
    /* R = 2^(64 limbs) mod m, R^2 mod m and R^-1 mod m: Montgomery forms of
     * 1, R and of 1 / R */
    k = ((bits + 63) / 64) * 64;
    PUSH(BN_set_bit(t, k) && BN_nnmod(v_, t, m, ctx));
    PUSH(BN_set_bit(t, 2 * k) && BN_nnmod(v_, t, m, ctx));
    BN_zero(t);
    PUSH(BN_set_bit(t, k) && BN_nnmod(t, t, m, ctx) && BN_mod_inverse(v_, t, m, ctx));
    while (count < cap) {
        PUSH(BN_rand_range(v_, m));
    }
#undef PUSH
    BN_free(t);
    return count;
}

static void check_pair(const ec_curve_t *c, logto_ecfast_mod_e mod, const BIGNUM *m,
                       const BIGNUM *a, const BIGNUM *b, BN_CTX *ctx)
{
    unsigned char ab[MAX_COORD], bb[MAX_COORD], out[MAX_COORD], want[MAX_COORD];
    BIGNUM *r = BN_new();
    static const logto_ecfast_op_e ops[] = {LOGTO_ECFAST_ADD, LOGTO_ECFAST_SUB, LOGTO_ECFAST_MUL};
    size_t i;

    assert_non_null(r);
    to_bytes(a, ab, c->coord);
    to_bytes(b, bb, c->coord);
    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        switch (ops[i]) {
        case LOGTO_ECFAST_ADD:
            assert_true(BN_mod_add(r, a, b, m, ctx));
            break;
        case LOGTO_ECFAST_SUB:
            assert_true(BN_mod_sub(r, a, b, m, ctx));
            break;
        default:
            assert_true(BN_mod_mul(r, a, b, m, ctx));
            break;
        }
        to_bytes(r, want, c->coord);
        assert_int_equal(logto_ecfast_field_op(c->crv, mod, ops[i], ab, bb, out, c->coord),
                         APR_SUCCESS);
        if (memcmp(out, want, c->coord) != 0) {
            fail_msg("curve %d mod %s op %d differs from BIGNUM", (int)c->crv,
                     mod == LOGTO_ECFAST_MOD_P ? "p" : "n", (int)ops[i]);
        }
    }
    BN_free(r);
}

static void check_modulus(const ec_curve_t *c, logto_ecfast_mod_e mod, const BIGNUM *m, BN_CTX *ctx)
{
    BIGNUM *vals[RANDOM_VALUES + 64];
    unsigned char ab[MAX_COORD], out[MAX_COORD], want[MAX_COORD];
    int count = edge_values(m, vals, (int)(sizeof(vals) / sizeof(vals[0])), ctx), i, j;
    BIGNUM *a = BN_new(), *b = BN_new(), *inv = BN_new();

    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(inv);
    for (i = 0; i < count; i++) {
        for (j = 0; j < count; j++) {
            check_pair(c, mod, m, vals[i], vals[j], ctx);
        }
        /* the inverse, and none for 0 */
        to_bytes(vals[i], ab, c->coord);
        if (BN_is_zero(vals[i])) {
            assert_int_equal(
                logto_ecfast_field_op(c->crv, mod, LOGTO_ECFAST_INV, ab, NULL, out, c->coord),
                APR_EINVAL);
            continue;
        }
        assert_non_null(BN_mod_inverse(inv, vals[i], m, ctx));
        to_bytes(inv, want, c->coord);
        assert_int_equal(
            logto_ecfast_field_op(c->crv, mod, LOGTO_ECFAST_INV, ab, NULL, out, c->coord),
            APR_SUCCESS);
        assert_memory_equal(out, want, c->coord);
    }
    for (i = 0; i < RANDOM_PAIRS; i++) {
        assert_true(BN_rand_range(a, m));
        assert_true(BN_rand_range(b, m));
        check_pair(c, mod, m, a, b, ctx);
    }
    /* an input of m or more is refused, not reduced silently */
    to_bytes(m, ab, c->coord);
    assert_int_equal(logto_ecfast_field_op(c->crv, mod, LOGTO_ECFAST_ADD, ab, ab, out, c->coord),
                     APR_EINVAL);
    for (i = 0; i < count; i++) {
        BN_free(vals[i]);
    }
    BN_free(inv);
    BN_free(b);
    BN_free(a);
}

static void field_ops_match_bignum(void **state)
{
    BN_CTX *ctx = BN_CTX_new();
    size_t i;
    int covered = 0;

    (void)state;
    assert_non_null(ctx);
    for (i = 0; i < N_CURVES; i++) {
        EC_GROUP *group = EC_GROUP_new_by_curve_name(curves[i].nid);
        BIGNUM *p = BN_new();

        assert_non_null(group);
        assert_non_null(p);
        assert_int_equal(EC_GROUP_get_curve(group, p, NULL, NULL, ctx), 1);
        if (logto_ecfast_covers(curves[i].crv)) {
            covered++;
            check_modulus(&curves[i], LOGTO_ECFAST_MOD_P, p, ctx);
            check_modulus(&curves[i], LOGTO_ECFAST_MOD_N, EC_GROUP_get0_order(group), ctx);
        }
        BN_free(p);
        EC_GROUP_free(group);
    }
    BN_CTX_free(ctx);
    if (!covered) {
        skip(); /* configure --disable-fast-ecdsa */
    }
}

/* ---- points ---------------------------------------------------------------- */

/* x||y of an OpenSSL point (not at infinity). */
static void point_bytes(const EC_GROUP *g, const EC_POINT *pt, unsigned char *out, apr_size_t coord,
                        BN_CTX *ctx)
{
    BIGNUM *x = BN_new(), *y = BN_new();

    assert_int_equal(EC_POINT_get_affine_coordinates(g, pt, x, y, ctx), 1);
    to_bytes(x, out, coord);
    to_bytes(y, out + coord, coord);
    BN_free(x);
    BN_free(y);
}

/* Our op on a and b (NULL: infinity) against OpenSSL's result want. */
static void check_point_op(const ec_curve_t *c, const EC_GROUP *g, logto_ecfast_point_op_e op,
                           const EC_POINT *a, const EC_POINT *b, const EC_POINT *want, BN_CTX *ctx)
{
    unsigned char ab[2 * MAX_COORD], bb[2 * MAX_COORD], out[2 * MAX_COORD], wb[2 * MAX_COORD];
    int infinity = -1;

    if (a) {
        point_bytes(g, a, ab, c->coord, ctx);
    }
    if (b) {
        point_bytes(g, b, bb, c->coord, ctx);
    }
    assert_int_equal(
        logto_ecfast_point_op(c->crv, op, a ? ab : NULL, b ? bb : NULL, out, &infinity, c->coord),
        APR_SUCCESS);
    if (EC_POINT_is_at_infinity(g, want)) {
        assert_int_equal(infinity, 1);
        return;
    }
    assert_int_equal(infinity, 0);
    point_bytes(g, want, wb, c->coord, ctx);
    assert_memory_equal(out, wb, 2 * c->coord);
}

static void points_of_curve(const ec_curve_t *c, BN_CTX *ctx)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(c->nid);
    EC_POINT *p = EC_POINT_new(g), *q = EC_POINT_new(g), *r = EC_POINT_new(g);
    EC_POINT *neg = EC_POINT_new(g), *inf = EC_POINT_new(g);
    BIGNUM *k = BN_new();
    int i;

    assert_non_null(k);
    assert_non_null(inf);
    assert_int_equal(EC_POINT_set_to_infinity(g, inf), 1);
    for (i = 0; i < RANDOM_POINTS; i++) {
        /* i = 0: the generator itself, then random multiples */
        assert_true(i == 0 ? BN_one(k) : BN_rand_range(k, EC_GROUP_get0_order(g)));
        assert_int_equal(EC_POINT_mul(g, p, k, NULL, NULL, ctx), 1);
        assert_true(BN_rand_range(k, EC_GROUP_get0_order(g)));
        assert_int_equal(EC_POINT_mul(g, q, k, NULL, NULL, ctx), 1);
        assert_int_equal(EC_POINT_copy(neg, p), 1);
        assert_int_equal(EC_POINT_invert(g, neg, ctx), 1);

        /* P + Q, both formulas */
        assert_int_equal(EC_POINT_add(g, r, p, q, ctx), 1);
        check_point_op(c, g, LOGTO_ECFAST_POINT_ADD, p, q, r, ctx);
        check_point_op(c, g, LOGTO_ECFAST_POINT_ADD_AFFINE, p, q, r, ctx);
        /* P + P = 2P, both formulas and doubling */
        assert_int_equal(EC_POINT_dbl(g, r, p, ctx), 1);
        check_point_op(c, g, LOGTO_ECFAST_POINT_ADD, p, p, r, ctx);
        check_point_op(c, g, LOGTO_ECFAST_POINT_ADD_AFFINE, p, p, r, ctx);
        check_point_op(c, g, LOGTO_ECFAST_POINT_DOUBLE, p, NULL, r, ctx);
        /* P + -P = infinity */
        check_point_op(c, g, LOGTO_ECFAST_POINT_ADD, p, neg, inf, ctx);
        check_point_op(c, g, LOGTO_ECFAST_POINT_ADD_AFFINE, p, neg, inf, ctx);
        /* infinity on either side */
        check_point_op(c, g, LOGTO_ECFAST_POINT_ADD, NULL, p, p, ctx);
        check_point_op(c, g, LOGTO_ECFAST_POINT_ADD, p, NULL, p, ctx);
        check_point_op(c, g, LOGTO_ECFAST_POINT_ADD_AFFINE, NULL, p, p, ctx);
    }
    check_point_op(c, g, LOGTO_ECFAST_POINT_ADD, NULL, NULL, inf, ctx);
    check_point_op(c, g, LOGTO_ECFAST_POINT_DOUBLE, NULL, NULL, inf, ctx);
    BN_free(k);
    EC_POINT_free(inf);
    EC_POINT_free(neg);
    EC_POINT_free(r);
    EC_POINT_free(q);
    EC_POINT_free(p);
    EC_GROUP_free(g);
}

static void point_ops_match_openssl(void **state)
{
    BN_CTX *ctx = BN_CTX_new();
    size_t i;
    int covered = 0;

    (void)state;
    assert_non_null(ctx);
    for (i = 0; i < N_CURVES; i++) {
        if (logto_ecfast_covers(curves[i].crv)) {
            covered++;
            points_of_curve(&curves[i], ctx);
        }
    }
    BN_CTX_free(ctx);
    if (!covered) {
        skip();
    }
}

/* A point not on the curve gets no table; the curves not covered get
 * APR_ENOTIMPL. */
static void tables_refuse_what_they_cannot_do(void **state)
{
    unsigned char x[MAX_COORD] = {0}, y[MAX_COORD];
    logto_ecfast_key_t *t = NULL;
    size_t i;

    (void)state;
    for (i = 0; i < N_CURVES; i++) {
        apr_status_t rv;

        memset(y, 0, sizeof(y));
        y[curves[i].coord - 1] = 1; /* (0, 1): on no curve with b != 1 */
        rv = logto_ecfast_key_make(curves[i].crv, x, y, curves[i].coord, &t);
        assert_null(t);
        assert_int_equal(rv, logto_ecfast_covers(curves[i].crv) ? APR_EINVAL : APR_ENOTIMPL);
        /* a wrong coordinate size */
        if (logto_ecfast_covers(curves[i].crv)) {
            assert_int_equal(logto_ecfast_key_make(curves[i].crv, x, y, curves[i].coord - 1, &t),
                             APR_EINVAL);
        }
    }
    assert_int_equal(logto_ecfast_key_make(LOGTO_CRV_ED25519, x, y, 32, &t), APR_ENOTIMPL);
    assert_false(logto_ecfast_covers(LOGTO_CRV_ED25519));
    assert_false(logto_ecfast_covers(LOGTO_CRV_NONE));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(field_ops_match_bignum),
    cmocka_unit_test(point_ops_match_openssl),
    cmocka_unit_test(tables_refuse_what_they_cannot_do),
};

LOGTO_TEST_GROUP(ecfast, tests);
