#include "logto_result.h"

typedef struct {
    const char *name;
    const char *text;
} reason_desc_t;

/* Indexed by logto_reason_e. Names are a stable interface (logs, tests);
 * texts are what a client reads in error_description. */
static const reason_desc_t reasons[LOGTO_REASON_COUNT] = {
    [LOGTO_OK] = {"ok", "token is valid"},
    [LOGTO_MALFORMED] = {"malformed", "token is malformed"},
    [LOGTO_OPAQUE_TOKEN] = {"opaque_token",
                            "token is opaque, not a JWT (request it with a resource indicator)"},
    [LOGTO_JWE_TOKEN] = {"jwe_token", "token is encrypted (JWE), not a signed JWT"},
    [LOGTO_TOKEN_TOO_LARGE] = {"token_too_large", "token is too large"},
    [LOGTO_BAD_SIGNATURE] = {"bad_signature", "signature verification failed"},
    [LOGTO_UNKNOWN_KID] = {"unknown_kid", "no signing key of the issuer matches the token"},
    [LOGTO_ALG_NOT_ALLOWED] = {"alg_not_allowed", "signing algorithm is not allowed"},
    [LOGTO_TYP_NOT_ALLOWED] = {"typ_not_allowed", "token type is not allowed"},
    [LOGTO_CRIT_UNSUPPORTED] = {"crit_unsupported", "token has an unsupported critical header"},
    [LOGTO_ISS_MISMATCH] = {"iss_mismatch", "token issuer is not accepted"},
    [LOGTO_EXPIRED] = {"expired", "token has expired"},
    [LOGTO_NOT_YET_VALID] = {"not_yet_valid", "token is not valid yet"},
    [LOGTO_IAT_FUTURE] = {"iat_future", "token is issued in the future"},
    [LOGTO_EXP_MISSING] = {"exp_missing", "token has no expiry"},
    [LOGTO_CLAIM_TYPE] = {"claim_type", "token has a claim of the wrong type"},
    [LOGTO_CLAIM_MISSING] = {"claim_missing", "token has no subject"},
    [LOGTO_KEYS_UNAVAILABLE] = {"keys_unavailable", "signing keys are unavailable"},
};

const char *logto_reason_name(logto_reason_e reason)
{
    if ((unsigned)reason >= LOGTO_REASON_COUNT) {
        return "unknown";
    }
    return reasons[reason].name;
}

const char *logto_reason_text(logto_reason_e reason)
{
    if ((unsigned)reason >= LOGTO_REASON_COUNT) {
        return "token is invalid";
    }
    return reasons[reason].text;
}

apr_status_t logto_result_set(logto_result_t *res, logto_reason_e reason, const char *detail)
{
    res->reason = reason;
    res->detail = detail;
    res->status = (reason == LOGTO_OK) ? APR_SUCCESS : APR_EGENERAL;
    return res->status;
}

void logto_result_reset(logto_result_t *res)
{
    res->status = APR_SUCCESS;
    res->reason = LOGTO_OK;
    res->detail = NULL;
}
