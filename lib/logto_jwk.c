#include <stdint.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "logto_b64.h"
#include "logto_json.h"
#include "logto_jwk.h"
#include "logto_log.h"
#include "logto_lognum.h"

/* RSA moduli from 2048 bits (RFC 7518 section 3.3) up to 16384 bits. */
#define RSA_MIN_BITS    2048
#define RSA_MAX_BYTES   2048
#define RSA_MAX_E_BYTES 8
#define KID_MAX_LEN     512

typedef struct {
    const char *name;
    logto_crv_e crv;
    const char *group; /* OpenSSL group name */
    int nid;
    apr_size_t coord_len;
} curve_desc_t;

static const curve_desc_t curves[] = {
    {"P-256", LOGTO_CRV_P256, "prime256v1", NID_X9_62_prime256v1, 32},
    {"P-384", LOGTO_CRV_P384, "secp384r1", NID_secp384r1, 48},
    {"P-521", LOGTO_CRV_P521, "secp521r1", NID_secp521r1, 66},
};

/* Members that only a private key has: a public key set carrying them has
 * leaked its signing keys, which must not be trusted. */
static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

static apr_status_t pkey_release(void *data)
{
    EVP_PKEY_free((EVP_PKEY *)data);
    return APR_SUCCESS;
}

static const curve_desc_t *curve_by_name(const char *name)
{
    apr_size_t i;

    for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (strcmp(curves[i].name, name) == 0) {
            return &curves[i];
        }
    }
    return NULL;
}

/* Decodes a base64url member into buf; exact when want > 0, else 1..cap. */
static int member_bytes(json_t *obj, const char *key, unsigned char *buf, apr_size_t cap,
                        apr_size_t want, apr_size_t *len)
{
    const char *s;

    if (logto_json_string(obj, key, &s) != 1) {
        return 0;
    }
    if (logto_b64url_decode_buf(s, strlen(s), buf, cap, len) != APR_SUCCESS || *len == 0) {
        return 0;
    }
    return want == 0 || *len == want;
}

static apr_status_t pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **pkey)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    apr_status_t rv = APR_EINVAL;

    *pkey = NULL;
    if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1
        && EVP_PKEY_fromdata(ctx, pkey, EVP_PKEY_PUBLIC_KEY, params) == 1) {
        rv = APR_SUCCESS;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return rv;
}

/* Frees the fast verifier's table when the key's pool goes: registered at
 * parse time, so that publishing a table later never touches the pool. */
static apr_status_t ec_table_release(void *data)
{
    logto_jwk_t *key = data;

    logto_ecfast_key_free(apr_atomic_xchgptr(&key->ec_table, NULL));
    return APR_SUCCESS;
}

static apr_status_t pkey_ctx_release(void *data)
{
    EVP_PKEY_CTX_free((EVP_PKEY_CTX *)data);
    return APR_SUCCESS;
}

static int pkey_public_ok(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = ctx && EVP_PKEY_public_check(ctx) == 1;

    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static apr_status_t rsa_key(json_t *obj, logto_jwk_t *key, const char **why)
{
    unsigned char n[RSA_MAX_BYTES], e[RSA_MAX_E_BYTES];
    apr_size_t n_len, e_len;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    apr_status_t rv = APR_EINVAL;

    if (!member_bytes(obj, "n", n, sizeof(n), 0, &n_len)
        || !member_bytes(obj, "e", e, sizeof(e), 0, &e_len)) {
        *why = "RSA key without valid n and e";
        return APR_EINVAL;
    }
    /* RFC 7518 section 6.3.1: no leading zero octets; e must be odd and > 1. */
    if (n[0] == 0 || e[0] == 0 || (e[e_len - 1] & 1) == 0 || (e_len == 1 && e[0] == 1)) {
        *why = "RSA key with malformed n or e";
        return APR_EINVAL;
    }
    key->bits = (int)(n_len * 8);
    for (unsigned char top = n[0]; !(top & 0x80); top <<= 1) {
        key->bits--;
    }
    if (key->bits < RSA_MIN_BITS) {
        *why = "RSA key shorter than 2048 bits";
        return APR_EINVAL;
    }
    bn_n = BN_bin2bn(n, (int)n_len, NULL);
    bn_e = BN_bin2bn(e, (int)e_len, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (bn_n && bn_e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n)
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
        rv = pkey_fromdata("RSA", bld, &key->pkey);
    }
    if (rv != APR_SUCCESS) {
        *why = "RSA key rejected by OpenSSL";
    }
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return rv;
}

static apr_status_t ec_order(const curve_desc_t *curve, unsigned char *order)
{
    EC_GROUP *group = EC_GROUP_new_by_curve_name(curve->nid);
    const BIGNUM *n = group ? EC_GROUP_get0_order(group) : NULL;
    int ok = n && BN_bn2binpad(n, order, (int)curve->coord_len) == (int)curve->coord_len;

    EC_GROUP_free(group);
    return ok ? APR_SUCCESS : APR_EGENERAL;
}

static apr_status_t ec_key(json_t *obj, logto_jwk_t *key, const char **why)
{
    unsigned char point[1 + 2 * LOGTO_EC_MAX_COORD];
    const curve_desc_t *curve;
    const char *crv;
    apr_size_t len;
    OSSL_PARAM_BLD *bld;
    apr_status_t rv = APR_EINVAL;

    if (logto_json_string(obj, "crv", &crv) != 1 || !(curve = curve_by_name(crv))) {
        *why = "EC key on an unsupported curve";
        return APR_EINVAL;
    }
    /* RFC 7518 section 6.2.1.2: coordinates are exactly the field size. */
    point[0] = 0x04;
    if (!member_bytes(obj, "x", point + 1, curve->coord_len, curve->coord_len, &len)
        || !member_bytes(obj, "y", point + 1 + curve->coord_len, curve->coord_len, curve->coord_len,
                         &len)) {
        *why = "EC key with malformed coordinates";
        return APR_EINVAL;
    }
    key->crv = curve->crv;
    key->coord_len = curve->coord_len;
    memcpy(key->ec_xy, point + 1, 2 * curve->coord_len);
    key->bits = (curve->crv == LOGTO_CRV_P521) ? 521 : (int)(curve->coord_len * 8);
    if (ec_order(curve, key->order) != APR_SUCCESS) {
        *why = "EC curve unavailable";
        return APR_EGENERAL;
    }
    bld = OSSL_PARAM_BLD_new();
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve->group, 0)
        && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                            1 + 2 * curve->coord_len)) {
        rv = pkey_fromdata("EC", bld, &key->pkey);
    }
    OSSL_PARAM_BLD_free(bld);
    if (rv == APR_SUCCESS && !pkey_public_ok(key->pkey)) {
        EVP_PKEY_free(key->pkey);
        key->pkey = NULL;
        rv = APR_EINVAL;
    }
    if (rv != APR_SUCCESS) {
        *why = "EC key is not a point on its curve";
    }
    return rv;
}

/* RFC 8032 section 5.1.3 decodes y only below p = 2^255 - 19, and a key in
 * the 8-torsion (y = 0, 1, p - 1, or +-y8, the y of the points of order 8)
 * lets anyone forge: R = identity, S = 0 passes [S]B = R + [k]A whenever the
 * key's order divides k. OpenSSL checks neither. x is little-endian y with
 * the sign of the x coordinate in the top bit; x = 0 with that bit set
 * (y = +-1) is caught as a small-order y too. */
static const char *ed25519_weak(const unsigned char x[32])
{
    static const unsigned char p_le[32] = {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    static const unsigned char small_y[][32] = {
        {0x00}, /* order 4 */
        {0x01}, /* the identity */
        {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, /* order 2 */
        {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
         0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
         0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05}, /* order 8 */
        {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
         0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
         0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a}, /* order 8 */
    };
    unsigned char y[32];
    apr_size_t i;
    int k;

    memcpy(y, x, sizeof(y));
    y[31] &= 0x7f;
    /* y >= p, compared from the most significant byte */
    for (k = 31; k >= 0 && y[k] == p_le[k]; k--) {
    }
    if (k < 0 || y[k] > p_le[k]) {
        return "Ed25519 key with a non-canonical y";
    }
    for (i = 0; i < sizeof(small_y) / sizeof(small_y[0]); i++) {
        if (memcmp(y, small_y[i], sizeof(y)) == 0) {
            return "Ed25519 key of small order";
        }
    }
    return NULL;
}

static apr_status_t okp_key(json_t *obj, logto_jwk_t *key, const char **why)
{
    unsigned char x[32];
    const char *crv;
    apr_size_t len;

    if (logto_json_string(obj, "crv", &crv) != 1 || strcmp(crv, "Ed25519") != 0) {
        *why = "OKP key on an unsupported curve";
        return APR_EINVAL;
    }
    if (!member_bytes(obj, "x", x, sizeof(x), sizeof(x), &len)) {
        *why = "Ed25519 key with malformed x";
        return APR_EINVAL;
    }
    if ((*why = ed25519_weak(x)) != NULL) {
        return APR_EINVAL;
    }
    key->crv = LOGTO_CRV_ED25519;
    key->bits = 256;
    key->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, sizeof(x));
    if (!key->pkey) {
        *why = "Ed25519 key rejected by OpenSSL";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static apr_status_t key_fingerprint(logto_jwk_t *key)
{
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(key->pkey, &der);

    if (len <= 0) {
        ERR_clear_error();
        return APR_EGENERAL;
    }
    SHA256(der, (size_t)len, key->fingerprint);
    OPENSSL_free(der);
    return APR_SUCCESS;
}

/* A verify context for alg with key, padding and digest set, or NULL. */
static EVP_PKEY_CTX *verify_template(const logto_jwk_t *key, logto_alg_e alg)
{
    const EVP_MD *md = logto_alg_md(alg);
    EVP_PKEY_CTX *ctx;
    int ok;

    if (!md || !(ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL))) {
        return NULL;
    }
    ok = EVP_PKEY_verify_init(ctx) == 1;
    if (ok && key->kty == LOGTO_KTY_RSA) {
        ok = logto_alg_is_pss(alg)
                 ? (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1
                    && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) == 1
                    && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1)
                 : EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
    }
    ok = ok && EVP_PKEY_CTX_set_signature_md(ctx, md) == 1;
    if (!ok) {
        EVP_PKEY_CTX_free(ctx);
        ERR_clear_error();
        return NULL;
    }
    return ctx;
}

/* Templates for every algorithm the key fits; one that cannot be made just
 * leaves that algorithm to the slower path. */
static void prepare_verify(apr_pool_t *p, logto_jwk_t *key)
{
    int alg;

    for (alg = LOGTO_ALG_UNKNOWN + 1; alg < LOGTO_ALG_COUNT; alg++) {
        if (logto_jwk_fits_alg(key, (logto_alg_e)alg)
            && (key->verify[alg] = verify_template(key, (logto_alg_e)alg))) {
            apr_pool_cleanup_register(p, key->verify[alg], pkey_ctx_release, apr_pool_cleanup_null);
        }
    }
}

/* "use" must be "sig" and "key_ops" must allow "verify" when present. */
static int usable_for_verify(json_t *obj)
{
    const char *use;
    json_t *ops, *op;
    size_t i;
    int r = logto_json_string(obj, "use", &use);

    if (r < 0 || (r == 1 && strcmp(use, "sig") != 0)) {
        return 0;
    }
    r = logto_json_array(obj, "key_ops", &ops);
    if (r < 0) {
        return 0;
    }
    if (r == 1) {
        json_array_foreach (ops, i, op) {
            if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0) {
                return 1;
            }
        }
        return 0;
    }
    return 1;
}

static apr_status_t jwk_from_object(apr_pool_t *p, json_t *obj, logto_jwk_t **out, const char **why)
{
    logto_jwk_t *key = apr_pcalloc(p, sizeof(*key));
    const char *kty, *kid, *alg;
    apr_size_t i;
    apr_status_t rv;
    int r;

    for (i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++) {
        if (json_object_get(obj, private_members[i])) {
            *why = "JWK holds private key material";
            return APR_EINVAL;
        }
    }
    if (logto_json_string(obj, "kty", &kty) != 1) {
        *why = "JWK without kty";
        return APR_EINVAL;
    }
    if (!usable_for_verify(obj)) {
        *why = "JWK not meant for signature verification (use/key_ops)";
        return APR_EINVAL;
    }
    r = logto_json_string(obj, "kid", &kid);
    if (r < 0 || (r == 1 && strlen(kid) > KID_MAX_LEN)) {
        *why = "JWK with a malformed kid";
        return APR_EINVAL;
    }
    key->kid = (r == 1) ? apr_pstrdup(p, kid) : NULL;
    r = logto_json_string(obj, "alg", &alg);
    if (r < 0 || (r == 1 && (key->alg = logto_alg_from_name(alg)) == LOGTO_ALG_UNKNOWN)) {
        *why = "JWK for an algorithm we do not verify";
        return APR_EINVAL;
    }
    if (strcmp(kty, "RSA") == 0) {
        key->kty = LOGTO_KTY_RSA;
        rv = rsa_key(obj, key, why);
    }
    else if (strcmp(kty, "EC") == 0) {
        key->kty = LOGTO_KTY_EC;
        rv = ec_key(obj, key, why);
    }
    else if (strcmp(kty, "OKP") == 0) {
        key->kty = LOGTO_KTY_OKP;
        rv = okp_key(obj, key, why);
    }
    else {
        *why = "JWK of an unsupported kty";
        rv = APR_EINVAL;
    }
    if (key->pkey) {
        apr_pool_cleanup_register(p, key->pkey, pkey_release, apr_pool_cleanup_null);
    }
    ERR_clear_error();
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (key->alg != LOGTO_ALG_UNKNOWN
        && (logto_alg_kty(key->alg) != key->kty || logto_alg_crv(key->alg) != key->crv)) {
        *why = "JWK alg does not fit its key type";
        return APR_EINVAL;
    }
    if (key_fingerprint(key) != APR_SUCCESS) {
        *why = "JWK cannot be encoded";
        return APR_EINVAL;
    }
    prepare_verify(p, key);
    if (key->kty == LOGTO_KTY_EC && logto_ecfast_covers(key->crv)) {
        apr_pool_cleanup_register(p, key, ec_table_release, apr_pool_cleanup_null);
    }
    *out = key;
    return APR_SUCCESS;
}

apr_status_t logto_jwk_parse(apr_pool_t *p, const char *json, apr_size_t len, logto_jwk_t **key,
                             const char **why)
{
    json_t *obj;
    apr_status_t rv = logto_json_parse_object(p, json, len, &obj, why);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    return jwk_from_object(p, obj, key, why);
}

static int same_key_slot(const logto_jwk_t *a, const logto_jwk_t *b)
{
    return a->kid && b->kid && strcmp(a->kid, b->kid) == 0 && a->kty == b->kty && a->crv == b->crv;
}

apr_status_t logto_jwks_parse(apr_pool_t *p, const char *json, apr_size_t len, logto_jwks_t **out,
                              const char **why)
{
    logto_jwks_t *set;
    json_t *doc, *keys, *member;
    size_t i;
    apr_status_t rv;

    if (len > LOGTO_JWKS_MAX_BYTES) {
        *why = "key set document too large";
        return APR_EINVAL;
    }
    rv = logto_json_parse_object(p, json, len, &doc, why);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (logto_json_array(doc, "keys", &keys) != 1) {
        *why = "key set without a \"keys\" array";
        return APR_EINVAL;
    }
    set = apr_pcalloc(p, sizeof(*set));
    set->keys = apr_array_make(p, 4, sizeof(logto_jwk_t *));
    json_array_foreach (keys, i, member) {
        const char *skip = NULL;
        logto_jwk_t *key = NULL;
        int j;

        if (!json_is_object(member)) {
            skip = "member is not an object";
        }
        else if (set->keys->nelts >= LOGTO_JWKS_MAX_KEYS) {
            skip = "too many keys in the set";
        }
        else if (jwk_from_object(p, member, &key, &skip) == APR_SUCCESS) {
            for (j = 0; j < set->keys->nelts; j++) {
                if (same_key_slot(APR_ARRAY_IDX(set->keys, j, const logto_jwk_t *), key)) {
                    skip = "duplicate kid";
                    break;
                }
            }
        }
        if (skip) {
            set->skipped++;
            logto_log_write(LOGTO_LOG_DEBUG, APR_SUCCESS, LOGTO_MARK,
                            LOGTO0206 "key set member %lu skipped: %s", (unsigned long)i, skip);
            continue;
        }
        APR_ARRAY_PUSH(set->keys, logto_jwk_t *) = key;
    }
    if (set->keys->nelts == 0) {
        *why = "key set holds no usable key";
        return APR_EINVAL;
    }
    *out = set;
    return APR_SUCCESS;
}

int logto_jwk_fits_alg(const logto_jwk_t *key, logto_alg_e alg)
{
    return alg != LOGTO_ALG_UNKNOWN && key->kty == logto_alg_kty(alg)
           && key->crv == logto_alg_crv(alg) && (key->alg == LOGTO_ALG_UNKNOWN || key->alg == alg);
}

const logto_jwk_t *logto_jwks_find(const logto_jwks_t *set, const char *kid, logto_alg_e alg)
{
    const logto_jwk_t *found = NULL;
    int i, candidates = 0;

    for (i = 0; i < set->keys->nelts; i++) {
        const logto_jwk_t *key = APR_ARRAY_IDX(set->keys, i, const logto_jwk_t *);

        if (kid) {
            if (key->kid && strcmp(key->kid, kid) == 0 && logto_jwk_fits_alg(key, alg)) {
                return key;
            }
        }
        else if (key->kty == logto_alg_kty(alg) && key->crv == logto_alg_crv(alg)) {
            /* Without a kid only an unambiguous key of the type may be tried. */
            candidates++;
            found = key;
        }
    }
    if (!kid && candidates == 1 && logto_jwk_fits_alg(found, alg)) {
        return found;
    }
    return NULL;
}

int logto_jwks_has_kid(const logto_jwks_t *set, const char *kid)
{
    int i;

    for (i = 0; kid && i < set->keys->nelts; i++) {
        const logto_jwk_t *key = APR_ARRAY_IDX(set->keys, i, const logto_jwk_t *);

        if (key->kid && strcmp(key->kid, kid) == 0) {
            return 1;
        }
    }
    return 0;
}

apr_status_t logto_jwk_precompute(logto_jwk_t *key)
{
    logto_ecfast_key_t *table = NULL;
    apr_status_t rv;

    if (key->kty != LOGTO_KTY_EC || !logto_ecfast_covers(key->crv) || logto_jwk_ec_table(key)) {
        return APR_SUCCESS;
    }
    rv = logto_ecfast_key_make(key->crv, key->ec_xy, key->ec_xy + key->coord_len, key->coord_len,
                               &table);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* Publish once: should another precompute have won, keep its table. */
    if (apr_atomic_casptr(&key->ec_table, table, NULL) != NULL) {
        logto_ecfast_key_free(table);
    }
    return APR_SUCCESS;
}

apr_status_t logto_jwks_precompute(logto_jwks_t *set)
{
    apr_status_t rv, first = APR_SUCCESS;
    int i;

    for (i = 0; i < set->keys->nelts; i++) {
        rv = logto_jwk_precompute(APR_ARRAY_IDX(set->keys, i, logto_jwk_t *));
        if (first == APR_SUCCESS) {
            first = rv;
        }
    }
    return first;
}

const logto_ecfast_key_t *logto_jwk_ec_table(const logto_jwk_t *key)
{
    /* apr_atomic_casptr wants a writable slot; with both values NULL it is
     * an atomic read that never changes the slot. The key is const to its
     * readers only: its memory is the parse pool's. */
    return apr_atomic_casptr((volatile void **)(uintptr_t)&key->ec_table, NULL, NULL);
}

apr_status_t logto_jwk_thumbprint(apr_pool_t *p, const char *json, apr_size_t len,
                                  const char **thumbprint)
{
    /* RFC 7638 section 3.2: the required members, sorted, no whitespace. */
    static const char *const rsa_members[] = {"e", "kty", "n", NULL};
    static const char *const ec_members[] = {"crv", "kty", "x", "y", NULL};
    static const char *const okp_members[] = {"crv", "kty", "x", NULL};
    const char *const *members;
    const char *kty, *why, *value;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    json_t *obj;
    const char *canon = "{";
    int i;

    if (logto_json_parse_object(p, json, len, &obj, &why) != APR_SUCCESS
        || logto_json_string(obj, "kty", &kty) != 1) {
        return APR_EINVAL;
    }
    if (strcmp(kty, "RSA") == 0) {
        members = rsa_members;
    }
    else if (strcmp(kty, "EC") == 0) {
        members = ec_members;
    }
    else if (strcmp(kty, "OKP") == 0) {
        members = okp_members;
    }
    else {
        return APR_EINVAL;
    }
    for (i = 0; members[i]; i++) {
        /* Values of these members are base64url or plain names: no escaping. */
        if (logto_json_string(obj, members[i], &value) != 1 || strpbrk(value, "\"\\")) {
            return APR_EINVAL;
        }
        canon = apr_pstrcat(p, canon, i ? "," : "", "\"", members[i], "\":\"", value, "\"", NULL);
    }
    canon = apr_pstrcat(p, canon, "}", NULL);
    SHA256((const unsigned char *)canon, strlen(canon), digest);
    *thumbprint = logto_b64url_encode(p, digest, sizeof(digest));
    return APR_SUCCESS;
}
