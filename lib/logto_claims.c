#include <math.h>
#include <string.h>

#include <apr_strings.h>

#include "logto_claims.h"
#include "logto_json.h"

/* A NumericDate (RFC 7519 section 2) in whole seconds: 1 when absent,
 * 0 when valid (stored), -1 when of the wrong type or out of range. */
static int numeric_date(json_t *payload, const char *name, apr_int64_t *out)
{
    json_t *v = json_object_get(payload, name);
    double d;

    if (!v) {
        return 1;
    }
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);

        if (i < 0 || i > LOGTO_NUMERIC_DATE_MAX) {
            return -1;
        }
        *out = (apr_int64_t)i;
        return 0;
    }
    if (json_is_real(v)) {
        d = json_real_value(v);
        if (!isfinite(d) || d < 0.0 || d > (double)LOGTO_NUMERIC_DATE_MAX) {
            return -1;
        }
        *out = (apr_int64_t)d; /* d >= 0: truncation is floor */
        return 0;
    }
    return -1;
}

static apr_status_t read_audiences(apr_pool_t *p, json_t *payload, logto_claims_t *c,
                                   logto_result_t *res)
{
    json_t *aud = json_object_get(payload, "aud"), *item;
    size_t i;

    c->audiences = apr_array_make(p, 1, sizeof(const char *));
    if (!aud) {
        return APR_SUCCESS;
    }
    if (json_is_string(aud)) {
        APR_ARRAY_PUSH(c->audiences, const char *) = json_string_value(aud);
        return APR_SUCCESS;
    }
    if (!json_is_array(aud)) {
        return logto_result_set(res, LOGTO_CLAIM_TYPE, "aud is neither a string nor an array");
    }
    json_array_foreach (aud, i, item) {
        if (!json_is_string(item)) {
            return logto_result_set(res, LOGTO_CLAIM_TYPE, "aud array holds a non-string");
        }
        APR_ARRAY_PUSH(c->audiences, const char *) = json_string_value(item);
    }
    return APR_SUCCESS;
}

apr_array_header_t *logto_scope_split(apr_pool_t *p, const char *scope)
{
    apr_array_header_t *list = apr_array_make(p, 4, sizeof(const char *));
    /* One copy, cut at its spaces: a cache hit splits the scope every time,
     * and a large scope (hundreds of permissions) made as many allocations. */
    char *copy = apr_pstrdup(p, scope), *start = copy, *end;

    while (*start) {
        end = strchr(start, ' ');
        if (end) {
            *end = '\0';
        }
        if (*start) {
            APR_ARRAY_PUSH(list, const char *) = start;
        }
        start = end ? end + 1 : start + strlen(start);
    }
    return list;
}

apr_status_t logto_claims_issuer(json_t *payload, const apr_array_header_t *issuers, int *index,
                                 logto_result_t *res)
{
    const char *iss;
    int i, r = logto_json_string(payload, "iss", &iss);

    if (r < 0) {
        return logto_result_set(res, LOGTO_CLAIM_TYPE, "iss is not a string");
    }
    if (r == 0) {
        return logto_result_set(res, LOGTO_ISS_MISMATCH, "no iss claim");
    }
    for (i = 0; i < issuers->nelts; i++) {
        if (strcmp(iss, APR_ARRAY_IDX(issuers, i, const char *)) == 0) {
            *index = i;
            return APR_SUCCESS;
        }
    }
    return logto_result_set(res, LOGTO_ISS_MISMATCH, "iss is not a configured LogtoIssuer");
}

/* An optional string claim: absent leaves *out NULL. */
static apr_status_t optional_string(json_t *payload, const char *name, const char **out,
                                    logto_result_t *res)
{
    *out = NULL;
    if (logto_json_string(payload, name, out) < 0) {
        return logto_result_set(res, LOGTO_CLAIM_TYPE, name);
    }
    return APR_SUCCESS;
}

static const char *organization_from_audiences(const apr_array_header_t *audiences)
{
    const apr_size_t plen = sizeof(LOGTO_ORG_AUD_PREFIX) - 1;
    int i;

    for (i = 0; i < audiences->nelts; i++) {
        const char *aud = APR_ARRAY_IDX(audiences, i, const char *);

        if (strncmp(aud, LOGTO_ORG_AUD_PREFIX, plen) == 0 && aud[plen]) {
            return aud + plen;
        }
    }
    return NULL;
}

apr_status_t logto_claims_read(apr_pool_t *p, json_t *payload, const char *payload_raw,
                               apr_size_t payload_len, const apr_array_header_t *issuers,
                               apr_interval_time_t leeway, apr_time_t now, logto_claims_t **out,
                               logto_result_t *res)
{
    logto_claims_t *c = apr_pcalloc(p, sizeof(*c));
    const apr_int64_t now_sec = (apr_int64_t)apr_time_sec(now);
    const apr_int64_t skew = (apr_int64_t)apr_time_sec(leeway);
    int index, r;

    if (logto_claims_issuer(payload, issuers, &index, res) != APR_SUCCESS) {
        return res->status;
    }
    c->iss = APR_ARRAY_IDX(issuers, index, const char *);
    r = numeric_date(payload, "exp", &c->exp);
    if (r > 0) {
        return logto_result_set(res, LOGTO_EXP_MISSING, "no exp claim");
    }
    if (r < 0) {
        return logto_result_set(res, LOGTO_CLAIM_TYPE, "exp is not a NumericDate");
    }
    if (numeric_date(payload, "nbf", &c->nbf) < 0) {
        return logto_result_set(res, LOGTO_CLAIM_TYPE, "nbf is not a NumericDate");
    }
    if (numeric_date(payload, "iat", &c->iat) < 0) {
        return logto_result_set(res, LOGTO_CLAIM_TYPE, "iat is not a NumericDate");
    }
    if (now_sec >= c->exp + skew) {
        return logto_result_set(res, LOGTO_EXPIRED, "exp has passed");
    }
    if (c->nbf > now_sec + skew) {
        return logto_result_set(res, LOGTO_NOT_YET_VALID, "nbf is in the future");
    }
    if (c->iat > now_sec + skew) {
        return logto_result_set(res, LOGTO_IAT_FUTURE, "iat is in the future");
    }
    r = logto_json_string(payload, "sub", &c->sub);
    if (r < 0) {
        return logto_result_set(res, LOGTO_CLAIM_TYPE, "sub is not a string");
    }
    if (r == 0 || !*c->sub) {
        return logto_result_set(res, LOGTO_CLAIM_MISSING, "no sub claim");
    }
    if (optional_string(payload, "client_id", &c->client_id, res) != APR_SUCCESS
        || optional_string(payload, "jti", &c->jti, res) != APR_SUCCESS
        || optional_string(payload, "scope", &c->scope, res) != APR_SUCCESS
        || optional_string(payload, "organization_id", &c->organization_id, res) != APR_SUCCESS
        || read_audiences(p, payload, c, res) != APR_SUCCESS) {
        return res->status;
    }
    if (!c->scope) {
        c->scope = "";
    }
    c->scopes = logto_scope_split(p, c->scope);
    c->scope_list = logto_list_join(p, c->scopes);
    c->audience_list = logto_list_join(p, c->audiences);
    if (!c->organization_id) {
        c->organization_id = organization_from_audiences(c->audiences);
    }
    c->payload = payload_raw;
    c->payload_len = payload_len;
    *out = c;
    logto_result_reset(res);
    return APR_SUCCESS;
}

const char *logto_list_join(apr_pool_t *p, const apr_array_header_t *list)
{
    return (list && list->nelts) ? apr_array_pstrcat(p, list, ' ') : "";
}

static int list_has(const apr_array_header_t *list, const char *value)
{
    int i;

    for (i = 0; list && i < list->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(list, i, const char *), value) == 0) {
            return 1;
        }
    }
    return 0;
}

int logto_claims_has_scope(const logto_claims_t *claims, const char *scope)
{
    return list_has(claims->scopes, scope);
}

int logto_claims_has_audience(const logto_claims_t *claims, const char *aud)
{
    return list_has(claims->audiences, aud);
}

int logto_claims_in_organization(const logto_claims_t *claims, const char *org)
{
    const apr_size_t plen = sizeof(LOGTO_ORG_AUD_PREFIX) - 1;
    int i;

    if (!*org) {
        return 0;
    }
    if (claims->organization_id && strcmp(claims->organization_id, org) == 0) {
        return 1;
    }
    for (i = 0; claims->audiences && i < claims->audiences->nelts; i++) {
        const char *aud = APR_ARRAY_IDX(claims->audiences, i, const char *);

        if (strncmp(aud, LOGTO_ORG_AUD_PREFIX, plen) == 0 && strcmp(aud + plen, org) == 0) {
            return 1;
        }
    }
    return 0;
}
