/* The JWS algorithms we verify (RFC 7518 section 3, RFC 8037) and the key each
 * one is bound to. "none" and HS* have no entry: they can never be allowed. */
#ifndef LOGTO_ALG_H
#define LOGTO_ALG_H

typedef enum {
    LOGTO_ALG_UNKNOWN = 0,
    LOGTO_ALG_RS256,
    LOGTO_ALG_RS384,
    LOGTO_ALG_RS512,
    LOGTO_ALG_PS256,
    LOGTO_ALG_PS384,
    LOGTO_ALG_PS512,
    LOGTO_ALG_ES256,
    LOGTO_ALG_ES384,
    LOGTO_ALG_ES512,
    LOGTO_ALG_EDDSA,
    LOGTO_ALG_COUNT
} logto_alg_e;

#define LOGTO_ALG_BIT(alg) (1u << (unsigned)(alg))
/* The default LogtoAlgorithms: every algorithm above. */
#define LOGTO_ALG_MASK_ALL (((1u << LOGTO_ALG_COUNT) - 1u) & ~1u)

typedef enum { LOGTO_KTY_NONE = 0, LOGTO_KTY_RSA, LOGTO_KTY_EC, LOGTO_KTY_OKP } logto_kty_e;

typedef enum {
    LOGTO_CRV_NONE = 0,
    LOGTO_CRV_P256,
    LOGTO_CRV_P384,
    LOGTO_CRV_P521,
    LOGTO_CRV_ED25519
} logto_crv_e;

/* Exact, case-sensitive name ("ES384"); LOGTO_ALG_UNKNOWN for anything else,
 * including "none" and "HS256". */
logto_alg_e logto_alg_from_name(const char *name);
const char *logto_alg_name(logto_alg_e alg);

/* The digest of an algorithm, fetched once per process; NULL for EdDSA,
 * which hashes internally. */
const struct evp_md_st *logto_alg_md(logto_alg_e alg);

/* Whether alg is one of PS256/384/512 (RSASSA-PSS). */
int logto_alg_is_pss(logto_alg_e alg);

/* The key type and curve (LOGTO_CRV_NONE for RSA) an algorithm requires. */
logto_kty_e logto_alg_kty(logto_alg_e alg);
logto_crv_e logto_alg_crv(logto_alg_e alg);

#endif /* LOGTO_ALG_H */
