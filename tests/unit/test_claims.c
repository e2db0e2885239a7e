/* Claims of a Logto access token: issuer, times with leeway, audiences,
 * scopes, organization; every wrong JSON type is claim_type. */
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "logto_claims.h"
#include "test_keys.h"
#include "unit.h"

#define CUSTOM_ISSUER "https://auth.example.com/oidc"
#define ORG_URN       LOGTO_ORG_AUD_PREFIX

static apr_status_t release(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

static apr_array_header_t *issuers(apr_pool_t *p)
{
    apr_array_header_t *list = apr_array_make(p, 2, sizeof(const char *));

    APR_ARRAY_PUSH(list, const char *) = TEST_ISSUER;
    APR_ARRAY_PUSH(list, const char *) = CUSTOM_ISSUER;
    return list;
}

/* Reads payload at now (seconds, plus usec) with leeway seconds. */
static apr_status_t read_at(apr_pool_t *p, const char *payload, long now, long usec, long leeway,
                            logto_claims_t **claims, logto_result_t *res)
{
    json_error_t err;
    json_t *json = json_loads(payload, JSON_REJECT_DUPLICATES, &err);

    if (!json) {
        fail_msg("test payload is not JSON: %s: %s", err.text, payload);
    }
    apr_pool_cleanup_register(p, json, release, apr_pool_cleanup_null);
    *claims = NULL;
    return logto_claims_read(p, json, payload, strlen(payload), issuers(p),
                             apr_time_from_sec(leeway), unit_time(now) + usec, claims, res);
}

static logto_claims_t *read_ok(apr_pool_t *p, const char *payload)
{
    logto_claims_t *claims = NULL;
    logto_result_t res;

    if (read_at(p, payload, TEST_NOW, 0, 60, &claims, &res) != APR_SUCCESS) {
        fail_msg("claims refused (%s): %s", logto_reason_name(res.reason), payload);
    }
    assert_non_null(claims);
    return claims;
}

static void read_refused(apr_pool_t *p, const char *payload, logto_reason_e expected)
{
    logto_claims_t *claims = NULL;
    logto_result_t res;
    apr_status_t rv = read_at(p, payload, TEST_NOW, 0, 60, &claims, &res);

    if (rv == APR_SUCCESS) {
        fail_msg("claims accepted, expected %s: %s", logto_reason_name(expected), payload);
    }
    if (res.reason != expected) {
        fail_msg("expected %s, got %s: %s", logto_reason_name(expected),
                 logto_reason_name(res.reason), payload);
    }
}

/* A payload with one claim replaced (value NULL: left out). */
static const char *with(apr_pool_t *p, const char *name, const char *value)
{
    const char *v[8] = {"\"Vq3xK8mZ2pL7nR4tY9wB1\"",
                        "\"u7x2k9q4m1pz\"",
                        apr_psprintf(p, "%ld", TEST_IAT),
                        apr_psprintf(p, "%ld", TEST_EXP),
                        "\"read:products write:products\"",
                        "\"app9m2kq7x1b4z8c6v3n5\"",
                        "\"" TEST_ISSUER "\"",
                        "\"" TEST_API "\""};
    const char *names[8] = {"jti", "sub", "iat", "exp", "scope", "client_id", "iss", "aud"};
    const char *m[8];
    int i, found = 0;

    for (i = 0; i < 8; i++) {
        const char *val = v[i];

        if (strcmp(names[i], name) == 0) {
            val = value;
            found = 1;
        }
        m[i] = val ? apr_psprintf(p, "\"%s\":%s", names[i], val) : NULL;
    }
    if (!found) {
        /* an extra claim, first as in Logto's layout */
        return apr_psprintf(p, "{\"%s\":%s,%s", name, value,
                            test_payload_with(p, m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7])
                                + 1);
    }
    return test_payload_with(p, m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]);
}

static void logto_claims(void **state)
{
    apr_pool_t *p = *state;
    const char *payload = test_payload(p, NULL);
    logto_claims_t *c = read_ok(p, payload);

    assert_string_equal(c->iss, TEST_ISSUER);
    assert_string_equal(c->sub, "u7x2k9q4m1pz");
    assert_string_equal(c->client_id, "app9m2kq7x1b4z8c6v3n5");
    assert_string_equal(c->jti, "Vq3xK8mZ2pL7nR4tY9wB1");
    assert_true(c->exp == TEST_EXP);
    assert_true(c->iat == TEST_IAT);
    assert_true(c->nbf == 0);
    assert_null(c->organization_id);
    assert_string_equal(c->scope, "read:products write:products");
    assert_int_equal(c->scopes->nelts, 2);
    assert_int_equal(c->audiences->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(c->audiences, 0, const char *), TEST_API);
    /* LOGTO_CLAIMS is the payload exactly as signed */
    assert_true(c->payload == payload);
    assert_int_equal(c->payload_len, strlen(payload));
}

/* iss is compared as an exact string: no normalisation at all. */
static void issuer_exact(void **state)
{
    apr_pool_t *p = *state;
    const char *bad[] = {"\"" TEST_ISSUER "/\"",
                         "\"HTTPS://TENANT.LOGTO.APP/oidc\"",
                         "\"https://tenant.logto.app/OIDC\"",
                         "\"https://tenant.logto.app\"",
                         "\"https://tenant.logto.app/oidc?\"",
                         "\"" TEST_ISSUER " \"",
                         "\"https://tenant.logto.app:443/oidc\"",
                         "\"\""};
    json_t *json;
    size_t i;
    int index = -1;
    logto_result_t res;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        read_refused(p, with(p, "iss", bad[i]), LOGTO_ISS_MISMATCH);
    }
    read_refused(p, with(p, "iss", NULL), LOGTO_ISS_MISMATCH);
    /* the second configured issuer (a custom domain) */
    assert_string_equal(read_ok(p, with(p, "iss", "\"" CUSTOM_ISSUER "\""))->iss, CUSTOM_ISSUER);
    json = json_loads("{\"iss\":\"" CUSTOM_ISSUER "\"}", 0, NULL);
    assert_int_equal(logto_claims_issuer(json, issuers(p), &index, &res), APR_SUCCESS);
    assert_int_equal(index, 1);
    json_decref(json);
    json = json_loads("{\"iss\":\"https://evil.example.com/oidc\"}", 0, NULL);
    assert_reason(logto_claims_issuer(json, issuers(p), &index, &res), res, LOGTO_ISS_MISMATCH);
    json_decref(json);
}

static void expect_time(apr_pool_t *p, const char *payload, long now, long usec, long leeway,
                        logto_reason_e expected)
{
    logto_claims_t *claims = NULL;
    logto_result_t res;
    apr_status_t rv = read_at(p, payload, now, usec, leeway, &claims, &res);

    if (expected == LOGTO_OK) {
        if (rv != APR_SUCCESS) {
            fail_msg("refused (%s) at now=%ld+%ldus leeway=%ld", logto_reason_name(res.reason), now,
                     usec, leeway);
        }
        return;
    }
    if (rv == APR_SUCCESS || res.reason != expected) {
        fail_msg("expected %s at now=%ld+%ldus leeway=%ld, got %s", logto_reason_name(expected),
                 now, usec, leeway, rv == APR_SUCCESS ? "ok" : logto_reason_name(res.reason));
    }
}

/* RFC 7519 4.1.4: valid only before exp; the leeway extends that. */
static void exp_leeway_boundary(void **state)
{
    apr_pool_t *p = *state;
    const char *payload = test_payload(p, NULL);

    expect_time(p, payload, TEST_EXP + 59, 0, 60, LOGTO_OK);
    expect_time(p, payload, TEST_EXP + 59, 999999, 60, LOGTO_OK);
    expect_time(p, payload, TEST_EXP + 60, 0, 60, LOGTO_EXPIRED);
    expect_time(p, payload, TEST_EXP + 61, 0, 60, LOGTO_EXPIRED);
    expect_time(p, payload, TEST_EXP - 1, 999999, 0, LOGTO_OK);
    expect_time(p, payload, TEST_EXP, 0, 0, LOGTO_EXPIRED);
    expect_time(p, payload, TEST_EXP + 3600, 0, 3600, LOGTO_EXPIRED);
    expect_time(p, payload, TEST_EXP + 3599, 0, 3600, LOGTO_OK);
    /* a fractional exp is a valid NumericDate */
    expect_time(p, with(p, "exp", apr_psprintf(p, "%ld.5", TEST_EXP)), TEST_EXP - 1, 0, 0,
                LOGTO_OK);
}

/* RFC 7519 4.1.5: valid from nbf on; the leeway lets it start earlier. */
static void nbf_leeway_boundary(void **state)
{
    apr_pool_t *p = *state;
    const char *payload = with(p, "nbf", apr_psprintf(p, "%ld", TEST_NOW));

    assert_true(read_ok(p, payload)->nbf == TEST_NOW);
    expect_time(p, payload, TEST_NOW - 60, 0, 60, LOGTO_OK);
    expect_time(p, payload, TEST_NOW - 61, 0, 60, LOGTO_NOT_YET_VALID);
    expect_time(p, payload, TEST_NOW - 61, 999999, 60, LOGTO_NOT_YET_VALID);
    expect_time(p, payload, TEST_NOW, 0, 0, LOGTO_OK);
    expect_time(p, payload, TEST_NOW - 1, 0, 0, LOGTO_NOT_YET_VALID);
}

/* A token issued in the future beyond the leeway is refused. */
static void iat_leeway_boundary(void **state)
{
    apr_pool_t *p = *state;
    const char *payload = with(p, "iat", apr_psprintf(p, "%ld", TEST_NOW + 60));

    expect_time(p, payload, TEST_NOW, 0, 60, LOGTO_OK);
    expect_time(p, payload, TEST_NOW - 1, 0, 60, LOGTO_IAT_FUTURE);
    expect_time(p, payload, TEST_NOW + 60, 0, 0, LOGTO_OK);
    expect_time(p, payload, TEST_NOW + 59, 0, 0, LOGTO_IAT_FUTURE);
    /* iat is optional */
    assert_true(read_ok(p, with(p, "iat", NULL))->iat == 0);
}

static void numeric_date_range(void **state)
{
    apr_pool_t *p = *state;

    assert_true(read_ok(p, with(p, "exp", "253402300799"))->exp == LOGTO_NUMERIC_DATE_MAX);
    read_refused(p, with(p, "exp", "253402300800"), LOGTO_CLAIM_TYPE);
    read_refused(p, with(p, "exp", "-1"), LOGTO_CLAIM_TYPE);
    read_refused(p, with(p, "exp", "9223372036854775807"), LOGTO_CLAIM_TYPE);
    read_refused(p, with(p, "exp", "1e300"), LOGTO_CLAIM_TYPE);
    read_refused(p, with(p, "exp", "-1e300"), LOGTO_CLAIM_TYPE);
    read_refused(p, with(p, "nbf", "-5"), LOGTO_CLAIM_TYPE);
    read_refused(p, with(p, "iat", "1e19"), LOGTO_CLAIM_TYPE);
    read_refused(p, with(p, "exp", NULL), LOGTO_EXP_MISSING);
}

static void audience_string_and_array(void **state)
{
    apr_pool_t *p = *state;
    logto_claims_t *c = read_ok(p, with(p, "aud", "[\"" TEST_API "\",\"https://b.example.com\"]"));

    assert_int_equal(c->audiences->nelts, 2);
    assert_true(logto_claims_has_audience(c, TEST_API));
    assert_true(logto_claims_has_audience(c, "https://b.example.com"));
    assert_false(logto_claims_has_audience(c, "https://c.example.com"));

    c = read_ok(p, test_payload(p, NULL));
    assert_true(logto_claims_has_audience(c, TEST_API));
    /* exact: trailing slash, prefix, case */
    assert_false(logto_claims_has_audience(c, TEST_API "/"));
    assert_false(logto_claims_has_audience(c, "https://api.example"));
    assert_false(logto_claims_has_audience(c, "https://API.example.com"));
    assert_false(logto_claims_has_audience(c, ""));

    c = read_ok(p, with(p, "aud", "[]"));
    assert_int_equal(c->audiences->nelts, 0);
    assert_false(logto_claims_has_audience(c, TEST_API));
    c = read_ok(p, with(p, "aud", NULL));
    assert_int_equal(c->audiences->nelts, 0);
    assert_false(logto_claims_has_audience(c, TEST_API));
}

/* scope is one space-separated string; absent and "" both mean none. */
static void scope_split(void **state)
{
    apr_pool_t *p = *state;
    logto_claims_t *c = read_ok(p, with(p, "scope", "\"  read:products   write:products \""));
    apr_array_header_t *list;

    assert_int_equal(c->scopes->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(c->scopes, 0, const char *), "read:products");
    assert_string_equal(APR_ARRAY_IDX(c->scopes, 1, const char *), "write:products");
    assert_true(logto_claims_has_scope(c, "write:products"));
    assert_false(logto_claims_has_scope(c, "read"));
    assert_false(logto_claims_has_scope(c, "products"));
    assert_false(logto_claims_has_scope(c, "read:products write:products"));
    assert_false(logto_claims_has_scope(c, ""));

    c = read_ok(p, with(p, "scope", "\"\""));
    assert_string_equal(c->scope, "");
    assert_int_equal(c->scopes->nelts, 0);
    assert_false(logto_claims_has_scope(c, ""));
    c = read_ok(p, with(p, "scope", NULL));
    assert_string_equal(c->scope, "");
    assert_int_equal(c->scopes->nelts, 0);

    /* only the space separates (RFC 6749 section 3.3) */
    list = logto_scope_split(p, "a\tb c");
    assert_int_equal(list->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(list, 0, const char *), "a\tb");
    assert_int_equal(logto_scope_split(p, "   ")->nelts, 0);
    assert_int_equal(logto_scope_split(p, "")->nelts, 0);
    assert_int_equal(logto_scope_split(p, "x")->nelts, 1);
}

/* organization_id from the claim (model 3) or from a urn:logto:organization:
 * audience (model 2). */
static void organization(void **state)
{
    apr_pool_t *p = *state;
    logto_claims_t *c = read_ok(p, with(p, "organization_id", "\"o1\""));

    assert_string_equal(c->organization_id, "o1");
    assert_true(logto_claims_in_organization(c, "o1"));
    assert_false(logto_claims_in_organization(c, "o2"));
    assert_false(logto_claims_in_organization(c, "o"));
    assert_false(logto_claims_in_organization(c, ""));

    c = read_ok(p, with(p, "aud", "\"" ORG_URN "o2\""));
    assert_string_equal(c->organization_id, "o2");
    assert_true(logto_claims_in_organization(c, "o2"));
    assert_false(logto_claims_in_organization(c, "o1"));

    c = read_ok(p, with(p, "aud", "[\"" TEST_API "\",\"" ORG_URN "o3\",\"" ORG_URN "o4\"]"));
    assert_true(logto_claims_in_organization(c, "o3"));
    assert_true(logto_claims_in_organization(c, "o4"));

    /* no id after the prefix, or the prefix not at the start: no organization */
    c = read_ok(p, with(p, "aud", "\"" ORG_URN "\""));
    assert_null(c->organization_id);
    assert_false(logto_claims_in_organization(c, ""));
    c = read_ok(p, with(p, "aud", "\"x" ORG_URN "o5\""));
    assert_null(c->organization_id);
    assert_false(logto_claims_in_organization(c, "o5"));
    c = read_ok(p, with(p, "aud", "\"" ORG_URN "o6x\""));
    assert_false(logto_claims_in_organization(c, "o6"));

    /* a model 1 token names no organization */
    c = read_ok(p, test_payload(p, NULL));
    assert_null(c->organization_id);
    assert_false(logto_claims_in_organization(c, "o1"));
}

/* Each claim with each wrong JSON type: an invalid token, never a pass. */
static void wrong_types_are_claim_type(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *name;
        const char *values[7];
    } cases[] = {
        /* NOLINTNEXTLINE(bugprone-suspicious-missing-comma): concatenation meant */
        {"iss", {"1", "null", "true", "[]", "{}", "[\"" TEST_ISSUER "\"]", NULL}},
        {"sub", {"1", "null", "false", "[]", "{}", "[\"u\"]", NULL}},
        {"exp", {"\"1767228600\"", "null", "true", "[]", "{}", "[1767228600]", NULL}},
        {"nbf", {"\"1\"", "null", "true", "[]", "{}", NULL, NULL}},
        {"iat", {"\"1\"", "null", "false", "[]", "{}", NULL, NULL}},
        /* NOLINTNEXTLINE(bugprone-suspicious-missing-comma): concatenation meant */
        {"aud", {"1", "null", "true", "{}", "[1]", "[\"" TEST_API "\",null]", "[[\"a\"]]"}},
        {"scope", {"1", "null", "true", "[\"read:products\"]", "{}", NULL, NULL}},
        {"client_id", {"1", "null", "true", "[]", "{}", NULL, NULL}},
        {"jti", {"1", "null", "[]", "{}", NULL, NULL, NULL}},
        {"organization_id", {"1", "null", "true", "[\"o1\"]", "{}", NULL, NULL}},
    };
    size_t i, j;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (j = 0; j < 7 && cases[i].values[j]; j++) {
            read_refused(p, with(p, cases[i].name, cases[i].values[j]), LOGTO_CLAIM_TYPE);
        }
    }
}

static void sub_required(void **state)
{
    apr_pool_t *p = *state;

    read_refused(p, with(p, "sub", NULL), LOGTO_CLAIM_MISSING);
    read_refused(p, with(p, "sub", "\"\""), LOGTO_CLAIM_MISSING);
    /* M2M: sub == client_id */
    assert_string_equal(read_ok(p, with(p, "sub", "\"app9m2kq7x1b4z8c6v3n5\""))->sub,
                        "app9m2kq7x1b4z8c6v3n5");
}

static const struct CMUnitTest tests[] = {
    unit_test(logto_claims),
    unit_test(issuer_exact),
    unit_test(exp_leeway_boundary),
    unit_test(nbf_leeway_boundary),
    unit_test(iat_leeway_boundary),
    unit_test(numeric_date_range),
    unit_test(audience_string_and_array),
    unit_test(scope_split),
    unit_test(organization),
    unit_test(wrong_types_are_claim_type),
    unit_test(sub_required),
};

LOGTO_TEST_GROUP(claims, tests);
