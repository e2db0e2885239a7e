/* The differential test of the fast ECDSA verifier: see ecdsa_diff.h.
 *
 * Input layout (every read past the end yields 0, so any input is a case):
 *   byte 0    curve, among those the fast verifier covers
 *   byte 1    key, by its value mod 16: 0..14 one of four fixed keys (mod 4:
 *             d = 1 (Q = G), d = n - 1 (Q = -G), d = 2, a fixed d), 15 d taken
 *             from the next coordinate-size bytes (a table each: rarer)
 *   byte 2    what is done to the signature (enum below)
 *   byte 3    bit 0: the input is a digest (EVP_PKEY_verify) rather than a
 *             message hashed with the curve's SHA-2 (EVP_DigestVerify)
 *   byte 4    a nonce index (cheap signing), byte 5, 6 mutation parameters
 *   byte 7    length of the message or digest, then its bytes; for SIG_RAW
 *             the signature bytes follow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include "ecdsa_diff.h"
#include "logto_alg.h"
#include "logto_b64.h"
#include "logto_ecfast.h"
#include "logto_jwk.h"
#include "logto_jws.h"

#define MAX_COORD    66
#define MAX_MSG      255
#define K_POOL       32
#define DERIVED_KEYS 8

enum {
    SIG_VALID,     /* as signed */
    SIG_FLIP,      /* one bit of r||s flipped */
    SIG_SWAP,      /* r and s swapped */
    SIG_NEG_S,     /* s replaced by n - s: still valid */
    SIG_SMALL_R,   /* r = 1 .. 16 */
    SIG_SMALL_S,   /* s = 1 .. 16 */
    SIG_R_NEAR_N,  /* r = n + 2 .. n - 13 */
    SIG_S_NEAR_N,  /* s likewise */
    SIG_R_POINT_X, /* r = x(kG) mod n for another nonce */
    SIG_RAW,       /* r||s straight from the input */
    SIG_R_EQ_S,    /* (r, r) */
    SIG_BAD_SIZE,  /* one to three bytes more or fewer */
    SIG_INFINITY,  /* e = -r d: u1 G + u2 Q is the point at infinity */
    SIG_U1_ZERO,   /* e = 0 or n: u1 = 0, a valid signature */
    SIG_MODES
};

typedef struct {
    const char *name;
    const char *group;
    logto_crv_e crv;
    logto_alg_e alg;
    apr_size_t coord;
} diff_curve_info_t;

static const diff_curve_info_t infos[] = {
    {"P-256", "prime256v1", LOGTO_CRV_P256, LOGTO_ALG_ES256, 32},
    {"P-384", "secp384r1", LOGTO_CRV_P384, LOGTO_ALG_ES384, 48},
    {"P-521", "secp521r1", LOGTO_CRV_P521, LOGTO_ALG_ES512, 66},
};

#define N_INFOS (sizeof(infos) / sizeof(infos[0]))

typedef struct {
    apr_pool_t *pool; /* of the JWKs: its cleanups free the table */
    BIGNUM *d;
    EVP_PKEY *pkey;     /* private and public */
    logto_jwk_t *plain; /* no table: OpenSSL */
    logto_jwk_t *fast;  /* with its table */
} diff_key_t;

typedef struct {
    const diff_curve_info_t *info;
    EC_GROUP *group;
    const BIGNUM *n;
    int bits;
    diff_key_t fixed[4];
    diff_key_t derived[DERIVED_KEYS];
    unsigned next_derived;
    BIGNUM *k_inv[K_POOL], *k_r[K_POOL]; /* nonces: 1/k and x(kG) mod n */
} diff_curve_t;

static apr_pool_t *root;
static BN_CTX *bn;
static diff_curve_t covered[N_INFOS];
static int n_covered;

static void fail(const char *what)
{
    fprintf(stderr, "ecdsa_diff: %s\n", what);
    abort();
}

static void need(int ok, const char *what)
{
    if (!ok) {
        fail(what);
    }
}

/* ---- keys -------------------------------------------------------------------- */

static void key_make(diff_curve_t *c, diff_key_t *key, const BIGNUM *d)
{
    unsigned char pub[1 + 2 * MAX_COORD];
    const apr_size_t coord = c->info->coord;
    EC_POINT *q = EC_POINT_new(c->group);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    const char *json, *why = NULL;

    need(q && bld && ctx && apr_pool_create(&key->pool, root) == APR_SUCCESS, "out of memory");
    need(EC_POINT_mul(c->group, q, d, NULL, NULL, bn) == 1, "EC_POINT_mul");
    need(EC_POINT_point2oct(c->group, q, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub), bn)
             == 1 + 2 * coord,
         "point2oct");
    need(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->info->group, 0)
             && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d)
             && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * coord)
             && (params = OSSL_PARAM_BLD_to_param(bld)),
         "key params");
    key->pkey = NULL;
    need(EVP_PKEY_fromdata_init(ctx) == 1
             && EVP_PKEY_fromdata(ctx, &key->pkey, EVP_PKEY_KEYPAIR, params) == 1,
         "EVP_PKEY_fromdata");
    need((key->d = BN_dup(d)) != NULL, "BN_dup");
    json = apr_psprintf(key->pool, "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}",
                        c->info->name, logto_b64url_encode(key->pool, pub + 1, coord),
                        logto_b64url_encode(key->pool, pub + 1 + coord, coord));
    need(logto_jwk_parse(key->pool, json, strlen(json), &key->plain, &why) == APR_SUCCESS
             && logto_jwk_parse(key->pool, json, strlen(json), &key->fast, &why) == APR_SUCCESS,
         "JWK refused");
    /* every valid key gets a table */
    need(logto_jwk_precompute(key->fast) == APR_SUCCESS && logto_jwk_ec_table(key->fast),
         "no table for a valid key");
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    EC_POINT_free(q);
}

static void key_free(diff_key_t *key)
{
    if (key->pool) {
        apr_pool_destroy(key->pool);
    }
    BN_free(key->d);
    EVP_PKEY_free(key->pkey);
    memset(key, 0, sizeof(*key));
}

static void curve_setup(diff_curve_t *c, const diff_curve_info_t *info)
{
    static const char fixed_key_hex[] =
        "6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d8"
        "96d5724e4c70a825f872c9ea60d2edf5"; /* below every n */
    BIGNUM *d = BN_new(), *k = BN_new();
    EC_POINT *kg = NULL;
    int i;

    c->info = info;
    need((c->group = EC_GROUP_new_by_curve_name(OBJ_sn2nid(info->group))) != NULL, "group");
    c->n = EC_GROUP_get0_order(c->group);
    c->bits = BN_num_bits(c->n);
    need(d && k && (kg = EC_POINT_new(c->group)), "out of memory");
    need(BN_one(d), "BN_one");
    key_make(c, &c->fixed[0], d);
    need(BN_sub(d, c->n, BN_value_one()), "BN_sub");
    key_make(c, &c->fixed[1], d);
    need(BN_set_word(d, 2), "BN_set_word");
    key_make(c, &c->fixed[2], d);
    need(BN_hex2bn(&d, fixed_key_hex) && BN_nnmod(d, d, c->n, bn), "BN_hex2bn");
    key_make(c, &c->fixed[3], d);
    /* nonces k = 3, 5, 7, ...: their x(kG) are as good as random ones */
    for (i = 0; i < K_POOL; i++) {
        BIGNUM *x = BN_new();

        need(x && BN_set_word(k, (BN_ULONG)i * 2 + 3), "BN_set_word");
        need(EC_POINT_mul(c->group, kg, k, NULL, NULL, bn) == 1
                 && EC_POINT_get_affine_coordinates(c->group, kg, x, NULL, bn) == 1
                 && BN_nnmod(x, x, c->n, bn)
                 && (c->k_inv[i] = BN_mod_inverse(NULL, k, c->n, bn)) != NULL,
             "nonce pool");
        c->k_r[i] = x;
    }
    EC_POINT_free(kg);
    BN_free(k);
    BN_free(d);
}

static void teardown(void)
{
    int i, j;

    for (i = 0; i < n_covered; i++) {
        diff_curve_t *c = &covered[i];

        for (j = 0; j < 4; j++) {
            key_free(&c->fixed[j]);
        }
        for (j = 0; j < DERIVED_KEYS; j++) {
            key_free(&c->derived[j]);
        }
        for (j = 0; j < K_POOL; j++) {
            BN_free(c->k_inv[j]);
            BN_free(c->k_r[j]);
        }
        EC_GROUP_free(c->group);
    }
    BN_CTX_free(bn);
    apr_pool_destroy(root);
    apr_terminate();
}

static void setup(void)
{
    size_t i;

    need(apr_initialize() == APR_SUCCESS && apr_pool_create(&root, NULL) == APR_SUCCESS
             && (bn = BN_CTX_new()) != NULL,
         "setup");
    for (i = 0; i < N_INFOS; i++) {
        if (logto_ecfast_covers(infos[i].crv)) {
            curve_setup(&covered[n_covered++], &infos[i]);
        }
    }
    atexit(teardown);
}

int ecdsa_diff_enabled(void)
{
    if (!root) {
        setup();
    }
    return n_covered > 0;
}

/* ---- input ------------------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t left;
} reader_t;

static unsigned read_byte(reader_t *r)
{
    if (!r->left) {
        return 0;
    }
    r->left--;
    return *r->p++;
}

static void read_bytes(reader_t *r, unsigned char *out, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        out[i] = (unsigned char)read_byte(r);
    }
}

/* The key for this input; derived keys are kept, a few per curve, so that
 * inputs that differ elsewhere do not each pay for a table. */
static diff_key_t *key_for(diff_curve_t *c, reader_t *in)
{
    unsigned char raw[MAX_COORD];
    unsigned which = read_byte(in) % 16;
    BIGNUM *d;
    int i;

    if (which < 15) {
        return &c->fixed[which % 4];
    }
    read_bytes(in, raw, c->info->coord);
    need((d = BN_bin2bn(raw, (int)c->info->coord, NULL)) != NULL && BN_nnmod(d, d, c->n, bn),
         "BN_bin2bn");
    if (BN_is_zero(d)) {
        need(BN_one(d), "BN_one");
    }
    for (i = 0; i < DERIVED_KEYS; i++) {
        if (c->derived[i].d && BN_cmp(c->derived[i].d, d) == 0) {
            BN_free(d);
            return &c->derived[i];
        }
    }
    i = (int)(c->next_derived++ % DERIVED_KEYS);
    key_free(&c->derived[i]);
    key_make(c, &c->derived[i], d);
    BN_free(d);
    return &c->derived[i];
}

/* ---- signing ----------------------------------------------------------------- */

/* e from a digest as FIPS 186-4 says (the leftmost bits), for the cheap
 * signer and the constructions. */
static void digest_to_e(const diff_curve_t *c, const unsigned char *dg, size_t len, BIGNUM *e)
{
    size_t used = len;

    if (8 * len > (size_t)c->bits) {
        used = ((size_t)c->bits + 7) / 8;
    }
    need(BN_bin2bn(dg, (int)used, e) != NULL, "BN_bin2bn");
    if (8 * used > (size_t)c->bits) {
        need(BN_rshift(e, e, (int)(8 * used) - c->bits), "BN_rshift");
    }
}

/* The digest (ceil(bits / 8) bytes) whose e is exactly v (v < 2^bits). */
static size_t e_to_digest(const diff_curve_t *c, const BIGNUM *v, unsigned char *dg)
{
    size_t len = ((size_t)c->bits + 7) / 8;
    BIGNUM *t = BN_dup(v);

    need(t && BN_lshift(t, t, (int)(8 * len) - c->bits)
             && BN_bn2binpad(t, dg, (int)len) == (int)len,
         "e_to_digest");
    BN_free(t);
    return len;
}

static void raw_from(const diff_curve_t *c, const BIGNUM *r, const BIGNUM *s, unsigned char *sig)
{
    const int coord = (int)c->info->coord;

    need(BN_bn2binpad(r, sig, coord) == coord && BN_bn2binpad(s, sig + coord, coord) == coord,
         "raw signature");
}

/* s = k^-1 (e + r d) mod n with a nonce from the pool (OpenSSL's BIGNUM). */
static void sign_cheap(const diff_curve_t *c, const diff_key_t *key, const unsigned char *dg,
                       size_t len, unsigned nonce, unsigned char *sig)
{
    BIGNUM *e = BN_new(), *s = BN_new();
    unsigned i = nonce % K_POOL;

    need(e && s, "out of memory");
    digest_to_e(c, dg, len, e);
    need(BN_mod_mul(s, c->k_r[i], key->d, c->n, bn) && BN_mod_add(s, s, e, c->n, bn)
             && BN_mod_mul(s, s, c->k_inv[i], c->n, bn),
         "cheap signature");
    if (BN_is_zero(s)) { /* e = -r d: sign with the next nonce */
        BN_free(e);
        BN_free(s);
        sign_cheap(c, key, dg, len, nonce + 1, sig);
        return;
    }
    raw_from(c, c->k_r[i], s, sig);
    BN_free(e);
    BN_free(s);
}

/* OpenSSL's own ECDSA signature over the digest, as raw r||s. */
static void sign_openssl(const diff_curve_t *c, const diff_key_t *key, const unsigned char *dg,
                         size_t len, unsigned char *sig)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    unsigned char der[160];
    const unsigned char *p = der;
    size_t der_len = sizeof(der);
    ECDSA_SIG *es;

    need(ctx && EVP_PKEY_sign_init(ctx) == 1 && EVP_PKEY_sign(ctx, der, &der_len, dg, len) == 1
             && (es = d2i_ECDSA_SIG(NULL, &p, (long)der_len)) != NULL,
         "EVP_PKEY_sign");
    raw_from(c, ECDSA_SIG_get0_r(es), ECDSA_SIG_get0_s(es), sig);
    ECDSA_SIG_free(es);
    EVP_PKEY_CTX_free(ctx);
}

/* ---- verification ------------------------------------------------------------ */

/* OpenSSL on the digest (EVP_PKEY_verify, no digest set: any length) or on
 * the message (EVP_DigestVerify), with the raw signature in DER. A raw
 * signature of the wrong size is no JWS signature: no. */
static int openssl_verifies(const diff_curve_t *c, const diff_key_t *key, const unsigned char *msg,
                            size_t msg_len, int is_digest, const unsigned char *sig, size_t sig_len)
{
    const int coord = (int)c->info->coord;
    unsigned char der[200], *out = der;
    ECDSA_SIG *es;
    BIGNUM *r, *s;
    int der_len, ok = 0;

    if (sig_len != 2 * c->info->coord) {
        return 0;
    }
    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, coord, NULL);
    s = BN_bin2bn(sig + coord, coord, NULL);
    need(es && r && s && ECDSA_SIG_set0(es, r, s) == 1, "ECDSA_SIG");
    der_len = i2d_ECDSA_SIG(es, &out);
    need(der_len > 0, "i2d_ECDSA_SIG");
    if (is_digest) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);

        ok = ctx && EVP_PKEY_verify_init(ctx) == 1
             && EVP_PKEY_verify(ctx, der, (size_t)der_len, msg, msg_len) == 1;
        EVP_PKEY_CTX_free(ctx);
    }
    else {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        ok = ctx
             && EVP_DigestVerifyInit(ctx, NULL, logto_alg_md(c->info->alg), NULL, key->pkey) == 1
             && EVP_DigestVerify(ctx, der, (size_t)der_len, msg, msg_len) == 1;
        EVP_MD_CTX_free(ctx);
    }
    ECDSA_SIG_free(es);
    ERR_clear_error();
    return ok;
}

static int jws_verifies(const diff_curve_t *c, const logto_jwk_t *key, const unsigned char *msg,
                        size_t msg_len, const unsigned char *sig, size_t sig_len)
{
    logto_jws_t jws;
    logto_result_t res;

    memset(&jws, 0, sizeof(jws));
    jws.alg = c->info->alg;
    jws.signing_input = (const char *)msg;
    jws.signing_input_len = msg_len;
    jws.sig = sig;
    jws.sig_len = sig_len;
    return logto_jws_verify(&jws, key, &res) == APR_SUCCESS;
}

static void disagree(const diff_curve_t *c, unsigned mode, const char *a, int va, const char *b,
                     int vb)
{
    fprintf(stderr, "ecdsa_diff: %s, mode %u: %s says %s, %s says %s\n", c->info->name, mode, a,
            va ? "yes" : "no", b, vb ? "yes" : "no");
    abort();
}

/* ---- one case ---------------------------------------------------------------- */

void ecdsa_diff_case(const uint8_t *data, size_t size, int with_openssl, ecdsa_diff_stats_t *stats)
{
    reader_t in = {data, size};
    unsigned char msg[MAX_MSG], digest[EVP_MAX_MD_SIZE + MAX_COORD], sig[2 * MAX_COORD + 3];
    unsigned char tmp[MAX_COORD];
    diff_curve_t *c;
    diff_key_t *key;
    const logto_ecfast_key_t *table;
    unsigned mode, nonce, p1, p2;
    size_t coord, msg_len, digest_len, sig_len;
    int is_digest, truth = -1, fast;
    BIGNUM *v = NULL, *w = NULL;

    if (!ecdsa_diff_enabled()) {
        return;
    }
    c = &covered[read_byte(&in) % (unsigned)n_covered];
    coord = c->info->coord;
    key = key_for(c, &in);
    mode = read_byte(&in) % SIG_MODES;
    is_digest = (read_byte(&in) & 1u) != 0;
    nonce = read_byte(&in);
    p1 = read_byte(&in);
    p2 = read_byte(&in);
    msg_len = read_byte(&in) % (is_digest ? sizeof(digest) : sizeof(msg));
    read_bytes(&in, is_digest ? digest : msg, msg_len);
    v = BN_new();
    w = BN_new();
    need(v && w, "out of memory");

    /* Two constructions need a digest of their own. */
    if (mode == SIG_INFINITY || mode == SIG_U1_ZERO) {
        is_digest = 1;
        if (mode == SIG_U1_ZERO) {
            /* e = 0 (a zero digest of any length) or e = n */
            if (p1 & 1) {
                digest_len = e_to_digest(c, c->n, digest);
            }
            else {
                digest_len = p2 % sizeof(digest);
                memset(digest, 0, digest_len);
            }
            msg_len = digest_len;
        }
    }
    if (is_digest) {
        digest_len = msg_len;
    }
    else {
        unsigned int len = 0;

        need(EVP_Digest(msg, msg_len, digest, &len, logto_alg_md(c->info->alg), NULL) == 1,
             "EVP_Digest");
        digest_len = len;
    }
    table = logto_jwk_ec_table(key->fast);
    need(table != NULL, "no table");

    /* the signature: valid first, then what the mode does to it */
    sig_len = 2 * coord;
    if (mode == SIG_INFINITY) {
        /* r from the pool, s from the input; e = -r d mod n */
        need(BN_mod_mul(v, c->k_r[nonce % K_POOL], key->d, c->n, bn)
                 && BN_mod_sub(v, c->n, v, c->n, bn),
             "e = -r d");
        digest_len = e_to_digest(c, v, digest);
        msg_len = digest_len;
        read_bytes(&in, tmp, coord);
        need(BN_bin2bn(tmp, (int)coord, w) && BN_nnmod(w, w, c->n, bn), "s");
        if (BN_is_zero(w)) {
            need(BN_one(w), "BN_one");
        }
        raw_from(c, c->k_r[nonce % K_POOL], w, sig);
        truth = 0;
    }
    else if (mode == SIG_RAW) {
        read_bytes(&in, sig, sig_len);
    }
    else if (with_openssl) {
        sign_openssl(c, key, digest, digest_len, sig);
    }
    else {
        sign_cheap(c, key, digest, digest_len, nonce, sig);
    }
    switch (mode) {
    case SIG_VALID:
    case SIG_U1_ZERO:
        truth = 1;
        break;
    case SIG_FLIP: {
        size_t bit = (p1 * 256 + p2) % (sig_len * 8);

        sig[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
        truth = 0;
        break;
    case SIG_SWAP:
        memcpy(tmp, sig, coord);
        memmove(sig, sig + coord, coord);
        memcpy(sig + coord, tmp, coord);
        truth = 0;
        break;
    case SIG_NEG_S:
        need(BN_bin2bn(sig + coord, (int)coord, v) && BN_sub(v, c->n, v), "n - s");
        need(BN_bn2binpad(v, sig + coord, (int)coord) == (int)coord, "n - s");
        truth = 1;
        break;
    case SIG_SMALL_R:
    case SIG_SMALL_S:
        memset(mode == SIG_SMALL_R ? sig : sig + coord, 0, coord);
        (mode == SIG_SMALL_R ? sig : sig + coord)[coord - 1] = (unsigned char)(p1 % 16 + 1);
        truth = 0;
        break;
    case SIG_R_NEAR_N:
    case SIG_S_NEAR_N:
        /* n + 2 .. n - 13 */
        need(BN_copy(v, c->n) && BN_add_word(v, 2) && BN_sub_word(v, p1 % 16), "near n");
        need(BN_bn2binpad(v, mode == SIG_R_NEAR_N ? sig : sig + coord, (int)coord) == (int)coord,
             "near n");
        truth = 0;
        break;
    case SIG_R_POINT_X:
        memcpy(tmp, sig, coord);
        need(BN_bn2binpad(c->k_r[(nonce + 1 + p1 % (K_POOL - 1)) % K_POOL], sig, (int)coord)
                 == (int)coord,
             "x(kG)");
        truth = memcmp(tmp, sig, coord) == 0 ? 1 : 0;
        break;
    case SIG_R_EQ_S:
        memcpy(sig + coord, sig, coord);
        truth = 0;
        break;
    case SIG_BAD_SIZE:
        sig_len = (p1 & 1) ? sig_len + 1 + p2 % 3 : sig_len - 1 - p2 % 3;
        memset(sig + 2 * coord, (int)p2, sizeof(sig) - 2 * coord);
        truth = 0;
        break;
    default: /* SIG_RAW, SIG_INFINITY: set above */
        break;
    }
    /* Raw signatures have no known answer: OpenSSL decides. */
    if (truth < 0) {
        with_openssl = 1;
    }

    fast = logto_ecfast_verify(table, digest, digest_len, sig, sig_len) == APR_SUCCESS;
    if (truth >= 0) {
        if (fast != truth) {
            disagree(c, mode, "the fast verifier", fast, "the construction", truth);
        }
        stats->by_truth++;
    }
    if (with_openssl) {
        int evp = openssl_verifies(c, key, is_digest ? digest : msg,
                                   is_digest ? digest_len : msg_len, is_digest, sig, sig_len);

        if (fast != evp) {
            disagree(c, mode, "the fast verifier", fast, "OpenSSL", evp);
        }
        if (!is_digest) {
            /* the module's own path, with the table and without */
            int with_table = jws_verifies(c, key->fast, msg, msg_len, sig, sig_len);
            int without = jws_verifies(c, key->plain, msg, msg_len, sig, sig_len);

            if (with_table != evp) {
                disagree(c, mode, "logto_jws_verify with the table", with_table, "OpenSSL", evp);
            }
            if (without != evp) {
                disagree(c, mode, "logto_jws_verify without the table", without, "OpenSSL", evp);
            }
        }
        stats->openssl++;
    }
    stats->cases++;
    stats->verified += (unsigned long)fast;
    stats->per_mode[mode]++;
    BN_free(w);
    BN_free(v);
}
