/* Runs every test vector of tests/vectors/ (see its README.md): RFC
 * known-answer vectors, their tampered copies, and Logto-shaped tokens, each
 * checked against its expected reason. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_strings.h>

#include "logto_jws.h"
#include "logto_store.h"
#include "logto_validate.h"
#include "unit.h"

/* The RFC vectors alone are 15; the Logto-shaped ones bring many more. */
#define MIN_VECTORS 20

typedef struct {
    apr_array_header_t *issuers; /* of const char * */
    unsigned alg_mask;
    int any_type;
    apr_array_header_t *types; /* NULL: the default at+jwt */
    long leeway;
    long now;
    int has_now;
} vector_policy_t;

/* A whole non-negative number from a policy file; fails the test otherwise. */
static long policy_number(const char *vector, const char *key, const char *value)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < 0) {
        fail_msg("%s/policy: %s=%s is not a number", vector, key, value);
    }
    return v;
}

static void parse_policy(apr_pool_t *p, const char *name, vector_policy_t *vp)
{
    char *text, *line, *state = NULL;

    memset(vp, 0, sizeof(*vp));
    vp->issuers = apr_array_make(p, 2, sizeof(const char *));
    vp->alg_mask = LOGTO_ALG_MASK_ALL;
    vp->leeway = 60;
    if (!unit_vector_has(p, name, "policy")) {
        return;
    }
    text = unit_vector_text(p, name, "policy");
    for (line = apr_strtok(text, "\n", &state); line; line = apr_strtok(NULL, "\n", &state)) {
        char *eq = strchr(line, '='), *value, *tok, *st2 = NULL;

        if (line[0] == '#' || line[0] == '\0') {
            continue;
        }
        if (!eq) {
            fail_msg("%s/policy: no '=' in \"%s\"", name, line);
        }
        *eq = '\0';
        value = eq + 1;
        if (strcmp(line, "issuer") == 0) {
            APR_ARRAY_PUSH(vp->issuers, const char *) = value;
        }
        else if (strcmp(line, "algorithms") == 0) {
            vp->alg_mask = 0;
            for (tok = apr_strtok(value, " ", &st2); tok; tok = apr_strtok(NULL, " ", &st2)) {
                logto_alg_e alg = logto_alg_from_name(tok);

                if (alg == LOGTO_ALG_UNKNOWN) {
                    fail_msg("%s/policy: unknown algorithm %s", name, tok);
                }
                vp->alg_mask |= LOGTO_ALG_BIT(alg);
            }
        }
        else if (strcmp(line, "types") == 0) {
            if (strcmp(value, "any") == 0) {
                vp->any_type = 1;
            }
            else {
                vp->types = apr_array_make(p, 2, sizeof(const char *));
                for (tok = apr_strtok(value, " ", &st2); tok; tok = apr_strtok(NULL, " ", &st2)) {
                    APR_ARRAY_PUSH(vp->types, const char *) = tok;
                }
            }
        }
        else if (strcmp(line, "leeway") == 0) {
            vp->leeway = policy_number(name, line, value);
        }
        else if (strcmp(line, "now") == 0) {
            vp->now = policy_number(name, line, value);
            vp->has_now = 1;
        }
        else {
            fail_msg("%s/policy: unknown key %s", name, line);
        }
    }
}

/* mode jws: parse (payload need not be claims), find the key, verify. */
static const char *run_jws(apr_pool_t *p, const char *name, const char *token)
{
    logto_jwks_t *set = unit_vector_jwks(p, name);
    logto_jws_t *jws = NULL;
    const logto_jwk_t *key;
    logto_result_t res;

    logto_result_reset(&res);
    if (logto_jws_parse(p, token, strlen(token), LOGTO_JWS_PAYLOAD_ANY, &jws, &res)
        != APR_SUCCESS) {
        return logto_reason_name(res.reason);
    }
    key = logto_jwks_find(set, jws->kid, jws->alg);
    if (!key) {
        return logto_reason_name(LOGTO_UNKNOWN_KID);
    }
    if (logto_jws_verify(jws, key, &res) != APR_SUCCESS) {
        return logto_reason_name(res.reason);
    }
    return "ok";
}

/* mode token (default): the whole logto_validate pipeline. */
static const char *run_token(apr_pool_t *p, const char *name, const char *token)
{
    vector_policy_t vp;
    logto_policy_t *policy = logto_policy_make(p);
    logto_store_t *store = NULL, *used = NULL;
    logto_claims_t *claims = NULL;
    apr_uint32_t epoch = 0;
    logto_result_t res;
    int i;

    parse_policy(p, name, &vp);
    if (!vp.has_now) {
        fail_msg("%s: token mode needs now= in policy", name);
    }
    if (vp.issuers->nelts == 0) {
        fail_msg("%s: token mode needs issuer= in policy", name);
    }
    assert_int_equal(logto_store_create_static(&store, name, unit_vector_jwks(p, name), p),
                     APR_SUCCESS);
    for (i = 0; i < vp.issuers->nelts; i++) {
        logto_policy_add_issuer(policy, APR_ARRAY_IDX(vp.issuers, i, const char *), store);
    }
    policy->alg_mask = vp.alg_mask;
    if (vp.any_type) {
        policy->types = NULL;
    }
    else if (vp.types) {
        policy->types = vp.types;
    }
    policy->leeway = apr_time_from_sec(vp.leeway);
    logto_policy_seal(policy);
    if (logto_validate(policy, token, strlen(token), unit_time(vp.now), p, &claims, &used, &epoch,
                       &res)
        != APR_SUCCESS) {
        assert_null(claims);
        assert_int_not_equal(res.reason, LOGTO_OK);
        return logto_reason_name(res.reason);
    }
    assert_non_null(claims);
    assert_true(used == store);
    assert_int_equal(res.reason, LOGTO_OK);
    return "ok";
}

static int run_vector(apr_pool_t *p, const char *name)
{
    const char *token = unit_vector_text(p, name, "token");
    const char *expect = unit_vector_text(p, name, "expect");
    const char *mode =
        unit_vector_has(p, name, "mode") ? unit_vector_text(p, name, "mode") : "token";
    const char *got;
    int known = 0, i;

    for (i = 0; i < LOGTO_REASON_COUNT; i++) {
        known |= strcmp(expect, logto_reason_name((logto_reason_e)i)) == 0;
    }
    if (!known) {
        fail_msg("%s/expect: \"%s\" is no reason name", name, expect);
    }
    if (!unit_vector_has(p, name, "description")) {
        fail_msg("%s: description missing", name);
    }
    if (strcmp(mode, "jws") == 0) {
        got = run_jws(p, name, token);
    }
    else if (strcmp(mode, "token") == 0) {
        got = run_token(p, name, token);
    }
    else {
        fail_msg("%s/mode: unknown mode %s", name, mode);
        return 1;
    }
    if (strcmp(got, expect) != 0) {
        print_error("vector %s: expected %s, got %s\n", name, expect, got);
        return 1;
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void all_vectors(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *names = apr_array_make(p, 64, sizeof(const char *));
    apr_dir_t *dir;
    apr_finfo_t info;
    int i, failed = 0;

    assert_int_equal(apr_dir_open(&dir, LOGTO_VECTOR_DIR, p), APR_SUCCESS);
    while (apr_dir_read(&info, APR_FINFO_NAME | APR_FINFO_TYPE, dir) == APR_SUCCESS) {
        /* wycheproof/ holds Project Wycheproof's files (test_wycheproof.c) */
        if (info.filetype == APR_DIR && info.name[0] != '.'
            && strcmp(info.name, "wycheproof") != 0) {
            APR_ARRAY_PUSH(names, const char *) = apr_pstrdup(p, info.name);
        }
    }
    apr_dir_close(dir);
    qsort(names->elts, (size_t)names->nelts, sizeof(const char *), by_name);

    for (i = 0; i < names->nelts; i++) {
        apr_pool_t *sub;

        apr_pool_create(&sub, p);
        failed += run_vector(sub, APR_ARRAY_IDX(names, i, const char *));
        apr_pool_destroy(sub);
    }
    print_message("%d test vectors run, %d failed\n", names->nelts, failed);
    assert_true(names->nelts > MIN_VECTORS);
    assert_int_equal(failed, 0);
}

/* The runner itself must be able to fail: a vector's token with its
 * signature changed no longer matches "ok". */
static void runner_detects_mismatch(void **state)
{
    apr_pool_t *p = *state;
    const char *token = unit_vector_text(p, "rfc7515-a3-es256-tampered", "token");

    assert_string_equal(run_jws(p, "rfc7515-a3-es256-tampered", token), "bad_signature");
    assert_string_equal(run_jws(p, "rfc7515-a3-es256", token), "bad_signature");
    token = unit_vector_text(p, "rfc7515-a3-es256", "token");
    assert_string_equal(run_jws(p, "rfc7515-a3-es256", token), "ok");
    /* the ES256 token against the RFC's RSA key: no key of its type */
    assert_string_equal(run_jws(p, "rfc7515-a2-rs256", token), "unknown_kid");
}

static const struct CMUnitTest tests[] = {
    unit_test(all_vectors),
    unit_test(runner_detects_mismatch),
};

LOGTO_TEST_GROUP(vectors, tests);
