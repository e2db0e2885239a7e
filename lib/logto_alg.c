#include <string.h>

#include "logto_alg.h"
#include "logto_crypto.h"

typedef struct {
    const char *name;
    logto_kty_e kty;
    logto_crv_e crv;
} alg_desc_t;

/* Indexed by logto_alg_e. */
static const alg_desc_t algs[LOGTO_ALG_COUNT] = {
    [LOGTO_ALG_UNKNOWN] = {NULL, LOGTO_KTY_NONE, LOGTO_CRV_NONE},
    [LOGTO_ALG_RS256] = {"RS256", LOGTO_KTY_RSA, LOGTO_CRV_NONE},
    [LOGTO_ALG_RS384] = {"RS384", LOGTO_KTY_RSA, LOGTO_CRV_NONE},
    [LOGTO_ALG_RS512] = {"RS512", LOGTO_KTY_RSA, LOGTO_CRV_NONE},
    [LOGTO_ALG_PS256] = {"PS256", LOGTO_KTY_RSA, LOGTO_CRV_NONE},
    [LOGTO_ALG_PS384] = {"PS384", LOGTO_KTY_RSA, LOGTO_CRV_NONE},
    [LOGTO_ALG_PS512] = {"PS512", LOGTO_KTY_RSA, LOGTO_CRV_NONE},
    [LOGTO_ALG_ES256] = {"ES256", LOGTO_KTY_EC, LOGTO_CRV_P256},
    [LOGTO_ALG_ES384] = {"ES384", LOGTO_KTY_EC, LOGTO_CRV_P384},
    [LOGTO_ALG_ES512] = {"ES512", LOGTO_KTY_EC, LOGTO_CRV_P521},
    [LOGTO_ALG_EDDSA] = {"EdDSA", LOGTO_KTY_OKP, LOGTO_CRV_ED25519},
};

logto_alg_e logto_alg_from_name(const char *name)
{
    int i;

    if (!name) {
        return LOGTO_ALG_UNKNOWN;
    }
    for (i = LOGTO_ALG_UNKNOWN + 1; i < LOGTO_ALG_COUNT; i++) {
        if (strcmp(algs[i].name, name) == 0) {
            return (logto_alg_e)i;
        }
    }
    return LOGTO_ALG_UNKNOWN;
}

const char *logto_alg_name(logto_alg_e alg)
{
    if ((unsigned)alg >= LOGTO_ALG_COUNT || alg == LOGTO_ALG_UNKNOWN) {
        return "unknown";
    }
    return algs[alg].name;
}

logto_kty_e logto_alg_kty(logto_alg_e alg)
{
    return ((unsigned)alg < LOGTO_ALG_COUNT) ? algs[alg].kty : LOGTO_KTY_NONE;
}

logto_crv_e logto_alg_crv(logto_alg_e alg)
{
    return ((unsigned)alg < LOGTO_ALG_COUNT) ? algs[alg].crv : LOGTO_CRV_NONE;
}

const EVP_MD *logto_alg_md(logto_alg_e alg)
{
    switch (alg) {
    case LOGTO_ALG_RS256:
    case LOGTO_ALG_PS256:
    case LOGTO_ALG_ES256:
        return logto_sha256();
    case LOGTO_ALG_RS384:
    case LOGTO_ALG_PS384:
    case LOGTO_ALG_ES384:
        return logto_sha384();
    case LOGTO_ALG_RS512:
    case LOGTO_ALG_PS512:
    case LOGTO_ALG_ES512:
        return logto_sha512();
    default:
        return NULL;
    }
}

int logto_alg_is_pss(logto_alg_e alg)
{
    return alg == LOGTO_ALG_PS256 || alg == LOGTO_ALG_PS384 || alg == LOGTO_ALG_PS512;
}
