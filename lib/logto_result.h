/* The outcome of a validation step: an APR status plus a stable reason code
 * (what the glue maps to 401/503 and what logs and tests match on) and a short
 * human detail. The detail never contains the token or any part of it. */
#ifndef LOGTO_RESULT_H
#define LOGTO_RESULT_H

#include <apr_errno.h>

typedef enum {
    LOGTO_OK = 0,
    LOGTO_MALFORMED,       /* not a well-formed compact JWS */
    LOGTO_OPAQUE_TOKEN,    /* no dots: an opaque (reference) token */
    LOGTO_JWE_TOKEN,       /* five parts: an encrypted token */
    LOGTO_TOKEN_TOO_LARGE, /* longer than LOGTO_MAX_TOKEN_LEN */
    LOGTO_BAD_SIGNATURE,
    LOGTO_UNKNOWN_KID, /* no key of the issuer fits the token */
    LOGTO_ALG_NOT_ALLOWED,
    LOGTO_TYP_NOT_ALLOWED,
    LOGTO_CRIT_UNSUPPORTED,
    LOGTO_ISS_MISMATCH,
    LOGTO_EXPIRED,
    LOGTO_NOT_YET_VALID, /* nbf in the future */
    LOGTO_IAT_FUTURE,    /* iat in the future */
    LOGTO_EXP_MISSING,
    LOGTO_CLAIM_TYPE,       /* a claim of the wrong JSON type or out of range */
    LOGTO_CLAIM_MISSING,    /* a required claim (sub) is absent */
    LOGTO_KEYS_UNAVAILABLE, /* the issuer's keys cannot be obtained: 503 */
    LOGTO_REASON_COUNT
} logto_reason_e;

typedef struct {
    apr_status_t status;
    logto_reason_e reason;
    const char *detail; /* static or pool string, never token text */
} logto_result_t;

/* The stable code, e.g. "bad_signature". */
const char *logto_reason_name(logto_reason_e reason);

/* A default English phrase for the reason, e.g. "signature verification failed". */
const char *logto_reason_text(logto_reason_e reason);

/* Sets *res and returns its status (APR_EGENERAL unless reason is LOGTO_OK). */
apr_status_t logto_result_set(logto_result_t *res, logto_reason_e reason, const char *detail);

void logto_result_reset(logto_result_t *res);

#endif /* LOGTO_RESULT_H */
