#include <apr_strings.h>

#include "logto_b64.h"

/* 0..63 for the base64url alphabet, 0xff for every other byte. */
static const unsigned char b64url_value[256] = {
#define X 0xff
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  /* 0x00 */
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  /* 0x10 */
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  62, X,  X,  /* 0x20: '-' */
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X,  X,  X,  X,  X,  X,  /* 0x30: digits */
    X,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, /* 0x40 */
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X,  X,  X,  X,  63, /* 0x50: '_' */
    X,  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, /* 0x60 */
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X,  X,  X,  X,  X,  /* 0x70 */
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X, X, X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X, X, X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X, X, X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X, X, X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X,
#undef X
};

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static apr_size_t decoded_len(apr_size_t len)
{
    return (len / 4) * 3 + ((len % 4) ? (len % 4) - 1 : 0);
}

apr_status_t logto_b64url_decode_buf(const char *src, apr_size_t len, unsigned char *out,
                                     apr_size_t cap, apr_size_t *out_len)
{
    apr_size_t i, n = 0;
    apr_uint32_t acc = 0;
    unsigned bits = 0;

    if (len % 4 == 1) {
        return APR_EINVAL; /* no byte string encodes to this length */
    }
    if (decoded_len(len) > cap) {
        return APR_ENOSPC;
    }
    for (i = 0; i < len; i++) {
        unsigned char v = b64url_value[(unsigned char)src[i]];

        if (v == 0xff) {
            return APR_EINVAL;
        }
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1u;
        }
    }
    /* Leftover bits must be zero: otherwise two encodings decode alike. */
    if (acc != 0) {
        return APR_EINVAL;
    }
    *out_len = n;
    return APR_SUCCESS;
}

apr_status_t logto_b64url_decode(apr_pool_t *p, const char *src, apr_size_t len, apr_size_t max_len,
                                 unsigned char **out, apr_size_t *out_len)
{
    apr_size_t cap;
    unsigned char *buf;
    apr_status_t rv;

    if (len > max_len) {
        return APR_ENOSPC;
    }
    cap = decoded_len(len);
    buf = apr_palloc(p, cap + 1);
    rv = logto_b64url_decode_buf(src, len, buf, cap, out_len);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    buf[*out_len] = '\0';
    *out = buf;
    return APR_SUCCESS;
}

char *logto_b64url_encode(apr_pool_t *p, const unsigned char *src, apr_size_t len)
{
    char *out = apr_palloc(p, ((len + 2) / 3) * 4 + 1);
    apr_size_t i, n = 0;

    for (i = 0; i + 2 < len; i += 3) {
        apr_uint32_t v =
            ((apr_uint32_t)src[i] << 16) | ((apr_uint32_t)src[i + 1] << 8) | src[i + 2];

        out[n++] = b64url_alphabet[(v >> 18) & 63];
        out[n++] = b64url_alphabet[(v >> 12) & 63];
        out[n++] = b64url_alphabet[(v >> 6) & 63];
        out[n++] = b64url_alphabet[v & 63];
    }
    if (len - i == 1) {
        apr_uint32_t v = (apr_uint32_t)src[i] << 16;

        out[n++] = b64url_alphabet[(v >> 18) & 63];
        out[n++] = b64url_alphabet[(v >> 12) & 63];
    }
    else if (len - i == 2) {
        apr_uint32_t v = ((apr_uint32_t)src[i] << 16) | ((apr_uint32_t)src[i + 1] << 8);

        out[n++] = b64url_alphabet[(v >> 18) & 63];
        out[n++] = b64url_alphabet[(v >> 12) & 63];
        out[n++] = b64url_alphabet[(v >> 6) & 63];
    }
    out[n] = '\0';
    return out;
}
