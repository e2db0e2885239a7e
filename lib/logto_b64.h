/* Strict base64url (RFC 4648 section 5, no padding) as JWS requires (RFC 7515
 * section 2): only [A-Za-z0-9_-], no '=', no whitespace, no length of 1 mod 4,
 * and the unused low bits of the last character must be zero, so every byte
 * string has exactly one accepted encoding. */
#ifndef LOGTO_B64_H
#define LOGTO_B64_H

#include <apr_pools.h>

/* Decodes len characters of src into a pool buffer (NUL-terminated for
 * convenience; the terminator is not counted in *out_len). Returns APR_EINVAL
 * for anything not strictly base64url, APR_ENOSPC if len exceeds max_len. */
apr_status_t logto_b64url_decode(apr_pool_t *p, const char *src, apr_size_t len, apr_size_t max_len,
                                 unsigned char **out, apr_size_t *out_len);

/* Decodes into a caller buffer of cap bytes (no allocation). */
apr_status_t logto_b64url_decode_buf(const char *src, apr_size_t len, unsigned char *out,
                                     apr_size_t cap, apr_size_t *out_len);

/* Encodes without padding; the result is NUL-terminated. */
char *logto_b64url_encode(apr_pool_t *p, const unsigned char *src, apr_size_t len);

#endif /* LOGTO_B64_H */
