/* Claims of a Logto access token (RFC 9068, RFC 7519): what authorization and
 * the environment need, checked for type and time. Wrong JSON types are an
 * invalid token (claim_type), never a crash and never a pass. */
#ifndef LOGTO_CLAIMS_H
#define LOGTO_CLAIMS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <jansson.h>

#include "logto_jwk.h"
#include "logto_result.h"

/* Audience prefix of Logto organization tokens (model 2). */
#define LOGTO_ORG_AUD_PREFIX "urn:logto:organization:"

/* NumericDate bounds: after the epoch and before year 10000. */
#define LOGTO_NUMERIC_DATE_MAX 253402300799LL

typedef struct logto_claims {
    const char *iss;
    const char *sub;
    const char *client_id;       /* NULL when absent */
    const char *jti;             /* NULL when absent */
    const char *organization_id; /* the claim, else the id of a urn:logto:organization: audience */
    const char *scope;           /* the scope string as sent, "" when absent */
    apr_array_header_t *scopes;  /* of const char *: scope split on spaces */
    apr_array_header_t *audiences; /* of const char * */
    const char *scope_list;        /* the scopes joined by single spaces (LOGTO_SCOPES) */
    const char *audience_list;     /* the audiences joined likewise (LOGTO_AUDIENCE) */
    apr_int64_t exp;               /* seconds since the epoch */
    apr_int64_t iat;               /* 0 when absent */
    apr_int64_t nbf;               /* 0 when absent */
    const char *payload;           /* the payload JSON as signed */
    apr_size_t payload_len;
    const char *kid; /* kid of the key that verified the token, NULL if none */
    unsigned char key_fingerprint[LOGTO_KEY_FP_LEN]; /* that key's fingerprint */
} logto_claims_t;

/* Reads and checks the claims of payload: iss one of issuers (exact), sub a
 * non-empty string, exp a finite number in range and not passed, nbf and iat
 * not in the future (one leeway for all three), aud a string or an array of
 * strings, scope and organization_id strings. payload_raw is kept as the
 * LOGTO_CLAIMS text. */
apr_status_t logto_claims_read(apr_pool_t *p, json_t *payload, const char *payload_raw,
                               apr_size_t payload_len, const apr_array_header_t *issuers,
                               apr_interval_time_t leeway, apr_time_t now, logto_claims_t **claims,
                               logto_result_t *res);

/* Only the iss check: whether payload's iss is one of issuers; the matching
 * entry's index in *index. Used to pick an issuer's keys before verifying. */
apr_status_t logto_claims_issuer(json_t *payload, const apr_array_header_t *issuers, int *index,
                                 logto_result_t *res);

/* The strings of list joined by single spaces ("" for none). */
const char *logto_list_join(apr_pool_t *p, const apr_array_header_t *list);

/* Splits a space-separated scope string; empty items are dropped. */
apr_array_header_t *logto_scope_split(apr_pool_t *p, const char *scope);

int logto_claims_has_scope(const logto_claims_t *claims, const char *scope);
int logto_claims_has_audience(const logto_claims_t *claims, const char *aud);

/* organization_id equals org, or an audience is urn:logto:organization:<org>. */
int logto_claims_in_organization(const logto_claims_t *claims, const char *org);

#endif /* LOGTO_CLAIMS_H */
