/* ECDSA at its edges, on every curve the fast verifier covers, through both
 * verifiers: the fast one with the key's table (logto_ecfast_verify) and
 * OpenSSL's (EVP_PKEY_verify on the same digest). Every answer is asserted,
 * and the two must agree. Signatures are made here with OpenSSL's BIGNUM
 * and EC_POINT arithmetic (s = k^-1 (e + r d)), or keys are made to fit a
 * chosen signature (Q = (R - u1 G) / u2 for a point R of chosen x), so that
 * each edge is reached on purpose:
 * - u1 = 0: a digest that is 0 or n as an integer;
 * - u2 = 0 cannot happen: u2 = r / s with r in [1, n-1]; r = 0 is refused;
 * - R = u1 G + u2 Q the point at infinity (e = -r d);
 * - Q = G and Q = -G, where both combs walk the same table;
 * - r and s at 0, n, n - 1, and x(R) = r + n (x(R) >= n);
 * - digests shorter and longer than n (FIPS 186-4: the leftmost bits). */
#include <string.h>

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "logto_b64.h"
#include "logto_ecfast.h"
#include "logto_jws.h"
#include "unit.h"

#define MAX_COORD 66

typedef struct {
    logto_crv_e crv;
    const char *group_name;
    const char *jwk_crv;
    logto_alg_e alg;
    apr_size_t coord;
} edge_curve_info_t;

static const edge_curve_info_t infos[] = {
    {LOGTO_CRV_P256, "prime256v1", "P-256", LOGTO_ALG_ES256, 32},
    {LOGTO_CRV_P384, "secp384r1", "P-384", LOGTO_ALG_ES384, 48},
    {LOGTO_CRV_P521, "secp521r1", "P-521", LOGTO_ALG_ES512, 66},
};

typedef struct {
    const edge_curve_info_t *info;
    EC_GROUP *group;
    const BIGNUM *n;
    BIGNUM *p;
    int bits;
    BN_CTX *bn;
} edge_curve_t;

/* A public key Q, with both verifiers ready. */
typedef struct {
    EC_POINT *q;
    EVP_PKEY *pkey;
    logto_ecfast_key_t *table;
    unsigned char xy[2 * MAX_COORD];
} edge_key_t;

static void curve_open(edge_curve_t *c, const edge_curve_info_t *info)
{
    c->info = info;
    c->group = EC_GROUP_new_by_curve_name(OBJ_sn2nid(info->group_name));
    assert_non_null(c->group);
    c->n = EC_GROUP_get0_order(c->group);
    c->bits = BN_num_bits(c->n);
    c->bn = BN_CTX_new();
    c->p = BN_new();
    assert_non_null(c->bn);
    assert_non_null(c->p);
    assert_int_equal(EC_GROUP_get_curve(c->group, c->p, NULL, NULL, c->bn), 1);
}

static void curve_close(edge_curve_t *c)
{
    BN_free(c->p);
    BN_CTX_free(c->bn);
    EC_GROUP_free(c->group);
}

static void key_open(const edge_curve_t *c, const EC_POINT *q, edge_key_t *key)
{
    const apr_size_t coord = c->info->coord;
    unsigned char pub[1 + 2 * MAX_COORD];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);

    memset(key, 0, sizeof(*key));
    assert_non_null(key->q = EC_POINT_dup(q, c->group));
    assert_int_equal(
        EC_POINT_point2oct(c->group, q, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub), c->bn),
        1 + 2 * coord);
    memcpy(key->xy, pub + 1, 2 * coord);
    assert_non_null(bld);
    assert_true(
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->info->group_name, 0));
    assert_true(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * coord));
    assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &key->pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
    assert_int_equal(
        logto_ecfast_key_make(c->info->crv, key->xy, key->xy + coord, coord, &key->table),
        APR_SUCCESS);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
}

static void key_close(edge_key_t *key)
{
    logto_ecfast_key_free(key->table);
    EVP_PKEY_free(key->pkey);
    EC_POINT_free(key->q);
}

/* Q = d G */
static void key_of_d(const edge_curve_t *c, const BIGNUM *d, edge_key_t *key)
{
    EC_POINT *q = EC_POINT_new(c->group);

    assert_int_equal(EC_POINT_mul(c->group, q, d, NULL, NULL, c->bn), 1);
    key_open(c, q, key);
    EC_POINT_free(q);
}

/* The digest, ceil(bits / 8) bytes, whose leftmost bits are exactly e. */
static apr_size_t digest_of(const edge_curve_t *c, const BIGNUM *e, unsigned char *dg)
{
    apr_size_t len = ((apr_size_t)c->bits + 7) / 8;
    BIGNUM *t = BN_dup(e);

    assert_non_null(t);
    assert_true(BN_lshift(t, t, (int)(8 * len) - c->bits));
    assert_int_equal(BN_bn2binpad(t, dg, (int)len), (int)len);
    BN_free(t);
    return len;
}

/* Both verifiers on (digest, r, s); they must agree. r and s below
 * 2^(8 coord). */
static int verifies(const edge_curve_t *c, const edge_key_t *key, const unsigned char *dg,
                    apr_size_t dlen, const BIGNUM *r, const BIGNUM *s)
{
    const int coord = (int)c->info->coord;
    unsigned char raw[2 * MAX_COORD], der[200], *out = der;
    ECDSA_SIG *es = ECDSA_SIG_new();
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    int der_len, fast, evp;

    assert_int_equal(BN_bn2binpad(r, raw, coord), coord);
    assert_int_equal(BN_bn2binpad(s, raw + coord, coord), coord);
    fast = logto_ecfast_verify(key->table, dg, dlen, raw, 2 * (apr_size_t)coord) == APR_SUCCESS;
    assert_int_equal(ECDSA_SIG_set0(es, BN_dup(r), BN_dup(s)), 1);
    der_len = i2d_ECDSA_SIG(es, &out);
    assert_true(der_len > 0);
    assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
    evp = EVP_PKEY_verify(ctx, der, (size_t)der_len, dg, dlen) == 1;
    ERR_clear_error();
    ECDSA_SIG_free(es);
    EVP_PKEY_CTX_free(ctx);
    if (fast != evp) {
        fail_msg("%s: the fast verifier says %s, OpenSSL %s", c->info->jwk_crv, fast ? "yes" : "no",
                 evp ? "yes" : "no");
    }
    return fast;
}

/* e from a digest, FIPS 186-4. */
static void e_of(const edge_curve_t *c, const unsigned char *dg, apr_size_t dlen, BIGNUM *e)
{
    apr_size_t used = dlen;

    if (8 * dlen > (apr_size_t)c->bits) {
        used = ((apr_size_t)c->bits + 7) / 8;
    }
    assert_non_null(BN_bin2bn(dg, (int)used, e));
    if (8 * used > (apr_size_t)c->bits) {
        assert_true(BN_rshift(e, e, (int)(8 * used) - c->bits));
    }
}

/* r = x(k G) mod n, s = k^-1 (e + r d) mod n */
static void sign_with(const edge_curve_t *c, const BIGNUM *d, const BIGNUM *k, const BIGNUM *e,
                      BIGNUM *r, BIGNUM *s)
{
    EC_POINT *kg = EC_POINT_new(c->group);
    BIGNUM *t = BN_new();

    assert_non_null(t);
    assert_int_equal(EC_POINT_mul(c->group, kg, k, NULL, NULL, c->bn), 1);
    assert_int_equal(EC_POINT_get_affine_coordinates(c->group, kg, r, NULL, c->bn), 1);
    assert_true(BN_nnmod(r, r, c->n, c->bn));
    assert_true(BN_mod_mul(t, r, d, c->n, c->bn));
    assert_true(BN_mod_add(t, t, e, c->n, c->bn));
    assert_non_null(BN_mod_inverse(s, k, c->n, c->bn));
    assert_true(BN_mod_mul(s, s, t, c->n, c->bn));
    assert_false(BN_is_zero(r));
    assert_false(BN_is_zero(s));
    EC_POINT_free(kg);
    BN_free(t);
}

/* A valid signature verifies, (r, n - s) too, and (r, s + 1) does not. */
static void valid_three_ways(const edge_curve_t *c, const edge_key_t *key, const unsigned char *dg,
                             apr_size_t dlen, const BIGNUM *r, const BIGNUM *s)
{
    BIGNUM *t = BN_new();

    assert_non_null(t);
    assert_true(verifies(c, key, dg, dlen, r, s));
    assert_true(BN_sub(t, c->n, s));
    assert_true(verifies(c, key, dg, dlen, r, t));
    assert_true(BN_mod_add(t, s, BN_value_one(), c->n, c->bn));
    assert_false(verifies(c, key, dg, dlen, r, t));
    BN_free(t);
}

typedef void (*edge_fn)(edge_curve_t *c);

/* Runs fn on every covered curve (none with --disable-fast-ecdsa: skipped). */
static void each_curve(edge_fn fn)
{
    size_t i;
    int covered = 0;

    for (i = 0; i < sizeof(infos) / sizeof(infos[0]); i++) {
        edge_curve_t c;

        if (!logto_ecfast_covers(infos[i].crv)) {
            continue;
        }
        covered++;
        curve_open(&c, &infos[i]);
        fn(&c);
        curve_close(&c);
    }
    if (!covered) {
        skip();
    }
}

/* ---- the edges --------------------------------------------------------------- */

static void u1_zero_on(edge_curve_t *c)
{
    BIGNUM *d = BN_new(), *k = BN_new(), *e = BN_new(), *r = BN_new(), *s = BN_new();
    unsigned char dg[MAX_COORD + 1];
    apr_size_t dlen;
    edge_key_t key;
    int which;

    assert_true(BN_rand_range(d, c->n));
    key_of_d(c, d, &key);
    for (which = 0; which < 3; which++) {
        /* e = 0 as a short digest, as a full-size one, and e = n */
        if (which == 2) {
            dlen = digest_of(c, c->n, dg);
        }
        else {
            dlen = which ? c->info->coord : 20;
            memset(dg, 0, dlen);
        }
        e_of(c, dg, dlen, e);
        assert_true(BN_is_zero(e) || BN_cmp(e, c->n) == 0);
        assert_true(BN_rand_range(k, c->n));
        sign_with(c, d, k, e, r, s);
        valid_three_ways(c, &key, dg, dlen, r, s);
    }
    key_close(&key);
    BN_free(s);
    BN_free(r);
    BN_free(e);
    BN_free(k);
    BN_free(d);
}

static void u1_zero(void **state)
{
    (void)state;
    each_curve(u1_zero_on);
}

/* u1 G + u2 Q = infinity: e = -r d makes u1 = -u2 d. */
static void r_infinity_on(edge_curve_t *c)
{
    BIGNUM *d = BN_new(), *e = BN_new(), *r = BN_new(), *s = BN_new();
    unsigned char dg[MAX_COORD + 1];
    apr_size_t dlen;
    edge_key_t key;
    int i;

    for (i = 0; i < 4; i++) {
        /* Q = G, Q = -G, and two others */
        if (i == 0) {
            assert_true(BN_one(d));
        }
        else if (i == 1) {
            assert_true(BN_sub(d, c->n, BN_value_one()));
        }
        else {
            assert_true(BN_rand_range(d, c->n));
        }
        key_of_d(c, d, &key);
        assert_true(BN_rand_range(r, c->n) && !BN_is_zero(r));
        assert_true(BN_rand_range(s, c->n) && !BN_is_zero(s));
        assert_true(BN_mod_mul(e, r, d, c->n, c->bn));
        assert_true(BN_mod_sub(e, c->n, e, c->n, c->bn));
        dlen = digest_of(c, e, dg);
        assert_false(verifies(c, &key, dg, dlen, r, s));
        key_close(&key);
    }
    BN_free(s);
    BN_free(r);
    BN_free(e);
    BN_free(d);
}

static void r_infinity(void **state)
{
    (void)state;
    each_curve(r_infinity_on);
}

/* Q = G and Q = -G: signatures of random digests, and with Q = G the one
 * where u1 = u2 (e = r). */
static void q_g_on(edge_curve_t *c)
{
    BIGNUM *d = BN_new(), *k = BN_new(), *e = BN_new(), *r = BN_new(), *s = BN_new();
    unsigned char dg[MAX_COORD + 1];
    apr_size_t dlen;
    edge_key_t key;
    int which, i;

    for (which = 0; which < 2; which++) {
        assert_true(which ? BN_sub(d, c->n, BN_value_one()) : BN_one(d));
        key_of_d(c, d, &key);
        for (i = 0; i < 8; i++) {
            assert_true(BN_rand_range(e, c->n));
            dlen = digest_of(c, e, dg);
            assert_true(BN_rand_range(k, c->n));
            sign_with(c, d, k, e, r, s);
            valid_three_ways(c, &key, dg, dlen, r, s);
        }
        /* Q = G and e = r: u1 = u2, both combs pick the same entries of one
         * table (with Q = -G, e = r would make s = 0) */
        if (which) {
            key_close(&key);
            continue;
        }
        assert_true(BN_rand_range(k, c->n));
        sign_with(c, d, k, e, r, s);
        assert_non_null(BN_copy(e, r));
        dlen = digest_of(c, e, dg);
        sign_with(c, d, k, e, r, s);
        assert_int_equal(BN_cmp(e, r), 0);
        valid_three_ways(c, &key, dg, dlen, r, s);
        key_close(&key);
    }
    BN_free(s);
    BN_free(r);
    BN_free(e);
    BN_free(k);
    BN_free(d);
}

static void q_is_g_or_minus_g(void **state)
{
    (void)state;
    each_curve(q_g_on);
}

/* A key that makes (r, s) valid for e when the curve has a point R with
 * x(R) = x: Q = (R - u1 G) / u2 with u1 = e / s, u2 = r / s. Returns 0 when
 * x is no point's x-coordinate. */
static int key_for_signature(const edge_curve_t *c, const BIGNUM *x, const BIGNUM *r,
                             const BIGNUM *s, const BIGNUM *e, edge_key_t *key)
{
    EC_POINT *pr = EC_POINT_new(c->group), *q = EC_POINT_new(c->group);
    BIGNUM *w = BN_new(), *u1 = BN_new(), *u2inv = BN_new();
    int ok = EC_POINT_set_compressed_coordinates(c->group, pr, x, 0, c->bn) == 1;

    ERR_clear_error();
    if (ok) {
        assert_non_null(BN_mod_inverse(w, s, c->n, c->bn));
        assert_true(BN_mod_mul(u1, e, w, c->n, c->bn));
        assert_true(BN_mod_mul(u2inv, r, w, c->n, c->bn));
        assert_non_null(BN_mod_inverse(u2inv, u2inv, c->n, c->bn));
        /* Q = u2^-1 R - u1 u2^-1 G */
        assert_true(BN_mod_mul(u1, u1, u2inv, c->n, c->bn));
        assert_true(BN_mod_sub(u1, c->n, u1, c->n, c->bn));
        assert_int_equal(EC_POINT_mul(c->group, q, u1, pr, u2inv, c->bn), 1);
        key_open(c, q, key);
    }
    BN_free(u2inv);
    BN_free(u1);
    BN_free(w);
    EC_POINT_free(q);
    EC_POINT_free(pr);
    return ok;
}

static void r_s_range_on(edge_curve_t *c)
{
    BIGNUM *d = BN_new(), *k = BN_new(), *e = BN_new(), *r = BN_new(), *s = BN_new();
    BIGNUM *v = BN_new(), *x = BN_new();
    unsigned char dg[MAX_COORD + 1];
    apr_size_t dlen;
    edge_key_t key;
    unsigned long delta;
    int lifted = 0;

    assert_non_null(x);
    assert_true(BN_rand_range(d, c->n));
    key_of_d(c, d, &key);
    assert_true(BN_rand_range(e, c->n));
    dlen = digest_of(c, e, dg);
    assert_true(BN_rand_range(k, c->n));
    sign_with(c, d, k, e, r, s);
    assert_true(verifies(c, &key, dg, dlen, r, s));
    /* r or s = 0, n, n + 1: refused by both, a valid other half or not */
    BN_zero(v);
    assert_false(verifies(c, &key, dg, dlen, v, s));
    assert_false(verifies(c, &key, dg, dlen, r, v));
    assert_false(verifies(c, &key, dg, dlen, v, v));
    assert_false(verifies(c, &key, dg, dlen, c->n, s));
    assert_false(verifies(c, &key, dg, dlen, r, c->n));
    assert_true(BN_add(v, c->n, BN_value_one()));
    assert_false(verifies(c, &key, dg, dlen, v, s));
    assert_false(verifies(c, &key, dg, dlen, r, v));
    /* s = n - 1, valid: e = s k - r d */
    assert_true(BN_sub(s, c->n, BN_value_one()));
    assert_true(BN_mod_mul(v, s, k, c->n, c->bn));
    assert_true(BN_mod_mul(e, r, d, c->n, c->bn));
    assert_true(BN_mod_sub(e, v, e, c->n, c->bn));
    dlen = digest_of(c, e, dg);
    valid_three_ways(c, &key, dg, dlen, r, s);
    key_close(&key);

    /* r = n - 1 when n - 1 is a point's x: a key made for (n - 1, s) */
    assert_true(BN_sub(r, c->n, BN_value_one()));
    assert_true(BN_rand_range(s, c->n) && !BN_is_zero(s));
    assert_true(BN_rand_range(e, c->n));
    dlen = digest_of(c, e, dg);
    if (key_for_signature(c, r, r, s, e, &key)) {
        valid_three_ways(c, &key, dg, dlen, r, s);
        key_close(&key);
    }
    else {
        /* no point has x = n - 1: r = n - 1 reaches the comparison, and
         * fails it, under any key */
        print_message("%s: n - 1 is no x-coordinate\n", c->info->jwk_crv);
        key_of_d(c, d, &key);
        assert_false(verifies(c, &key, dg, dlen, r, s));
        key_close(&key);
    }
    /* x(R) = n + delta >= n, so r = delta: the comparison with r + n */
    for (delta = 1; delta < 200 && !lifted; delta++) {
        assert_true(BN_set_word(r, delta) && BN_add(x, c->n, r));
        if (BN_cmp(x, c->p) >= 0) {
            break;
        }
        if (key_for_signature(c, x, r, s, e, &key)) {
            lifted = 1;
            valid_three_ways(c, &key, dg, dlen, r, s);
            /* r + n itself is out of range, whatever x(R) is */
            assert_false(verifies(c, &key, dg, dlen, x, s));
            key_close(&key);
        }
    }
    /* n < p < 2n leaves p - n values of x above n: a point among the first
     * 200 is all but certain */
    assert_true(lifted);
    BN_free(x);
    BN_free(v);
    BN_free(s);
    BN_free(r);
    BN_free(e);
    BN_free(k);
    BN_free(d);
}

static void r_and_s_at_their_bounds(void **state)
{
    (void)state;
    each_curve(r_s_range_on);
}

/* Digests shorter and longer than n, signed by OpenSSL (its own
 * truncation), verified by both. */
static void digest_lengths_on(edge_curve_t *c)
{
    static const apr_size_t lengths[] = {0, 1, 20, 32, 47, 48, 49, 64, 65, 66, 67, 80, 128};
    BIGNUM *d = BN_new();
    edge_key_t key;
    EVP_PKEY *priv = NULL;
    size_t i;

    assert_non_null(priv = EVP_PKEY_Q_keygen(NULL, NULL, "EC", c->info->group_name));
    assert_int_equal(EVP_PKEY_get_bn_param(priv, OSSL_PKEY_PARAM_PRIV_KEY, &d), 1);
    key_of_d(c, d, &key);
    for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        unsigned char dg[128], der[200];
        const unsigned char *p = der;
        size_t der_len = sizeof(der);
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
        ECDSA_SIG *es;

        assert_int_equal(RAND_bytes(dg, sizeof(dg)), 1);
        dg[0] |= 0x80; /* the leftmost bit set: truncation shows */
        assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
        assert_int_equal(EVP_PKEY_sign(ctx, der, &der_len, dg, lengths[i]), 1);
        assert_non_null(es = d2i_ECDSA_SIG(NULL, &p, (long)der_len));
        valid_three_ways(c, &key, dg, lengths[i], ECDSA_SIG_get0_r(es), ECDSA_SIG_get0_s(es));
        if (lengths[i] > 0) {
            /* the last byte counts only when it is within n's bits */
            int counts = 8 * lengths[i] <= (apr_size_t)c->bits;

            dg[lengths[i] - 1] ^= 1;
            assert_int_equal(
                verifies(c, &key, dg, lengths[i], ECDSA_SIG_get0_r(es), ECDSA_SIG_get0_s(es)),
                !counts);
        }
        ECDSA_SIG_free(es);
        EVP_PKEY_CTX_free(ctx);
    }
    key_close(&key);
    EVP_PKEY_free(priv);
    BN_free(d);
}

static void digests_shorter_and_longer_than_n(void **state)
{
    (void)state;
    each_curve(digest_lengths_on);
}

/* Q = G as a JWK: logto_jws_verify with the key's table and without. */
static void jws_with_q_equal_g(void **state)
{
    apr_pool_t *p = *state;
    size_t i;
    int covered = 0;

    for (i = 0; i < sizeof(infos) / sizeof(infos[0]); i++) {
        edge_curve_t c;
        edge_key_t key;
        BIGNUM *k = BN_new(), *e = BN_new(), *r = BN_new(), *s = BN_new();
        const apr_size_t coord = infos[i].coord;
        const char *json, *why = NULL, *input = "header.payload";
        unsigned char dg[64], raw[2 * MAX_COORD];
        unsigned int dlen = 0;
        logto_jwk_t *fast = NULL, *plain = NULL;
        logto_jws_t jws;
        logto_result_t res;

        if (!logto_ecfast_covers(infos[i].crv)) {
            BN_free(k);
            BN_free(e);
            BN_free(r);
            BN_free(s);
            continue;
        }
        covered++;
        curve_open(&c, &infos[i]);
        key_of_d(&c, BN_value_one(), &key);
        json = apr_psprintf(p, "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}",
                            infos[i].jwk_crv, logto_b64url_encode(p, key.xy, coord),
                            logto_b64url_encode(p, key.xy + coord, coord));
        assert_int_equal(logto_jwk_parse(p, json, strlen(json), &fast, &why), APR_SUCCESS);
        assert_int_equal(logto_jwk_parse(p, json, strlen(json), &plain, &why), APR_SUCCESS);
        assert_int_equal(logto_jwk_precompute(fast), APR_SUCCESS);
        assert_non_null(logto_jwk_ec_table(fast));
        assert_int_equal(
            EVP_Digest(input, strlen(input), dg, &dlen, logto_alg_md(infos[i].alg), NULL), 1);
        e_of(&c, dg, dlen, e);
        assert_true(BN_rand_range(k, c.n));
        sign_with(&c, BN_value_one(), k, e, r, s);
        assert_int_equal(BN_bn2binpad(r, raw, (int)coord), (int)coord);
        assert_int_equal(BN_bn2binpad(s, raw + coord, (int)coord), (int)coord);
        memset(&jws, 0, sizeof(jws));
        jws.alg = infos[i].alg;
        jws.signing_input = input;
        jws.signing_input_len = strlen(input);
        jws.sig = raw;
        jws.sig_len = 2 * coord;
        assert_int_equal(logto_jws_verify(&jws, fast, &res), APR_SUCCESS);
        assert_int_equal(logto_jws_verify(&jws, plain, &res), APR_SUCCESS);
        raw[coord] ^= 0x40;
        assert_int_not_equal(logto_jws_verify(&jws, fast, &res), APR_SUCCESS);
        assert_int_not_equal(logto_jws_verify(&jws, plain, &res), APR_SUCCESS);
        key_close(&key);
        curve_close(&c);
        BN_free(k);
        BN_free(e);
        BN_free(r);
        BN_free(s);
    }
    if (!covered) {
        skip();
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(u1_zero),
    cmocka_unit_test(r_infinity),
    cmocka_unit_test(q_is_g_or_minus_g),
    cmocka_unit_test(r_and_s_at_their_bounds),
    cmocka_unit_test(digests_shorter_and_longer_than_n),
    unit_test(jws_with_q_equal_g),
};

LOGTO_TEST_GROUP(ecdsa_edges, tests);
