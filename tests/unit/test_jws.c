/* Compact JWS parsing, the header policy check and signature verification
 * for every algorithm of LogtoAlgorithms. */
#include <string.h>

#include <apr_strings.h>

#include "logto_jws.h"
#include "test_keys.h"
#include "unit.h"

static logto_jws_t *parse_ok(apr_pool_t *p, const char *token, int flags)
{
    logto_jws_t *jws = NULL;
    logto_result_t res;

    if (logto_jws_parse(p, token, strlen(token), flags, &jws, &res) != APR_SUCCESS) {
        fail_msg("token refused: %s (%s)", logto_reason_name(res.reason),
                 res.detail ? res.detail : "");
    }
    assert_non_null(jws);
    assert_int_equal(res.reason, LOGTO_OK);
    return jws;
}

static void parse_refused(apr_pool_t *p, const char *token, logto_reason_e expected)
{
    logto_jws_t *jws = NULL;
    logto_result_t res;
    apr_status_t rv = logto_jws_parse(p, token, strlen(token), 0, &jws, &res);

    assert_reason(rv, res, expected);
}

/* An unsigned token of these JSON texts with a dummy signature. */
static const char *unsigned_token(apr_pool_t *p, const char *header, const char *payload)
{
    return apr_pstrcat(p, test_b64s(p, header), ".", test_b64s(p, payload), ".c2ln", NULL);
}

static void parse_fields(void **state)
{
    apr_pool_t *p = *state;
    const char *payload = test_payload(p, NULL);
    const char *token =
        test_sign(p, TEST_KEY_P384, "ES384", test_header(p, "ES384", "k1"), payload);
    logto_jws_t *jws = parse_ok(p, token, 0);
    const char *second_dot = strrchr(token, '.');

    assert_int_equal(jws->alg, LOGTO_ALG_ES384);
    assert_string_equal(jws->kid, "k1");
    assert_string_equal(jws->typ, "at+jwt");
    assert_true(json_is_object(jws->header));
    assert_true(json_is_object(jws->payload));
    assert_string_equal(json_string_value(json_object_get(jws->payload, "sub")), "u7x2k9q4m1pz");
    assert_int_equal(jws->payload_len, strlen(payload));
    assert_memory_equal(jws->payload_raw, payload, jws->payload_len);
    assert_true(jws->signing_input == token);
    assert_int_equal(jws->signing_input_len, (apr_size_t)(second_dot - token));
    assert_int_equal(jws->sig_len, 96);
}

static void parse_without_kid_or_typ(void **state)
{
    apr_pool_t *p = *state;
    logto_jws_t *jws = parse_ok(p, unsigned_token(p, "{\"alg\":\"RS256\"}", "{}"), 0);

    assert_int_equal(jws->alg, LOGTO_ALG_RS256);
    assert_null(jws->kid);
    assert_null(jws->typ);
    assert_int_equal(jws->sig_len, 3);
}

static void header_members_of_wrong_type(void **state)
{
    apr_pool_t *p = *state;

    parse_refused(p, unsigned_token(p, "{\"typ\":\"at+jwt\"}", "{}"), LOGTO_MALFORMED);
    parse_refused(p, unsigned_token(p, "{\"alg\":256}", "{}"), LOGTO_MALFORMED);
    parse_refused(p, unsigned_token(p, "{\"alg\":[\"RS256\"]}", "{}"), LOGTO_MALFORMED);
    parse_refused(p, unsigned_token(p, "{\"alg\":null}", "{}"), LOGTO_MALFORMED);
    parse_refused(p, unsigned_token(p, "{\"alg\":\"RS256\",\"kid\":1}", "{}"), LOGTO_MALFORMED);
    parse_refused(p, unsigned_token(p, "{\"alg\":\"RS256\",\"kid\":{}}", "{}"), LOGTO_MALFORMED);
    parse_refused(p, unsigned_token(p, "{\"alg\":\"RS256\",\"typ\":[\"at+jwt\"]}", "{}"),
                  LOGTO_MALFORMED);
    parse_refused(p, unsigned_token(p, "[\"RS256\"]", "{}"), LOGTO_MALFORMED);
    parse_refused(p, unsigned_token(p, "\"RS256\"", "{}"), LOGTO_MALFORMED);
    parse_refused(p, unsigned_token(p, "{\"alg\":\"RS256\"", "{}"), LOGTO_MALFORMED);
    parse_refused(p, unsigned_token(p, "{\"alg\":\"RS256\"} {}", "{}"), LOGTO_MALFORMED);
    parse_refused(p, unsigned_token(p, "", "{}"), LOGTO_MALFORMED);
}

/* Algorithm names are exact and case-sensitive (RFC 7515 section 4.1.1). */
static void alg_names_exact(void **state)
{
    apr_pool_t *p = *state;
    const char *bad[] = {"es384", "Es384",    "ES384 ", " ES384", "ES-384", "RS1",
                         "HS256", "HS384",    "HS512",  "none",   "ES256K", "Ed25519",
                         "EDDSA", "RSA-OAEP", "dir",    ""};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        parse_refused(p, unsigned_token(p, apr_psprintf(p, "{\"alg\":\"%s\"}", bad[i]), "{}"),
                      LOGTO_ALG_NOT_ALLOWED);
    }
    for (i = LOGTO_ALG_RS256; i < LOGTO_ALG_COUNT; i++) {
        const char *name = logto_alg_name((logto_alg_e)i);

        assert_int_equal(logto_alg_from_name(name), (logto_alg_e)i);
        assert_int_equal(
            parse_ok(p, unsigned_token(p, apr_psprintf(p, "{\"alg\":\"%s\"}", name), "{}"), 0)->alg,
            (logto_alg_e)i);
    }
    assert_int_equal(logto_alg_from_name(NULL), LOGTO_ALG_UNKNOWN);
}

/* RFC test vectors sign payloads that are no claims set. */
static void payload_any_flag(void **state)
{
    apr_pool_t *p = *state;
    const char *text = unsigned_token(p, "{\"alg\":\"ES512\"}", "Payload");
    const char *array = unsigned_token(p, "{\"alg\":\"ES512\"}", "[1,2]");
    logto_jws_t *jws;

    parse_refused(p, text, LOGTO_MALFORMED);
    parse_refused(p, array, LOGTO_MALFORMED);
    jws = parse_ok(p, text, LOGTO_JWS_PAYLOAD_ANY);
    assert_null(jws->payload);
    assert_int_equal(jws->payload_len, 7);
    assert_string_equal(jws->payload_raw, "Payload");
    jws = parse_ok(p, array, LOGTO_JWS_PAYLOAD_ANY);
    assert_null(jws->payload);
    /* the flag never relaxes the header */
    jws = NULL;
    {
        logto_result_t res;
        const char *t = unsigned_token(p, "[1]", "Payload");

        assert_reason(logto_jws_parse(p, t, strlen(t), LOGTO_JWS_PAYLOAD_ANY, &jws, &res), res,
                      LOGTO_MALFORMED);
    }
}

static apr_status_t check(apr_pool_t *p, const char *header, unsigned mask, const char *const *typs,
                          logto_result_t *res)
{
    logto_jws_t *jws = parse_ok(p, unsigned_token(p, header, "{}"), 0);
    apr_array_header_t *types = NULL;

    if (typs) {
        types = apr_array_make(p, 2, sizeof(const char *));
        for (; *typs; typs++) {
            APR_ARRAY_PUSH(types, const char *) = *typs;
        }
    }
    return logto_jws_check_header(jws, mask, types, res);
}

static void header_alg_allow_list(void **state)
{
    apr_pool_t *p = *state;
    const char *const at[] = {"at+jwt", NULL};
    logto_result_t res;

    assert_int_equal(
        check(p, "{\"alg\":\"ES384\",\"typ\":\"at+jwt\"}", LOGTO_ALG_MASK_ALL, at, &res),
        APR_SUCCESS);
    assert_reason(check(p, "{\"alg\":\"ES384\",\"typ\":\"at+jwt\"}", LOGTO_ALG_BIT(LOGTO_ALG_RS256),
                        at, &res),
                  res, LOGTO_ALG_NOT_ALLOWED);
    assert_int_equal(check(p, "{\"alg\":\"ES384\",\"typ\":\"at+jwt\"}",
                           LOGTO_ALG_BIT(LOGTO_ALG_RS256) | LOGTO_ALG_BIT(LOGTO_ALG_ES384), at,
                           &res),
                     APR_SUCCESS);
    assert_reason(check(p, "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\"}", 0, NULL, &res), res,
                  LOGTO_ALG_NOT_ALLOWED);
}

/* RFC 9068 section 2.1 / RFC 7515 section 4.1.9: typ is a media type,
 * compared case-insensitively, "application/" optional. */
static void header_typ(void **state)
{
    apr_pool_t *p = *state;
    const char *const at[] = {"at+jwt", NULL};
    const char *const jwt_too[] = {"at+jwt", "jwt", NULL};
    const char *good[] = {"at+jwt", "AT+JWT", "At+Jwt", "application/at+jwt", "Application/AT+JWT"};
    const char *bad[] = {
        "JWT", "jwt",     "at+jwt2",      "at+jw",       "application/jwt",
        "",    "at+jwt ", "application/", "text/at+jwt", "application/application/at+jwt"};
    logto_result_t res;
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const char *h = apr_psprintf(p, "{\"alg\":\"ES256\",\"typ\":\"%s\"}", good[i]);

        if (check(p, h, LOGTO_ALG_MASK_ALL, at, &res) != APR_SUCCESS) {
            fail_msg("typ \"%s\" refused", good[i]);
        }
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *h = apr_psprintf(p, "{\"alg\":\"ES256\",\"typ\":\"%s\"}", bad[i]);

        if (check(p, h, LOGTO_ALG_MASK_ALL, at, &res) == APR_SUCCESS) {
            fail_msg("typ \"%s\" accepted", bad[i]);
        }
        assert_int_equal(res.reason, LOGTO_TYP_NOT_ALLOWED);
    }
    assert_reason(check(p, "{\"alg\":\"ES256\"}", LOGTO_ALG_MASK_ALL, at, &res), res,
                  LOGTO_TYP_NOT_ALLOWED);
    assert_int_equal(
        check(p, "{\"alg\":\"ES256\",\"typ\":\"JWT\"}", LOGTO_ALG_MASK_ALL, jwt_too, &res),
        APR_SUCCESS);
    /* types NULL: LogtoTokenType any */
    assert_int_equal(
        check(p, "{\"alg\":\"ES256\",\"typ\":\"JWT\"}", LOGTO_ALG_MASK_ALL, NULL, &res),
        APR_SUCCESS);
    assert_int_equal(check(p, "{\"alg\":\"ES256\"}", LOGTO_ALG_MASK_ALL, NULL, &res), APR_SUCCESS);
}

typedef struct {
    test_key_e key;
    const char *alg;
    apr_size_t sig_len;
} alg_case_t;

static const alg_case_t alg_cases[] = {
    {TEST_KEY_RSA2048, "RS256", 256}, {TEST_KEY_RSA2048, "RS384", 256},
    {TEST_KEY_RSA2048, "RS512", 256}, {TEST_KEY_RSA2048, "PS256", 256},
    {TEST_KEY_RSA2048, "PS384", 256}, {TEST_KEY_RSA2048, "PS512", 256},
    {TEST_KEY_P256, "ES256", 64},     {TEST_KEY_P384, "ES384", 96},
    {TEST_KEY_P521, "ES512", 132},    {TEST_KEY_ED25519, "EdDSA", 64},
};

static logto_jwk_t *jwk_of(apr_pool_t *p, test_key_e which)
{
    const char *json = test_jwk(p, which, "k", NULL);
    logto_jwk_t *key = NULL;
    const char *why;

    assert_int_equal(logto_jwk_parse(p, json, strlen(json), &key, &why), APR_SUCCESS);
    return key;
}

/* Every algorithm verifies its own signature, and only over the exact
 * signing input: one changed payload byte fails. */
static void verify_each_algorithm(void **state)
{
    apr_pool_t *p = *state;
    size_t i;

    for (i = 0; i < sizeof(alg_cases) / sizeof(alg_cases[0]); i++) {
        const alg_case_t *c = &alg_cases[i];
        const char *token =
            test_sign(p, c->key, c->alg, test_header(p, c->alg, "k"), test_payload(p, NULL));
        const char *other = test_sign(p, c->key, c->alg, test_header(p, c->alg, "k"),
                                      test_payload(p, "\"admin\":true,"));
        logto_jwk_t *key = jwk_of(p, c->key);
        logto_jws_t *jws = parse_ok(p, token, 0);
        logto_result_t res;
        const char *dot1 = strchr(token, '.'), *dot2 = strrchr(token, '.');
        const char *odot1 = strchr(other, '.'), *odot2 = strrchr(other, '.');
        const char *swapped;

        assert_int_equal(jws->sig_len, c->sig_len);
        if (logto_jws_verify(jws, key, &res) != APR_SUCCESS) {
            fail_msg("%s: own signature refused: %s", c->alg, logto_reason_name(res.reason));
        }
        assert_int_equal(res.reason, LOGTO_OK);

        /* the first token's signature over the second token's payload */
        swapped =
            apr_pstrcat(p, apr_pstrmemdup(p, token, (apr_size_t)(dot1 - token + 1)),
                        apr_pstrmemdup(p, odot1 + 1, (apr_size_t)(odot2 - odot1 - 1)), dot2, NULL);
        jws = parse_ok(p, swapped, 0);
        assert_reason(logto_jws_verify(jws, key, &res), res, LOGTO_BAD_SIGNATURE);
    }
}

/* The same key under another algorithm of its type: the signature is bound
 * to the hash and padding of the header's alg. */
static void verify_rsa_algorithm_swap(void **state)
{
    apr_pool_t *p = *state;
    const char *payload = test_payload(p, NULL);
    const char *h256 = test_header(p, "RS256", "k"), *hps = test_header(p, "PS256", "k");
    const char *input = apr_pstrcat(p, test_b64s(p, hps), ".", test_b64s(p, payload), NULL);
    apr_size_t len;
    unsigned char *rs_sig = test_sign_raw(p, TEST_KEY_RSA2048, "RS256", input, strlen(input), &len);
    logto_jwk_t *key = jwk_of(p, TEST_KEY_RSA2048);
    logto_result_t res;
    logto_jws_t *jws;

    /* PKCS#1 v1.5 signature presented as PS256 */
    jws = parse_ok(p, apr_pstrcat(p, input, ".", test_b64(p, rs_sig, len), NULL), 0);
    assert_reason(logto_jws_verify(jws, key, &res), res, LOGTO_BAD_SIGNATURE);
    /* RS384 signature presented as RS256 */
    input = apr_pstrcat(p, test_b64s(p, h256), ".", test_b64s(p, payload), NULL);
    rs_sig = test_sign_raw(p, TEST_KEY_RSA2048, "RS384", input, strlen(input), &len);
    jws = parse_ok(p, apr_pstrcat(p, input, ".", test_b64(p, rs_sig, len), NULL), 0);
    assert_reason(logto_jws_verify(jws, key, &res), res, LOGTO_BAD_SIGNATURE);
}

/* The RFC 7515 A.3 signature verifies with the RFC key: raw r||s to DER. */
static void verify_rfc7515_es256(void **state)
{
    apr_pool_t *p = *state;
    logto_jws_t *jws =
        parse_ok(p, unit_vector_text(p, "rfc7515-a3-es256", "token"), LOGTO_JWS_PAYLOAD_ANY);
    logto_jwks_t *set = unit_vector_jwks(p, "rfc7515-a3-es256");
    const logto_jwk_t *key = logto_jwks_find(set, jws->kid, jws->alg);
    logto_result_t res;

    assert_null(jws->kid);
    assert_non_null(key);
    assert_int_equal(logto_jws_verify(jws, key, &res), APR_SUCCESS);
    /* its payload is a JSON object: parsed even with the flag */
    assert_non_null(jws->payload);
    assert_string_equal(json_string_value(json_object_get(jws->payload, "iss")), "joe");
}

static const struct CMUnitTest tests[] = {
    unit_test(parse_fields),
    unit_test(parse_without_kid_or_typ),
    unit_test(header_members_of_wrong_type),
    unit_test(alg_names_exact),
    unit_test(payload_any_flag),
    unit_test(header_alg_allow_list),
    unit_test(header_typ),
    unit_test(verify_each_algorithm),
    unit_test(verify_rsa_algorithm_swap),
    unit_test(verify_rfc7515_es256),
};

LOGTO_TEST_GROUP(jws, tests);
