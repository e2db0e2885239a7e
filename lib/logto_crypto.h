/* Digests fetched once per process. OpenSSL 3 looks an implicitly named
 * digest up (under a global lock) on every EVP_*Init; the hot paths use
 * these instead. */
#ifndef LOGTO_CRYPTO_H
#define LOGTO_CRYPTO_H

#include <openssl/evp.h>

/* SHA-256, SHA-384 and SHA-512, fetched on first use (thread-safe). Never
 * NULL: falls back to OpenSSL's built-in objects if a fetch fails. */
const EVP_MD *logto_sha256(void);
const EVP_MD *logto_sha384(void);
const EVP_MD *logto_sha512(void);

#endif /* LOGTO_CRYPTO_H */
