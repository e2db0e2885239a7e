#include <openssl/crypto.h>

#include "logto_crypto.h"

/* Written once under CRYPTO_THREAD_run_once, read-only afterwards; they live
 * as long as the process (like OpenSSL's own built-in digests). */
static CRYPTO_ONCE fetch_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MD *sha256, *sha384, *sha512;

static void fetch_digests(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    sha384 = EVP_MD_fetch(NULL, "SHA2-384", NULL);
    sha512 = EVP_MD_fetch(NULL, "SHA2-512", NULL);
}

static const EVP_MD *fetched(EVP_MD **md, const EVP_MD *(*builtin)(void))
{
    if (!CRYPTO_THREAD_run_once(&fetch_once, fetch_digests) || !*md) {
        return builtin();
    }
    return *md;
}

const EVP_MD *logto_sha256(void)
{
    return fetched(&sha256, EVP_sha256);
}

const EVP_MD *logto_sha384(void)
{
    return fetched(&sha384, EVP_sha384);
}

const EVP_MD *logto_sha512(void)
{
    return fetched(&sha512, EVP_sha512);
}
