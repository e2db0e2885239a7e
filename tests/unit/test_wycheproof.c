/* Every case of Project Wycheproof's signature vectors for the algorithms we
 * verify (tests/vectors/wycheproof/, Apache License 2.0, C2SP/wycheproof),
 * through lib/'s real verification: the key from the group's JWK by
 * logto_jwk_parse, the case's msg as the JWS signing input and its sig as the
 * signature, logto_jws_verify. "valid" must verify and "invalid" must not; an
 * "acceptable" case gets the decision tests/vectors/README.md documents for
 * its flags. A key that logto_jwk_parse refuses verifies nothing. ECDSA cases
 * run twice, with the key's fast-verifier table and without (OpenSSL), and
 * both answers must be the same. The JSON is read as data with jansson. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "logto_b64.h"
#include "logto_jwk.h"
#include "logto_jws.h"
#include "unit.h"

typedef struct {
    const char *file;
    logto_alg_e alg;
    const char *sha;  /* the groups' "sha", NULL for EdDSA */
    apr_size_t coord; /* ECDSA: the coordinate size, 0 otherwise */
} wp_file_t;

static const wp_file_t files[] = {
    {"ecdsa_secp256r1_sha256_p1363_test.json", LOGTO_ALG_ES256, "SHA-256", 32},
    {"ecdsa_secp384r1_sha384_p1363_test.json", LOGTO_ALG_ES384, "SHA-384", 48},
    {"ecdsa_secp521r1_sha512_p1363_test.json", LOGTO_ALG_ES512, "SHA-512", 66},
    {"ed25519_test.json", LOGTO_ALG_EDDSA, NULL, 0},
    {"rsa_signature_2048_sha256_test.json", LOGTO_ALG_RS256, "SHA-256", 0},
    {"rsa_signature_3072_sha384_test.json", LOGTO_ALG_RS384, "SHA-384", 0},
    {"rsa_pss_2048_sha256_mgf1_32_test.json", LOGTO_ALG_PS256, "SHA-256", 0},
};

/* Our decision for "acceptable" cases, by flag (tests/vectors/README.md). A
 * flag without an entry fails the test until it is decided. */
static const struct {
    const char *flag;
    int verifies;
} acceptable[] = {
    /* RSA PKCS #1 v1.5 DigestInfo without the NULL parameters: a legacy
     * encoding; OpenSSL refuses it and so do we. */
    {"MissingNull", 0},
};

typedef struct {
    int cases, valid, invalid, acceptable, keys_refused, both_paths;
} wp_count_t;

static unsigned char *from_hex(apr_pool_t *p, const char *hex, apr_size_t *len)
{
    apr_size_t n = strlen(hex), i;
    unsigned char *out = apr_palloc(p, n / 2 + 1);

    assert_int_equal(n % 2, 0);
    for (i = 0; i < n / 2; i++) {
        char byte[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
        char *end = NULL;

        out[i] = (unsigned char)strtoul(byte, &end, 16);
        assert_true(end == byte + 2);
    }
    *len = n / 2;
    return out;
}

static const char *member(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* An EC coordinate from Wycheproof's hex (which may carry a leading 00 or
 * be shorter) as base64url of exactly coord bytes. */
static const char *ec_coord(apr_pool_t *p, const char *hex, apr_size_t coord)
{
    apr_size_t len;
    unsigned char *raw = from_hex(p, hex, &len);
    unsigned char *padded = apr_pcalloc(p, coord);

    while (len > coord) {
        assert_int_equal(raw[0], 0);
        raw++;
        len--;
    }
    memcpy(padded + coord - len, raw, len);
    return logto_b64url_encode(p, padded, coord);
}

/* The group's key as JWK text: publicKeyJwk, or keyJwk (the RSA files),
 * or for EC groups without one, made from publicKey's wx and wy. */
static const char *group_jwk(apr_pool_t *p, json_t *group, const wp_file_t *f)
{
    json_t *jwk = json_object_get(group, "publicKeyJwk");
    json_t *pub = json_object_get(group, "publicKey");
    char *text;
    const char *out;

    if (!jwk) {
        jwk = json_object_get(group, "keyJwk");
    }
    if (jwk) {
        assert_true(json_is_object(jwk));
        assert_null(json_object_get(jwk, "d")); /* public keys only */
        text = json_dumps(jwk, JSON_COMPACT);
        assert_non_null(text);
        out = apr_pstrdup(p, text);
        free(text);
        return out;
    }
    assert_true(f->coord > 0 && json_is_object(pub));
    assert_non_null(member(pub, "wx"));
    assert_non_null(member(pub, "wy"));
    return apr_psprintf(p, "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}",
                        f->alg == LOGTO_ALG_ES256   ? "P-256"
                        : f->alg == LOGTO_ALG_ES384 ? "P-384"
                                                    : "P-521",
                        ec_coord(p, member(pub, "wx"), f->coord),
                        ec_coord(p, member(pub, "wy"), f->coord));
}

static int verifies(const logto_jws_t *jws, const logto_jwk_t *key)
{
    logto_result_t res;

    return key && logto_jws_verify(jws, key, &res) == APR_SUCCESS;
}

/* The documented answer for an acceptable case; fails if undecided. */
static int acceptable_decision(json_t *test)
{
    json_t *flags = json_object_get(test, "flags"), *flag;
    size_t i, j;
    int decision = -1;

    json_array_foreach (flags, i, flag) {
        for (j = 0; j < sizeof(acceptable) / sizeof(acceptable[0]); j++) {
            if (json_is_string(flag) && strcmp(json_string_value(flag), acceptable[j].flag) == 0) {
                assert_true(decision == -1 || decision == acceptable[j].verifies);
                decision = acceptable[j].verifies;
            }
        }
    }
    if (decision == -1) {
        fail_msg("acceptable case %lld has no documented decision",
                 (long long)json_integer_value(json_object_get(test, "tcId")));
    }
    return decision;
}

static void run_group(apr_pool_t *p, json_t *group, const wp_file_t *f, wp_count_t *count)
{
    const char *jwk = group_jwk(p, group, f), *why = NULL;
    logto_jwk_t *key = NULL, *fast = NULL;
    json_t *tests = json_object_get(group, "tests"), *test;
    size_t i;

    if (f->sha) {
        assert_string_equal(member(group, "sha"), f->sha);
    }
    if (f->alg == LOGTO_ALG_PS256) {
        /* PS256 is RSASSA-PSS with MGF1-SHA-256 and a 32-byte salt */
        assert_string_equal(member(group, "mgfSha"), "SHA-256");
        assert_int_equal(json_integer_value(json_object_get(group, "sLen")), 32);
    }
    if (logto_jwk_parse(p, jwk, strlen(jwk), &key, &why) != APR_SUCCESS) {
        key = NULL;
        count->keys_refused++;
    }
    else if (f->coord) {
        assert_int_equal(logto_jwk_parse(p, jwk, strlen(jwk), &fast, &why), APR_SUCCESS);
        assert_int_equal(logto_jwk_precompute(fast), APR_SUCCESS);
        assert_null(logto_jwk_ec_table(key));
    }
    json_array_foreach (tests, i, test) {
        const char *result = member(test, "result");
        apr_size_t msg_len, sig_len;
        unsigned char *msg = from_hex(p, member(test, "msg"), &msg_len);
        unsigned char *sig = from_hex(p, member(test, "sig"), &sig_len);
        logto_jws_t jws;
        int got, want;

        assert_non_null(result);
        memset(&jws, 0, sizeof(jws));
        jws.alg = f->alg;
        jws.signing_input = (const char *)msg;
        jws.signing_input_len = msg_len;
        jws.sig = sig;
        jws.sig_len = sig_len;
        got = verifies(&jws, key);
        if (fast) {
            /* both paths, the same answer */
            if (verifies(&jws, fast) != got) {
                fail_msg("%s case %lld: the fast path and OpenSSL disagree", f->file,
                         (long long)json_integer_value(json_object_get(test, "tcId")));
            }
            count->both_paths += logto_jwk_ec_table(fast) != NULL;
        }
        if (strcmp(result, "valid") == 0) {
            want = 1;
            count->valid++;
        }
        else if (strcmp(result, "invalid") == 0) {
            want = 0;
            count->invalid++;
        }
        else {
            assert_string_equal(result, "acceptable");
            want = acceptable_decision(test);
            count->acceptable++;
        }
        if (got != want) {
            fail_msg("%s case %lld (%s, %s): %s", f->file,
                     (long long)json_integer_value(json_object_get(test, "tcId")), result,
                     member(test, "comment"), got ? "verifies" : "does not verify");
        }
        count->cases++;
    }
}

static void run_file(apr_pool_t *p, const wp_file_t *f)
{
    const char *path = apr_pstrcat(p, LOGTO_VECTOR_DIR, "/wycheproof/", f->file, NULL);
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err), *groups, *group;
    wp_count_t count;
    size_t i;

    if (!doc) {
        fail_msg("%s: %s", path, err.text);
    }
    memset(&count, 0, sizeof(count));
    groups = json_object_get(doc, "testGroups");
    assert_true(json_array_size(groups) > 0);
    json_array_foreach (groups, i, group) {
        apr_pool_t *sub;

        apr_pool_create(&sub, p);
        run_group(sub, group, f, &count);
        apr_pool_destroy(sub);
    }
    /* every case of the file ran */
    assert_int_equal(count.cases, json_integer_value(json_object_get(doc, "numberOfTests")));
    print_message("wycheproof %s: %d cases (%d valid, %d invalid, %d acceptable), %d keys "
                  "refused, %d through the fast path too\n",
                  f->file, count.cases, count.valid, count.invalid, count.acceptable,
                  count.keys_refused, count.both_paths);
    json_decref(doc);
}

static void ecdsa_p256(void **state)
{
    run_file(*state, &files[0]);
}

static void ecdsa_p384(void **state)
{
    run_file(*state, &files[1]);
}

static void ecdsa_p521(void **state)
{
    run_file(*state, &files[2]);
}

static void eddsa_ed25519(void **state)
{
    run_file(*state, &files[3]);
}

static void rsa_pkcs1_2048_sha256(void **state)
{
    run_file(*state, &files[4]);
}

static void rsa_pkcs1_3072_sha384(void **state)
{
    run_file(*state, &files[5]);
}

static void rsa_pss_2048_sha256(void **state)
{
    run_file(*state, &files[6]);
}

static const struct CMUnitTest tests[] = {
    unit_test(ecdsa_p256),
    unit_test(ecdsa_p384),
    unit_test(ecdsa_p521),
    unit_test(eddsa_ed25519),
    unit_test(rsa_pkcs1_2048_sha256),
    unit_test(rsa_pkcs1_3072_sha384),
    unit_test(rsa_pss_2048_sha256),
};

LOGTO_TEST_GROUP(wycheproof, tests);
