#include <string.h>

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "logto_b64.h"
#include "logto_crypto.h"
#include "logto_json.h"
#include "logto_jws.h"

/* A signature is at most an RSA-16384 one. */
#define SIG_MAX_BYTES 2048
/* DER of an ECDSA-P521 signature: SEQUENCE of two INTEGERs of up to 67 bytes. */
#define ECDSA_DER_MAX 160

static const char typ_media_prefix[] = "application/";

/* Characters that may appear in a compact JWS: base64url and '.'. */
static int token_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
           || c == '_' || c == '.';
}

static apr_status_t parse_header(apr_pool_t *p, logto_jws_t *jws, const char *part, apr_size_t len,
                                 logto_result_t *res)
{
    unsigned char *raw;
    apr_size_t raw_len;
    const char *why, *alg_name;
    int r;

    if (logto_b64url_decode(p, part, len, LOGTO_MAX_TOKEN_LEN, &raw, &raw_len) != APR_SUCCESS) {
        return logto_result_set(res, LOGTO_MALFORMED, "header is not base64url");
    }
    if (logto_json_parse_object(p, (const char *)raw, raw_len, &jws->header, &why) != APR_SUCCESS) {
        return logto_result_set(res, LOGTO_MALFORMED, apr_pstrcat(p, "header: ", why, NULL));
    }
    if (logto_json_string(jws->header, "alg", &alg_name) != 1) {
        return logto_result_set(res, LOGTO_MALFORMED, "header has no alg string");
    }
    jws->alg = logto_alg_from_name(alg_name);
    if (jws->alg == LOGTO_ALG_UNKNOWN) {
        /* "none", HS* and anything unknown, whatever the configuration. */
        return logto_result_set(res, LOGTO_ALG_NOT_ALLOWED, "algorithm is never accepted");
    }
    /* RFC 7515 section 4.1.11: we implement no extension, so any crit fails. */
    if (json_object_get(jws->header, "crit")) {
        return logto_result_set(res, LOGTO_CRIT_UNSUPPORTED, "crit header present");
    }
    r = logto_json_string(jws->header, "kid", &jws->kid);
    if (r < 0) {
        return logto_result_set(res, LOGTO_MALFORMED, "kid is not a string");
    }
    r = logto_json_string(jws->header, "typ", &jws->typ);
    if (r < 0) {
        return logto_result_set(res, LOGTO_MALFORMED, "typ is not a string");
    }
    /* jku, x5u, x5c and jwk are deliberately never read: keys come only from
     * the issuer's configured key set (RFC 8725 section 3.10). */
    return APR_SUCCESS;
}

apr_status_t logto_jws_parse(apr_pool_t *p, const char *token, apr_size_t len, int flags,
                             logto_jws_t **out, logto_result_t *res)
{
    logto_jws_t *jws;
    const char *dot[4];
    apr_size_t i, dots = 0;
    unsigned char *raw;
    apr_size_t raw_len;
    const char *why;

    if (len > LOGTO_MAX_TOKEN_LEN) {
        return logto_result_set(res, LOGTO_TOKEN_TOO_LARGE, "token longer than the limit");
    }
    if (len == 0) {
        return logto_result_set(res, LOGTO_MALFORMED, "empty token");
    }
    for (i = 0; i < len; i++) {
        if (!token_char((unsigned char)token[i])) {
            return logto_result_set(res, LOGTO_MALFORMED, "character outside base64url");
        }
        if (token[i] == '.') {
            if (dots == 4) {
                return logto_result_set(res, LOGTO_MALFORMED, "too many parts");
            }
            dot[dots++] = token + i;
        }
    }
    if (dots == 0) {
        return logto_result_set(res, LOGTO_OPAQUE_TOKEN, "no JWS structure");
    }
    if (dots == 4) {
        return logto_result_set(res, LOGTO_JWE_TOKEN, "five parts");
    }
    if (dots != 2) {
        return logto_result_set(res, LOGTO_MALFORMED, "not three parts");
    }
    jws = apr_pcalloc(p, sizeof(*jws));
    if (parse_header(p, jws, token, (apr_size_t)(dot[0] - token), res) != APR_SUCCESS) {
        return res->status;
    }
    if (logto_b64url_decode(p, dot[0] + 1, (apr_size_t)(dot[1] - dot[0] - 1), LOGTO_MAX_TOKEN_LEN,
                            &raw, &raw_len)
        != APR_SUCCESS) {
        return logto_result_set(res, LOGTO_MALFORMED, "payload is not base64url");
    }
    jws->payload_raw = (const char *)raw;
    jws->payload_len = raw_len;
    if (logto_json_parse_object(p, jws->payload_raw, raw_len, &jws->payload, &why) != APR_SUCCESS) {
        if (!(flags & LOGTO_JWS_PAYLOAD_ANY)) {
            return logto_result_set(res, LOGTO_MALFORMED, apr_pstrcat(p, "payload: ", why, NULL));
        }
        jws->payload = NULL;
    }
    if (logto_b64url_decode(p, dot[1] + 1, len - (apr_size_t)(dot[1] + 1 - token),
                            SIG_MAX_BYTES * 4 / 3 + 4, &raw, &raw_len)
        != APR_SUCCESS) {
        return logto_result_set(res, LOGTO_MALFORMED, "signature is not base64url");
    }
    jws->sig = raw;
    jws->sig_len = raw_len;
    jws->signing_input = token;
    jws->signing_input_len = (apr_size_t)(dot[1] - token);
    *out = jws;
    logto_result_reset(res);
    return APR_SUCCESS;
}

static int typ_matches(const char *typ, const char *want)
{
    if (strncasecmp(typ, typ_media_prefix, sizeof(typ_media_prefix) - 1) == 0) {
        typ += sizeof(typ_media_prefix) - 1;
    }
    return strcasecmp(typ, want) == 0;
}

apr_status_t logto_jws_check_header(const logto_jws_t *jws, unsigned alg_mask,
                                    const apr_array_header_t *types, logto_result_t *res)
{
    int i;

    if (!(alg_mask & LOGTO_ALG_BIT(jws->alg))) {
        return logto_result_set(res, LOGTO_ALG_NOT_ALLOWED, "algorithm not in LogtoAlgorithms");
    }
    if (types) {
        for (i = 0; jws->typ && i < types->nelts; i++) {
            if (typ_matches(jws->typ, APR_ARRAY_IDX(types, i, const char *))) {
                return APR_SUCCESS;
            }
        }
        return logto_result_set(res, LOGTO_TYP_NOT_ALLOWED,
                                jws->typ ? "typ not in LogtoTokenType" : "no typ header");
    }
    return APR_SUCCESS;
}

static int is_zero(const unsigned char *b, apr_size_t len)
{
    unsigned char acc = 0;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        acc |= b[i];
    }
    return acc == 0;
}

/* JWS carries ECDSA signatures as raw r||s (RFC 7518 section 3.4), each
 * half exactly the coordinate size and in [1, n-1]. */
static int ecdsa_raw_ok(const logto_jwk_t *key, const unsigned char *sig, apr_size_t sig_len)
{
    apr_size_t half = key->coord_len;

    return sig_len == 2 * half && !is_zero(sig, half) && !is_zero(sig + half, half)
           && memcmp(sig, key->order, half) < 0 && memcmp(sig + half, key->order, half) < 0;
}

/* OpenSSL wants DER. */
static apr_status_t ecdsa_to_der(const logto_jwk_t *key, const unsigned char *sig,
                                 apr_size_t sig_len, unsigned char *der, int *der_len)
{
    apr_size_t half = key->coord_len;
    ECDSA_SIG *es;
    BIGNUM *r, *s;
    unsigned char *out = der;
    apr_status_t rv = APR_EINVAL;

    if (!ecdsa_raw_ok(key, sig, sig_len)) {
        return APR_EINVAL;
    }
    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, (int)half, NULL);
    s = BN_bin2bn(sig + half, (int)half, NULL);
    if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL; /* owned by es now */
        if (i2d_ECDSA_SIG(es, NULL) <= ECDSA_DER_MAX) {
            *der_len = i2d_ECDSA_SIG(es, &out);
            rv = (*der_len > 0) ? APR_SUCCESS : APR_EINVAL;
        }
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return rv;
}

/* Hashes the signing input and checks the signature with a copy of the key's
 * prepared context for this algorithm. */
static int verify_prepared(const logto_jws_t *jws, const logto_jwk_t *key, const EVP_MD *md,
                           const unsigned char *sig, apr_size_t sig_len)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    EVP_PKEY_CTX *ctx;
    int ok;

    if (EVP_Digest(jws->signing_input, jws->signing_input_len, digest, &digest_len, md, NULL) != 1
        || !(ctx = EVP_PKEY_CTX_dup(key->verify[jws->alg]))) {
        return 0;
    }
    ok = EVP_PKEY_verify(ctx, sig, sig_len, digest, digest_len) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/* The fast verifier with the key's table (logto_ecfast.h). */
static int verify_ec_table(const logto_jws_t *jws, const logto_ecfast_key_t *table,
                           const EVP_MD *md)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;

    return EVP_Digest(jws->signing_input, jws->signing_input_len, digest, &digest_len, md, NULL)
               == 1
           && logto_ecfast_verify(table, digest, digest_len, jws->sig, jws->sig_len) == APR_SUCCESS;
}

/* EVP_DigestVerify from scratch: EdDSA (which hashes the message itself), and
 * any algorithm whose prepared context could not be made. */
static int verify_streaming(const logto_jws_t *jws, const logto_jwk_t *key, const EVP_MD *md,
                            const unsigned char *sig, apr_size_t sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = 0;

    if (ctx && EVP_DigestVerifyInit(ctx, &pctx, md, NULL, key->pkey) == 1) {
        ok = 1;
        if (key->kty == LOGTO_KTY_RSA) {
            ok = logto_alg_is_pss(jws->alg)
                     ? (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
                        && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1
                        && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1)
                     : EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
        }
        ok = ok
             && EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)jws->signing_input,
                                 jws->signing_input_len)
                    == 1;
    }
    EVP_MD_CTX_free(ctx);
    return ok;
}

apr_status_t logto_jws_verify(const logto_jws_t *jws, const logto_jwk_t *key, logto_result_t *res)
{
    unsigned char der[ECDSA_DER_MAX];
    const unsigned char *sig = jws->sig;
    apr_size_t sig_len = jws->sig_len;
    const EVP_MD *md = logto_alg_md(jws->alg);
    const logto_ecfast_key_t *table = NULL;
    int der_len = 0, ok;

    if (!logto_jwk_fits_alg(key, jws->alg)) {
        return logto_result_set(res, LOGTO_ALG_NOT_ALLOWED, "algorithm does not fit the key");
    }
    switch (key->kty) {
    case LOGTO_KTY_EC:
        if (!ecdsa_raw_ok(key, sig, sig_len)) {
            return logto_result_set(res, LOGTO_BAD_SIGNATURE, "ECDSA signature malformed");
        }
        /* With the key's table, the fast verifier; else OpenSSL, in DER. */
        if ((table = logto_jwk_ec_table(key)) != NULL) {
            break;
        }
        if (ecdsa_to_der(key, sig, sig_len, der, &der_len) != APR_SUCCESS) {
            return logto_result_set(res, LOGTO_BAD_SIGNATURE, "ECDSA signature malformed");
        }
        sig = der;
        sig_len = (apr_size_t)der_len;
        break;
    case LOGTO_KTY_RSA:
        if (sig_len != (apr_size_t)EVP_PKEY_get_size(key->pkey)) {
            return logto_result_set(res, LOGTO_BAD_SIGNATURE, "RSA signature of the wrong size");
        }
        break;
    case LOGTO_KTY_OKP:
        if (sig_len != 64) {
            return logto_result_set(res, LOGTO_BAD_SIGNATURE, "EdDSA signature of the wrong size");
        }
        break;
    default:
        return logto_result_set(res, LOGTO_ALG_NOT_ALLOWED, "unsupported key");
    }
    if (table) {
        ok = verify_ec_table(jws, table, md);
    }
    else {
        ok = key->verify[jws->alg] ? verify_prepared(jws, key, md, sig, sig_len)
                                   : verify_streaming(jws, key, md, sig, sig_len);
    }
    /* OpenSSL's error queue is per thread and shared with other modules. */
    ERR_clear_error();
    if (!ok) {
        return logto_result_set(res, LOGTO_BAD_SIGNATURE, "signature does not verify");
    }
    logto_result_reset(res);
    return APR_SUCCESS;
}
