/* The validated-token cache (issue 6) and its claims encoding: strict
 * decoding, exp and key-set bounds on every hit, the size bound and the LRU,
 * and concurrent use. */
#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "fake_http.h"
#include "logto_store.h"
#include "logto_tcache.h"
#include "test_keys.h"
#include "unit.h"

/* A byte bound that the tests of other things never reach: the default. */
#define AMPLE_BYTES ((apr_size_t)64 << 20)

#define NOW   unit_time(TEST_NOW)
#define EXP   unit_time(TEST_EXP)
#define ES384 LOGTO_ALG_ES384

/* ---- helpers ------------------------------------------------------------------ */

static apr_array_header_t *strings(apr_pool_t *p, int n, const char *const *items)
{
    apr_array_header_t *a = apr_array_make(p, n ? n : 1, sizeof(const char *));
    int i;

    for (i = 0; i < n; i++) {
        APR_ARRAY_PUSH(a, const char *) = items[i];
    }
    return a;
}

/* Claims with every field set (full) or only the required ones. */
static logto_claims_t *claims_make(apr_pool_t *p, int full)
{
    static const char *const auds[] = {TEST_API, LOGTO_ORG_AUD_PREFIX "org-1"};
    logto_claims_t *c = apr_pcalloc(p, sizeof(*c));

    c->iss = TEST_ISSUER;
    c->sub = "user-1";
    c->exp = TEST_EXP;
    c->payload = "{\"sub\":\"user-1\",\"scope\":\"read:products write:products\"}";
    c->payload_len = strlen(c->payload);
    if (full) {
        c->client_id = "client-1";
        c->jti = "jti-1";
        c->organization_id = "org-1";
        c->scope = "read:products write:products";
        c->kid = "k1";
        c->iat = TEST_IAT;
        c->nbf = TEST_IAT - 1;
        c->audiences = strings(p, 2, auds);
    }
    else {
        c->scope = "";
        c->audiences = strings(p, 0, NULL);
    }
    c->scopes = logto_scope_split(p, c->scope);
    return c;
}

static void assert_str_or_null(const char *a, const char *b)
{
    if (!a || !b) {
        assert_ptr_equal(a, b);
    }
    else {
        assert_string_equal(a, b);
    }
}

static void assert_strings_equal(const apr_array_header_t *a, const apr_array_header_t *b)
{
    int i;

    assert_int_equal(a->nelts, b->nelts);
    for (i = 0; i < a->nelts; i++) {
        assert_string_equal(APR_ARRAY_IDX(a, i, const char *), APR_ARRAY_IDX(b, i, const char *));
    }
}

static apr_status_t json_release(void *json)
{
    json_decref(json);
    return APR_SUCCESS;
}

/* b says what a says. a's derived strings, when a leaves them NULL, are
 * what logto_claims_read() would have made. */
static void assert_claims_equal(const logto_claims_t *a, const logto_claims_t *b)
{
    apr_pool_t *p = b->audiences->pool;

    assert_str_or_null(a->iss, b->iss);
    assert_str_or_null(a->sub, b->sub);
    assert_str_or_null(a->client_id, b->client_id);
    assert_str_or_null(a->jti, b->jti);
    assert_str_or_null(a->organization_id, b->organization_id);
    assert_str_or_null(a->scope, b->scope);
    assert_str_or_null(a->kid, b->kid);
    assert_strings_equal(a->scopes, b->scopes);
    assert_strings_equal(a->audiences, b->audiences);
    assert_true(a->exp == b->exp);
    assert_true(a->iat == b->iat);
    assert_true(a->nbf == b->nbf);
    assert_string_equal(a->scope_list ? a->scope_list : logto_list_join(p, a->scopes),
                        b->scope_list);
    assert_string_equal(a->audience_list ? a->audience_list : logto_list_join(p, a->audiences),
                        b->audience_list);
    assert_memory_equal(a->key_fingerprint, b->key_fingerprint, sizeof(a->key_fingerprint));
    assert_int_equal(a->payload_len, b->payload_len);
    if (a->payload_len) {
        assert_memory_equal(a->payload, b->payload, a->payload_len);
    }
    assert_int_equal(b->payload[b->payload_len], '\0');
}

static unsigned char *encode_ok(apr_pool_t *p, const logto_claims_t *c, apr_size_t *len)
{
    unsigned char *buf = NULL;

    assert_int_equal(logto_claims_encode(p, c, &buf, len), APR_SUCCESS);
    assert_non_null(buf);
    return buf;
}

static apr_status_t free_copy(void *data)
{
    free(data);
    return APR_SUCCESS;
}

/* Decodes from a heap copy of exactly len bytes, so that ASan sees any read
 * past the end; on success the copy lives as long as p (the decoded claims
 * may point into it). */
static apr_status_t decode_exact(apr_pool_t *p, const unsigned char *buf, apr_size_t len,
                                 logto_claims_t **out)
{
    unsigned char *copy = malloc(len ? len : 1);
    apr_status_t rv;

    assert_non_null(copy);
    if (len) {
        memcpy(copy, buf, len);
    }
    *out = NULL;
    rv = logto_claims_decode(p, copy, len, out);
    if (rv == APR_SUCCESS) {
        assert_non_null(*out);
        apr_pool_cleanup_register(p, copy, free_copy, apr_pool_cleanup_null);
    }
    else {
        free(copy);
    }
    return rv;
}

static void put_be64(unsigned char *at, apr_int64_t v)
{
    int i;

    for (i = 7; i >= 0; i--) {
        at[i] = (unsigned char)((apr_uint64_t)v & 0xff);
        v = (apr_int64_t)((apr_uint64_t)v >> 8);
    }
}

static void put_be32(unsigned char *at, apr_uint32_t v)
{
    at[0] = (unsigned char)(v >> 24);
    at[1] = (unsigned char)(v >> 16);
    at[2] = (unsigned char)(v >> 8);
    at[3] = (unsigned char)v;
}

static apr_size_t find_bytes(const unsigned char *buf, apr_size_t len, const char *needle)
{
    apr_size_t n = strlen(needle), i;

    for (i = 0; i + n <= len; i++) {
        if (memcmp(buf + i, needle, n) == 0) {
            return i;
        }
    }
    fail_msg("%s not in the encoding", needle);
    return 0;
}

static logto_store_t *static_store(apr_pool_t *p)
{
    const char *jwks = test_jwks_json(p, test_jwk(p, TEST_KEY_P384, "k1", "ES384"), NULL);
    logto_store_t *store = NULL;

    assert_int_equal(logto_store_create_static(&store, TEST_ISSUER, test_jwks(p, jwks), p),
                     APR_SUCCESS);
    return store;
}

/* A cache key with chosen bytes: shard (key[0]), bucket (key[1..4]) and a
 * distinguishing last byte. */
static void raw_key(unsigned char key[LOGTO_TCACHE_KEY_LEN], unsigned shard, unsigned bucket,
                    unsigned tail)
{
    memset(key, 0, LOGTO_TCACHE_KEY_LEN);
    key[0] = (unsigned char)shard;
    key[4] = (unsigned char)bucket;
    key[LOGTO_TCACHE_KEY_LEN - 1] = (unsigned char)tail;
}

static void token_key(const char *token, unsigned char key[LOGTO_TCACHE_KEY_LEN])
{
    static const unsigned char fp[LOGTO_TCACHE_KEY_LEN] = {1, 2, 3};

    logto_tcache_key(fp, token, strlen(token), key);
}

static int hit(logto_tcache_t *cache, const unsigned char *key, apr_time_t now, apr_pool_t *p)
{
    logto_claims_t *claims = NULL;
    int found = logto_tcache_get(cache, key, now, p, &claims);

    if (found) {
        assert_non_null(claims);
    }
    return found;
}

/* ---- the encoding ----------------------------------------------------------------- */

/* Claims as a request makes them: logto_claims_read() over a payload text
 * (iss must be TEST_ISSUER), with the kid and fingerprint of a key. */
static logto_claims_t *claims_read(apr_pool_t *p, const char *payload)
{
    apr_array_header_t *issuers = apr_array_make(p, 1, sizeof(const char *));
    logto_claims_t *c = NULL;
    logto_result_t res;
    json_error_t err;
    json_t *json = json_loads(payload, 0, &err);

    assert_non_null(json);
    apr_pool_cleanup_register(p, json, json_release, apr_pool_cleanup_null);
    APR_ARRAY_PUSH(issuers, const char *) = TEST_ISSUER;
    memset(&res, 0, sizeof(res));
    assert_int_equal(logto_claims_read(p, json, payload, strlen(payload), issuers,
                                       apr_time_from_sec(60), NOW, &c, &res),
                     APR_SUCCESS);
    c->kid = "7yBAiFyJ3M54qQ8U6o71jYj4nuTUOIbHtfPInROwlso";
    memset(c->key_fingerprint, 0x5a, sizeof(c->key_fingerprint));
    return c;
}

/* How many times needle occurs in buf. */
static int count_bytes(const unsigned char *buf, apr_size_t len, const char *needle)
{
    apr_size_t n = strlen(needle), i;
    int count = 0;

    for (i = 0; i + n <= len; i++) {
        count += memcmp(buf + i, needle, n) == 0;
    }
    return count;
}

/* Offsets in the encoding: "LTC2", exp, iat, nbf, the key fingerprint, the
 * payload's length, the payload and its NUL, then the first (iss) tag. */
#define OFF_EXP         4
#define OFF_PAYLOAD_LEN 60
#define OFF_PAYLOAD     64
#define OFF_ISS_TAG(c)  (OFF_PAYLOAD + (c)->payload_len + 1)
#define TAG_REF         1
#define TAG_INLINE      2

/* Logto's three models, as their tokens say them, and claims whose strings
 * JSON escapes changed or that are not in the payload at all. */
static const char *const shaped_payloads[] = {
    /* model 1, a user */
    "{\"jti\":\"Vq3xK8mZ2pL7nR4tY9wB1\",\"sub\":\"u7x2k9q4m1pz\",\"iat\":1767225000,"
    "\"exp\":1767228600,\"scope\":\"read:products write:products\","
    "\"client_id\":\"app9m2kq7x1b4z8c6v3n5\",\"iss\":\"" TEST_ISSUER "\","
    "\"aud\":\"https://api.example.com\"}",
    /* model 2: organization from the audience, empty scope */
    "{\"jti\":\"j2\",\"sub\":\"u7x2k9q4m1pz\",\"iat\":1767225000,\"exp\":1767228600,"
    "\"scope\":\"\",\"client_id\":\"app9m2kq7x1b4z8c6v3n5\",\"iss\":\"" TEST_ISSUER "\","
    "\"aud\":\"urn:logto:organization:org4kd9x2m1q\"}",
    /* model 3: organization_id claim, audiences as an array */
    "{\"sub\":\"m2m-app\",\"exp\":1767228600,\"scope\":\"read:products\","
    "\"organization_id\":\"org4kd9x2m1q\",\"client_id\":\"m2m-app\","
    "\"iss\":\"" TEST_ISSUER "\",\"aud\":[\"https://api.example.com\",\"https://b.example\"]}",
    /* escapes: iss with \/, sub with \u00e9 next to a raw é, a scope with
     * empty items, an audience with an escaped quote, raw UTF-8 */
    "{\"sub\":\"us\\u00e9r-\xc3\xa9\",\"exp\":1767228600,\"scope\":\" a  b\\u0020c \","
    "\"iss\":\"https:\\/\\/tenant.logto.app\\/oidc\",\"aud\":[\"say "
    "\\\"hi\\\"\",\"\xe2\x82\xacuro\","
    "\"\"],\"jti\":\"\xf0\x9f\x94\x91-key\"}",
    /* nothing optional */
    "{\"sub\":\"s\",\"exp\":1767228600,\"iss\":\"" TEST_ISSUER "\"}",
};

/* What a request's claims say is what decoding says, field by field,
 * derived strings included. */
static void claims_round_trip(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t i;
    int full;

    for (i = 0; i < sizeof(shaped_payloads) / sizeof(shaped_payloads[0]); i++) {
        logto_claims_t *c = claims_read(p, shaped_payloads[i]), *back;
        apr_size_t len;
        unsigned char *buf = encode_ok(p, c, &len);

        assert_int_equal(decode_exact(p, buf, len, &back), APR_SUCCESS);
        assert_claims_equal(c, back);
        /* and once more, from the decoded claims */
        buf = encode_ok(p, back, &len);
        assert_int_equal(decode_exact(p, buf, len, &back), APR_SUCCESS);
        assert_claims_equal(c, back);
    }
    for (full = 0; full <= 1; full++) {
        logto_claims_t *c = claims_make(p, full), *back;
        apr_size_t len;
        unsigned char *buf = encode_ok(p, c, &len);

        assert_int_equal(decode_exact(p, buf, len, &back), APR_SUCCESS);
        assert_claims_equal(c, back);
    }
}

/* The payload is stored once: its strings are references (their bytes occur
 * once in the encoding, in the payload); strings that escapes changed, or
 * that the payload does not hold, are inline. */
static void claims_stored_once(void **state)
{
    apr_pool_t *p = *state;
    logto_claims_t *c = claims_read(p, shaped_payloads[0]), *e;
    apr_size_t len;
    unsigned char *buf = encode_ok(p, c, &len);

    assert_int_equal(count_bytes(buf, len, "Vq3xK8mZ2pL7nR4tY9wB1"), 1);
    assert_int_equal(count_bytes(buf, len, "u7x2k9q4m1pz"), 1);
    assert_int_equal(count_bytes(buf, len, "read:products write:products"), 1);
    assert_int_equal(count_bytes(buf, len, "app9m2kq7x1b4z8c6v3n5"), 1);
    assert_int_equal(count_bytes(buf, len, TEST_ISSUER), 1);
    assert_int_equal(count_bytes(buf, len, "https://api.example.com"), 1);
    assert_int_equal(buf[OFF_ISS_TAG(c)], TAG_REF);
    /* the kid comes from the header: inline */
    assert_int_equal(count_bytes(buf, len, c->kid), 1);
    /* the payload, 7 tags, 5 references, the kid inline, one audience
     * reference, and the fixed fields */
    assert_int_equal(len, 64 + c->payload_len + 1 + 1 + (apr_size_t)5 * 9 + (6 + strlen(c->kid)) + 4
                              + 9);

    e = claims_read(p, shaped_payloads[3]);
    buf = encode_ok(p, e, &len);
    assert_int_equal(buf[OFF_ISS_TAG(e)], TAG_INLINE); /* \/ in the payload */
    assert_int_equal(count_bytes(buf, len, TEST_ISSUER), 1);
    assert_int_equal(count_bytes(buf, len, "us\xc3\xa9r-\xc3\xa9"), 1);
    assert_int_equal(count_bytes(buf, len, "say \"hi\""), 1);
    /* raw UTF-8 is the payload's own bytes: only there */
    assert_int_equal(count_bytes(buf, len, "\xe2\x82\xacuro"), 1);
    assert_int_equal(count_bytes(buf, len, "\xf0\x9f\x94\x91-key"), 1);
}

static void claims_round_trip_edge_values(void **state)
{
    apr_pool_t *p = *state;
    logto_claims_t *c = claims_make(p, 1), *back;
    const char *auds[64];
    apr_size_t len;
    unsigned char *buf;
    int i;

    for (i = 0; i < 64; i++) {
        auds[i] = (i % 2) ? "" : apr_psprintf(p, "https://api-%d.example.com", i);
    }
    c->audiences = strings(p, 64, auds);
    c->exp = LOGTO_NUMERIC_DATE_MAX;
    c->iat = 0;
    c->nbf = -1;
    c->scope = " a  b ";
    c->scopes = logto_scope_split(p, c->scope);
    c->client_id = "";
    c->payload = "{\"a\":\"\\u00e9\xc3\xa9\"}";
    c->payload_len = strlen(c->payload);
    buf = encode_ok(p, c, &len);
    assert_int_equal(decode_exact(p, buf, len, &back), APR_SUCCESS);
    assert_claims_equal(c, back);
    assert_string_equal(back->scope_list, "a b");

    /* no payload at all */
    c->payload = NULL;
    c->payload_len = 0;
    buf = encode_ok(p, c, &len);
    assert_int_equal(decode_exact(p, buf, len, &back), APR_SUCCESS);
    assert_int_equal(back->payload_len, 0);
    assert_string_equal(back->payload, "");

    /* one audience more is refused by the encoder */
    APR_ARRAY_PUSH(c->audiences, const char *) = "one too many";
    assert_int_not_equal(logto_claims_encode(p, c, &buf, &len), APR_SUCCESS);
}

/* What the encoding cannot say faithfully is refused, not stored wrong: a
 * payload with a NUL (decoding would stop at it), derived strings that
 * differ from what decoding derives. */
static void encode_refuses_what_decode_would_change(void **state)
{
    apr_pool_t *p = *state;
    logto_claims_t *c = claims_read(p, shaped_payloads[0]);
    unsigned char *buf;
    apr_size_t len;

    c->payload_len++; /* its NUL terminator, inside */
    assert_int_not_equal(logto_claims_encode(p, c, &buf, &len), APR_SUCCESS);
    c->payload_len--;
    c->scope_list = "read:products";
    assert_int_not_equal(logto_claims_encode(p, c, &buf, &len), APR_SUCCESS);
    c->scope_list = "read:products write:products";
    c->audience_list = "https://other.example";
    assert_int_not_equal(logto_claims_encode(p, c, &buf, &len), APR_SUCCESS);
    c->audience_list = NULL; /* derived */
    assert_int_equal(logto_claims_encode(p, c, &buf, &len), APR_SUCCESS);
}

static void decode_refuses_every_truncation(void **state)
{
    apr_pool_t *p = *state;
    int which;

    for (which = 0; which < 4; which++) {
        logto_claims_t *c =
            which < 2 ? claims_make(p, which) : claims_read(p, shaped_payloads[which == 2 ? 2 : 3]);
        apr_size_t len, n;
        unsigned char *buf = encode_ok(p, c, &len);
        logto_claims_t *back;

        for (n = 0; n < len; n++) {
            if (decode_exact(p, buf, n, &back) == APR_SUCCESS) {
                fail_msg("a truncation to %lu of %lu bytes decoded", (unsigned long)n,
                         (unsigned long)len);
            }
        }
    }
}

/* The offset of the span (tag byte) of the i-th string field (0: iss) in an
 * encoding of c, walking the tags. */
static apr_size_t span_at(const logto_claims_t *c, const unsigned char *buf, int field)
{
    apr_size_t at = OFF_ISS_TAG(c);

    while (field-- > 0) {
        if (buf[at] == 0) {
            at += 1;
        }
        else if (buf[at] == TAG_REF) {
            at += 9;
        }
        else {
            at += 6
                  + (((apr_size_t)buf[at + 1] << 24) | ((apr_size_t)buf[at + 2] << 16)
                     | ((apr_size_t)buf[at + 3] << 8) | buf[at + 4]);
        }
    }
    return at;
}

#define FIELD_SUB   1
#define FIELD_SCOPE 5
#define FIELD_KID   6

static void decode_refuses_corruption(void **state)
{
    apr_pool_t *p = *state;
    logto_claims_t *c = claims_read(p, shaped_payloads[2]);
    apr_size_t len;
    unsigned char *good = encode_ok(p, c, &len);
    unsigned char *buf = apr_palloc(p, len + 1);
    const apr_uint32_t plen = (apr_uint32_t)c->payload_len;
    logto_claims_t *back;
    apr_size_t at, sub = span_at(c, good, FIELD_SUB), kid = span_at(c, good, FIELD_KID);
    apr_size_t aud = span_at(c, good, 7) + 4; /* the first audience, after the count */

#define RESET() memcpy(buf, good, len)
#define REFUSED()                                                                                  \
    assert_int_not_equal(decode_exact(p, buf, len, &back), APR_SUCCESS);                           \
    RESET()
    RESET();
    assert_int_equal(decode_exact(p, buf, len, &back), APR_SUCCESS);
    assert_int_equal(buf[sub], TAG_REF);
    assert_int_equal(buf[kid], TAG_INLINE);
    assert_int_equal(buf[aud], TAG_REF);

    /* wrong magic, the old one included */
    buf[3] = '1';
    REFUSED();
    buf[0] = 'l';
    REFUSED();

    /* a tag other than 0, 1 or 2; a required string or an audience absent */
    buf[sub] = 3;
    REFUSED();
    buf[sub] = 0xff;
    REFUSED();
    buf[OFF_ISS_TAG(c)] = 0;
    REFUSED();
    buf[aud] = 0;
    REFUSED();

    /* a reference past the payload: offset, length, their sum, overflow */
    put_be32(buf + sub + 1, plen + 1);
    put_be32(buf + sub + 5, 0);
    REFUSED();
    put_be32(buf + sub + 1, plen);
    put_be32(buf + sub + 5, 1);
    REFUSED();
    put_be32(buf + sub + 1, plen - 2);
    put_be32(buf + sub + 5, 3);
    REFUSED();
    put_be32(buf + sub + 1, 1);
    put_be32(buf + sub + 5, 0xffffffffu);
    REFUSED();
    put_be32(buf + sub + 1, 0xffffffffu);
    put_be32(buf + sub + 5, 2);
    REFUSED();
    /* (the payload's last bytes, and an empty range at its end, are in it) */
    put_be32(buf + sub + 1, plen - 2);
    put_be32(buf + sub + 5, 2);
    assert_int_equal(decode_exact(p, buf, len, &back), APR_SUCCESS);
    assert_string_equal(back->sub, "]}");
    put_be32(buf + sub + 1, plen);
    put_be32(buf + sub + 5, 0);
    assert_int_equal(decode_exact(p, buf, len, &back), APR_SUCCESS);
    assert_string_equal(back->sub, "");
    RESET();

    /* a NUL in the payload (so in a reference), in an inline string, or
     * where the terminators must be */
    at = find_bytes(buf, len, "m2m-app");
    buf[at + 2] = '\0';
    REFUSED();
    buf[kid + 5 + 3] = '\0';
    REFUSED();
    buf[OFF_PAYLOAD + plen] = 'x';
    REFUSED();
    buf[kid + 5 + strlen(c->kid)] = 'x';
    REFUSED();

    /* lengths past the end: the payload's, an inline string's */
    put_be32(buf + OFF_PAYLOAD_LEN, 0xffffffffu);
    REFUSED();
    put_be32(buf + OFF_PAYLOAD_LEN, (apr_uint32_t)len);
    REFUSED();
    put_be32(buf + OFF_PAYLOAD_LEN, plen + 1);
    REFUSED();
    put_be32(buf + kid + 1, 0xffffffffu);
    REFUSED();
    put_be32(buf + kid + 1, (apr_uint32_t)(len - kid));
    REFUSED();

    /* trailing bytes */
    buf[len] = 0;
    assert_int_not_equal(decode_exact(p, buf, len + 1, &back), APR_SUCCESS);
    RESET();

    /* exp out of range; the bounds themselves */
    put_be64(buf + OFF_EXP, 0);
    REFUSED();
    put_be64(buf + OFF_EXP, -1);
    REFUSED();
    put_be64(buf + OFF_EXP, APR_INT64_MIN);
    REFUSED();
    put_be64(buf + OFF_EXP, LOGTO_NUMERIC_DATE_MAX + 1);
    REFUSED();
    put_be64(buf + OFF_EXP, LOGTO_NUMERIC_DATE_MAX);
    assert_int_equal(decode_exact(p, buf, len, &back), APR_SUCCESS);
    put_be64(buf + OFF_EXP, 1);
    assert_int_equal(decode_exact(p, buf, len, &back), APR_SUCCESS);
#undef REFUSED
#undef RESET
}

/* The audience count comes before the audiences, last: a buffer ending in n
 * empty inline audiences is consistent, and n = 65 is one too many. */
static void decode_refuses_too_many_audiences(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t len;
    unsigned char *base = encode_ok(p, claims_make(p, 0), &len);
    apr_uint32_t n, i;

    for (n = 64; n <= 65; n++) {
        /* n empty audiences: a tag, a zero length and a NUL each */
        apr_size_t size = len + (apr_size_t)6 * n;
        unsigned char *buf = apr_pcalloc(p, size);
        logto_claims_t *back;

        memcpy(buf, base, len);
        put_be32(buf + len - 4, n);
        for (i = 0; i < n; i++) {
            buf[len + (apr_size_t)6 * i] = TAG_INLINE;
        }
        if (n == 64) {
            assert_int_equal(decode_exact(p, buf, size, &back), APR_SUCCESS);
            assert_int_equal(back->audiences->nelts, 64);
        }
        else {
            assert_int_not_equal(decode_exact(p, buf, size, &back), APR_SUCCESS);
        }
    }
    /* a huge count with no data behind it */
    {
        unsigned char *buf = apr_pmemdup(p, base, len);
        logto_claims_t *back;

        put_be32(buf + len - 4, 0xffffffffu);
        assert_int_not_equal(decode_exact(p, buf, len, &back), APR_SUCCESS);
    }
}

/* iss, sub, scope are required: claims without them never decode. */
static void decode_refuses_missing_required(void **state)
{
    apr_pool_t *p = *state;
    int which;

    for (which = 0; which < 3; which++) {
        logto_claims_t *c = claims_make(p, 1), *back;
        apr_size_t len;
        unsigned char *buf;

        if (which == 0) {
            c->iss = NULL;
        }
        else if (which == 1) {
            c->sub = NULL;
        }
        else {
            c->scope = NULL;
        }
        buf = encode_ok(p, c, &len);
        assert_int_not_equal(decode_exact(p, buf, len, &back), APR_SUCCESS);
    }
}

/* ---- keys ---------------------------------------------------------------------------- */

static void key_depends_on_fingerprint_and_token(void **state)
{
    unsigned char fp1[LOGTO_TCACHE_KEY_LEN] = {0}, fp2[LOGTO_TCACHE_KEY_LEN] = {0};
    unsigned char a[LOGTO_TCACHE_KEY_LEN], b[LOGTO_TCACHE_KEY_LEN], zero[LOGTO_TCACHE_KEY_LEN];
    static const char token[] = "eyJhbGciOiJFUzM4NCJ9.eyJzdWIiOiJ1In0.c2ln";

    (void)state;
    memset(zero, 0, sizeof(zero));
    fp2[LOGTO_TCACHE_KEY_LEN - 1] = 1; /* differs only in its last byte */
    logto_tcache_key(fp1, token, strlen(token), a);
    assert_memory_not_equal(a, zero, sizeof(a));
    logto_tcache_key(fp1, token, strlen(token), b);
    assert_memory_equal(a, b, sizeof(a));
    logto_tcache_key(fp2, token, strlen(token), b);
    assert_memory_not_equal(a, b, sizeof(a));
    /* one character more or less, or another last character */
    logto_tcache_key(fp1, token, strlen(token) - 1, b);
    assert_memory_not_equal(a, b, sizeof(a));
    logto_tcache_key(fp1, "eyJhbGciOiJFUzM4NCJ9.eyJzdWIiOiJ1In0.c2lo", strlen(token), b);
    assert_memory_not_equal(a, b, sizeof(a));
    /* only len bytes of the token count */
    logto_tcache_key(fp1, "eyJhbGciOiJFUzM4NCJ9.eyJzdWIiOiJ1In0.c2lnEXTRA", strlen(token), b);
    assert_memory_equal(a, b, sizeof(a));
}

/* ---- the cache ---------------------------------------------------------------------- */

static void get_after_put_hits(void **state)
{
    apr_pool_t *p = *state;
    logto_store_t *store = static_store(p);
    logto_tcache_t *cache;
    logto_claims_t *c = claims_make(p, 1), *got = NULL;
    unsigned char key[LOGTO_TCACHE_KEY_LEN], other[LOGTO_TCACHE_KEY_LEN];

    assert_int_equal(logto_tcache_create(&cache, 64, AMPLE_BYTES, p), APR_SUCCESS);
    token_key("token-a", key);
    token_key("token-b", other);
    assert_false(hit(cache, key, NOW, p));
    logto_tcache_put(cache, key, c, store, logto_store_epoch(store), p);
    assert_int_equal(logto_tcache_count(cache), 1);
    assert_int_equal(logto_tcache_get(cache, key, NOW, p, &got), 1);
    assert_claims_equal(c, got);
    assert_false(hit(cache, other, NOW, p));
}

static void no_hit_at_or_after_exp(void **state)
{
    apr_pool_t *p = *state;
    logto_store_t *store = static_store(p);
    logto_tcache_t *cache;
    unsigned char key[LOGTO_TCACHE_KEY_LEN];

    assert_int_equal(logto_tcache_create(&cache, 64, AMPLE_BYTES, p), APR_SUCCESS);
    token_key("token-a", key);
    logto_tcache_put(cache, key, claims_make(p, 1), store, 0, p);
    assert_true(hit(cache, key, EXP - 1, p));
    assert_false(hit(cache, key, EXP, p));
    /* the stale entry was dropped on the way */
    assert_int_equal(logto_tcache_count(cache), 0);
    assert_false(hit(cache, key, EXP - 1, p));

    logto_tcache_put(cache, key, claims_make(p, 1), store, 0, p);
    assert_false(hit(cache, key, EXP + apr_time_from_sec(3600), p));
}

static void epoch_mismatch_misses(void **state)
{
    apr_pool_t *p = *state;
    logto_store_t *store = static_store(p);
    logto_tcache_t *cache;
    unsigned char key[LOGTO_TCACHE_KEY_LEN];

    assert_int_equal(logto_tcache_create(&cache, 64, AMPLE_BYTES, p), APR_SUCCESS);
    token_key("token-a", key);
    logto_tcache_put(cache, key, claims_make(p, 1), store, logto_store_epoch(store) + 1, p);
    assert_false(hit(cache, key, NOW, p));
}

#define ISS       "https://issuer.test/oidc"
#define JWKS_URL  ISS "/jwks"
#define STORE_TTL apr_time_from_sec(60)

/* A store over a fake JWKS URL, ttl 60 s, max stale 60 s, fetched at NOW. */
static logto_store_t *fetched_store(apr_pool_t *p, fake_http_t *fake, const char *jwks)
{
    logto_store_conf_t conf;
    logto_store_t *store;
    logto_result_t res;
    const logto_jwk_t *key;

    memset(&conf, 0, sizeof(conf));
    conf.issuer = ISS;
    conf.jwks_uri = JWKS_URL;
    conf.ttl = STORE_TTL;
    conf.refresh_interval = apr_time_from_sec(10);
    conf.max_stale = apr_time_from_sec(60);
    conf.http_timeout = apr_time_from_sec(2);
    fake_http_set(fake, JWKS_URL, 200, jwks);
    assert_int_equal(logto_store_create(&store, &conf, fake_http_iface(fake), p), APR_SUCCESS);
    memset(&res, 0, sizeof(res));
    assert_int_equal(logto_store_key(store, "k1", ES384, NOW, p, &key, &res), APR_SUCCESS);
    return store;
}

/* Logto rotation: a key added leaves cached tokens alone; a key removed
 * invalidates them. */
static void key_removal_invalidates(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake = fake_http_create(p);
    const char *k1 = test_jwk(p, TEST_KEY_P384, "k1", "ES384");
    const char *k2 = test_jwk(p, TEST_KEY_P384_B, "k2", "ES384");
    logto_store_t *store = fetched_store(p, fake, test_jwks_json(p, k1, k2, NULL));
    logto_tcache_t *cache;
    logto_result_t res;
    const logto_jwk_t *key;
    unsigned char key_a[LOGTO_TCACHE_KEY_LEN];

    assert_int_equal(logto_tcache_create(&cache, 64, AMPLE_BYTES, p), APR_SUCCESS);
    token_key("token-a", key_a);
    logto_tcache_put(cache, key_a, claims_make(p, 1), store, logto_store_epoch(store), p);
    assert_true(hit(cache, key_a, NOW + 1, p));

    /* a key added */
    fake_http_set(fake, JWKS_URL, 200,
                  test_jwks_json(p, k1, k2, test_jwk(p, TEST_KEY_P256, "k3", "ES256"), NULL));
    memset(&res, 0, sizeof(res));
    /* (an unknown kid refetches once the refresh interval of 10 s passed) */
    assert_int_equal(
        logto_store_key(store, "k3", LOGTO_ALG_ES256, NOW + apr_time_from_sec(10), p, &key, &res),
        APR_SUCCESS);
    assert_true(hit(cache, key_a, NOW + apr_time_from_sec(11), p));

    /* a key removed at the next refresh (a TTL after the last fetch) */
    fake_http_set(fake, JWKS_URL, 200, test_jwks_json(p, k1, NULL));
    assert_int_equal(
        logto_store_key(store, "k1", ES384, NOW + apr_time_from_sec(10) + STORE_TTL, p, &key, &res),
        APR_SUCCESS);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 3);
    assert_false(hit(cache, key_a, NOW + apr_time_from_sec(11) + STORE_TTL, p));
}

static void unusable_store_invalidates(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t *fake = fake_http_create(p);
    logto_store_t *store =
        fetched_store(p, fake, test_jwks_json(p, test_jwk(p, TEST_KEY_P384, "k1", "ES384"), NULL));
    logto_tcache_t *cache;
    unsigned char key[LOGTO_TCACHE_KEY_LEN];
    const apr_time_t end = NOW + STORE_TTL + apr_time_from_sec(60);

    assert_int_equal(logto_tcache_create(&cache, 64, AMPLE_BYTES, p), APR_SUCCESS);
    token_key("token-a", key);
    logto_tcache_put(cache, key, claims_make(p, 1), store, logto_store_epoch(store), p);
    /* the token is good until TEST_EXP, the keys only until end */
    assert_true(end < EXP);
    assert_true(hit(cache, key, end, p));
    assert_false(hit(cache, key, end + 1, p));
}

static void capacity_rounded_to_shards(void **state)
{
    apr_pool_t *p = *state;
    logto_tcache_t *cache;

    assert_int_equal(logto_tcache_create(&cache, 100, AMPLE_BYTES, p), APR_SUCCESS);
    assert_int_equal(logto_tcache_capacity(cache), 96);
    assert_int_equal(logto_tcache_create(&cache, 0, AMPLE_BYTES, p), APR_SUCCESS);
    assert_int_equal(logto_tcache_capacity(cache), LOGTO_TCACHE_SHARDS);
    assert_int_equal(logto_tcache_create(&cache, 10000, AMPLE_BYTES, p), APR_SUCCESS);
    assert_int_equal(logto_tcache_capacity(cache), 10000 - 10000 % LOGTO_TCACHE_SHARDS);
    assert_int_equal(logto_tcache_count(cache), 0);
    assert_int_equal(logto_tcache_max_bytes(cache), AMPLE_BYTES);
    assert_int_equal(logto_tcache_create(&cache, 64, 1000, p), APR_SUCCESS);
    assert_int_equal(logto_tcache_max_bytes(cache), 1000 - 1000 % LOGTO_TCACHE_SHARDS);
}

static void bound_holds_under_a_flood(void **state)
{
    apr_pool_t *p = *state, *scratch;
    logto_store_t *store = static_store(p);
    logto_claims_t *c = claims_make(p, 1);
    logto_tcache_t *cache;
    unsigned char key[LOGTO_TCACHE_KEY_LEN];
    int i, hits = 0;

    assert_int_equal(logto_tcache_create(&cache, 64, AMPLE_BYTES, p), APR_SUCCESS);
    assert_int_equal(apr_pool_create(&scratch, p), APR_SUCCESS);
    for (i = 0; i < 640; i++) {
        token_key(apr_psprintf(scratch, "token-%d", i), key);
        logto_tcache_put(cache, key, c, store, 0, scratch);
        assert_true(logto_tcache_count(cache) <= 64);
        apr_pool_clear(scratch);
    }
    assert_true(logto_tcache_count(cache) > 0);
    /* the most recent token is there; what is counted can be found */
    assert_true(hit(cache, key, NOW, p));
    for (i = 0; i < 640; i++) {
        token_key(apr_psprintf(scratch, "token-%d", i), key);
        hits += hit(cache, key, NOW, scratch);
        apr_pool_clear(scratch);
    }
    assert_int_equal(hits, (int)logto_tcache_count(cache));
}

/* ---- the byte bound (issue 9, item 8) ------------------------------------------------ */

/* Claims of a model 1 token whose scope is scope_bytes of permissions. */
static logto_claims_t *claims_with_scope(apr_pool_t *p, apr_size_t scope_bytes)
{
    char *scope = apr_palloc(p, scope_bytes + 32);
    apr_size_t n = 0;
    int i = 0;

    while (n < scope_bytes) {
        n += (apr_size_t)apr_snprintf(scope + n, 32, "%spermission:%05d", n ? " " : "", i++);
    }
    return claims_read(
        p, apr_psprintf(p,
                        "{\"jti\":\"Vq3xK8mZ2pL7nR4tY9wB1\",\"sub\":\"u7x2k9q4m1pz\","
                        "\"iat\":%ld,\"exp\":%ld,\"scope\":\"%s\","
                        "\"client_id\":\"app9m2kq7x1b4z8c6v3n5\",\"iss\":\"" TEST_ISSUER "\","
                        "\"aud\":\"" TEST_API "\"}",
                        TEST_IAT, TEST_EXP, scope));
}

/* A 10 KB scope used to make a 31 KB entry (the scope three times: as
 * sent, as the joined list and in the payload): it is now about the
 * payload's size. */
static void large_scope_entry_is_about_its_payload(void **state)
{
    apr_pool_t *p = *state;
    logto_store_t *store = static_store(p);
    logto_claims_t *c = claims_with_scope(p, 10240), *got = NULL;
    const apr_size_t bound = c->payload_len * 13 / 10 + 512;
    logto_tcache_t *cache;
    unsigned char key[LOGTO_TCACHE_KEY_LEN];
    apr_size_t len;

    assert_true(c->payload_len > 10240);
    encode_ok(p, c, &len);
    assert_true(len < bound);
    assert_int_equal(logto_tcache_create(&cache, 64, AMPLE_BYTES, p), APR_SUCCESS);
    assert_int_equal(logto_tcache_bytes(cache), 0);
    token_key("token-a", key);
    logto_tcache_put(cache, key, c, store, 0, p);
    assert_int_equal(logto_tcache_count(cache), 1);
    assert_true(logto_tcache_bytes(cache) > len);
    assert_true(logto_tcache_bytes(cache) < bound);
    assert_int_equal(logto_tcache_get(cache, key, NOW, p, &got), 1);
    assert_claims_equal(c, got);
}

/* The bytes follow what is cached: inserts add, replacing does not grow,
 * dropping and evicting give back. */
static void bytes_follow_the_entries(void **state)
{
    apr_pool_t *p = *state;
    logto_store_t *store = static_store(p);
    logto_claims_t *c = claims_make(p, 1);
    logto_tcache_t *cache;
    unsigned char a[LOGTO_TCACHE_KEY_LEN], b[LOGTO_TCACHE_KEY_LEN];
    apr_size_t one;
    int i;

    assert_int_equal(logto_tcache_create(&cache, 64, AMPLE_BYTES, p), APR_SUCCESS);
    token_key("token-a", a);
    token_key("token-b", b);
    logto_tcache_put(cache, a, c, store, 0, p);
    one = logto_tcache_bytes(cache);
    assert_true(one > c->payload_len);
    for (i = 0; i < 3; i++) {
        logto_tcache_put(cache, a, c, store, 0, p);
        assert_int_equal(logto_tcache_bytes(cache), one);
    }
    logto_tcache_put(cache, b, c, store, 0, p);
    assert_int_equal(logto_tcache_bytes(cache), 2 * one);
    /* a at exp: dropped on the way */
    assert_false(hit(cache, a, EXP, p));
    assert_int_equal(logto_tcache_bytes(cache), one);
    assert_false(hit(cache, b, EXP, p));
    assert_int_equal(logto_tcache_bytes(cache), 0);
    assert_int_equal(logto_tcache_count(cache), 0);
}

static void byte_bound_holds_under_a_flood(void **state)
{
    apr_pool_t *p = *state, *scratch;
    logto_store_t *store = static_store(p);
    logto_claims_t *big = claims_with_scope(p, 3000), *small = claims_make(p, 1);
    const apr_size_t max_bytes = (apr_size_t)LOGTO_TCACHE_SHARDS * 8192;
    logto_tcache_t *cache;
    unsigned char key[LOGTO_TCACHE_KEY_LEN];
    int i, hits = 0;

    /* room for 10,000 entries: only bytes bound this cache */
    assert_int_equal(logto_tcache_create(&cache, 10000, max_bytes, p), APR_SUCCESS);
    assert_int_equal(logto_tcache_max_bytes(cache), max_bytes);
    assert_int_equal(apr_pool_create(&scratch, p), APR_SUCCESS);
    for (i = 0; i < 2000; i++) {
        token_key(apr_psprintf(scratch, "token-%d", i), key);
        logto_tcache_put(cache, key, (i % 5) ? big : small, store, 0, scratch);
        assert_true(logto_tcache_bytes(cache) <= max_bytes);
        apr_pool_clear(scratch);
    }
    /* about 2 big entries fit a shard of 8 KiB, and they are there */
    assert_true(logto_tcache_count(cache) >= LOGTO_TCACHE_SHARDS);
    assert_true(logto_tcache_count(cache) < 200);
    assert_true(logto_tcache_bytes(cache) > max_bytes / 2);
    assert_true(hit(cache, key, NOW, p));
    for (i = 0; i < 2000; i++) {
        token_key(apr_psprintf(scratch, "token-%d", i), key);
        hits += hit(cache, key, NOW, scratch);
        apr_pool_clear(scratch);
    }
    assert_int_equal(hits, (int)logto_tcache_count(cache));
}

/* An entry larger than its shard's share of bytes is not cached, and does
 * not empty the shard on its way. */
static void oversize_entry_is_not_cached(void **state)
{
    apr_pool_t *p = *state;
    logto_store_t *store = static_store(p);
    logto_claims_t *small = claims_make(p, 1);
    logto_claims_t *fits = claims_with_scope(p, 3000), *too_big = claims_with_scope(p, 5000);
    logto_tcache_t *cache;
    unsigned char k_small[LOGTO_TCACHE_KEY_LEN], k_big[LOGTO_TCACHE_KEY_LEN];
    apr_size_t before;

    assert_int_equal(logto_tcache_create(&cache, 64, (apr_size_t)LOGTO_TCACHE_SHARDS * 4096, p),
                     APR_SUCCESS);
    raw_key(k_small, 3, 1, 1);
    raw_key(k_big, 3, 2, 2);
    logto_tcache_put(cache, k_small, small, store, 0, p);
    before = logto_tcache_bytes(cache);
    logto_tcache_put(cache, k_big, too_big, store, 0, p);
    assert_false(hit(cache, k_big, NOW, p));
    assert_true(hit(cache, k_small, NOW, p));
    assert_int_equal(logto_tcache_count(cache), 1);
    assert_int_equal(logto_tcache_bytes(cache), before);
    /* one that fits the share evicts what it must */
    logto_tcache_put(cache, k_big, fits, store, 0, p);
    assert_true(hit(cache, k_big, NOW, p));
    assert_true(logto_tcache_bytes(cache) <= (apr_size_t)4096 * LOGTO_TCACHE_SHARDS);
    /* a byte bound below any entry caches nothing */
    assert_int_equal(logto_tcache_create(&cache, 64, 64, p), APR_SUCCESS);
    logto_tcache_put(cache, k_small, small, store, 0, p);
    assert_false(hit(cache, k_small, NOW, p));
    assert_int_equal(logto_tcache_bytes(cache), 0);
}

/* Four entries per shard, all in shard 0: the least recently used goes.
 * Once with distinct buckets, once with all entries in one bucket chain. */
/* Eviction keeps entries used since they were last considered. */
static void lru_keeps_recently_used(void **state)
{
    apr_pool_t *p = *state;
    logto_store_t *store = static_store(p);
    logto_claims_t *c = claims_make(p, 1);
    int same_bucket;

    for (same_bucket = 0; same_bucket <= 1; same_bucket++) {
        logto_tcache_t *cache;
        unsigned char k[6][LOGTO_TCACHE_KEY_LEN];
        unsigned i;

        assert_int_equal(
            logto_tcache_create(&cache, (apr_size_t)4 * LOGTO_TCACHE_SHARDS, AMPLE_BYTES, p),
            APR_SUCCESS);
        for (i = 1; i <= 5; i++) {
            raw_key(k[i], 0, same_bucket ? 7 : i, i);
        }
        for (i = 1; i <= 4; i++) {
            logto_tcache_put(cache, k[i], c, store, 0, p);
        }
        assert_true(hit(cache, k[1], NOW, p)); /* k1 used: k2 is now the oldest */
        logto_tcache_put(cache, k[5], c, store, 0, p);
        assert_int_equal(logto_tcache_count(cache), 4);
        assert_false(hit(cache, k[2], NOW, p));
        assert_true(hit(cache, k[1], NOW, p));
        assert_true(hit(cache, k[3], NOW, p));
        assert_true(hit(cache, k[4], NOW, p));
        assert_true(hit(cache, k[5], NOW, p));
        /* every entry is used now: eviction gives each a second chance
         * (CLOCK), then takes the oldest; two inserts evict two of them */
        raw_key(k[0], 0, same_bucket ? 7 : 9, 9);
        logto_tcache_put(cache, k[0], c, store, 0, p);
        raw_key(k[2], 0, same_bucket ? 7 : 10, 10);
        logto_tcache_put(cache, k[2], c, store, 0, p);
        assert_int_equal(hit(cache, k[1], NOW, p) + hit(cache, k[3], NOW, p)
                             + hit(cache, k[4], NOW, p) + hit(cache, k[5], NOW, p),
                         2);
        assert_true(hit(cache, k[0], NOW, p));
        assert_true(hit(cache, k[2], NOW, p));
        assert_int_equal(logto_tcache_count(cache), 4);
        /* other shards were never touched */
        raw_key(k[3], 1, 1, 1);
        assert_false(hit(cache, k[3], NOW, p));
    }
}

static void replacing_a_key_does_not_grow(void **state)
{
    apr_pool_t *p = *state;
    logto_store_t *store = static_store(p);
    logto_claims_t *a = claims_make(p, 1), *b = claims_make(p, 0), *got = NULL;
    logto_tcache_t *cache;
    unsigned char key[LOGTO_TCACHE_KEY_LEN];
    int i;

    b->sub = "user-2";
    assert_int_equal(logto_tcache_create(&cache, 64, AMPLE_BYTES, p), APR_SUCCESS);
    token_key("token-a", key);
    for (i = 0; i < 10; i++) {
        logto_tcache_put(cache, key, (i % 2) ? b : a, store, 0, p);
        assert_int_equal(logto_tcache_count(cache), 1);
    }
    assert_int_equal(logto_tcache_get(cache, key, NOW, p, &got), 1);
    assert_claims_equal(b, got);
}

/* ---- threads ---------------------------------------------------------------------- */

#define WORKERS  8
#define ROUNDS   3000
#define KEYSPACE 256

typedef struct shared {
    logto_tcache_t *cache;
    logto_store_t *store;
    unsigned char keys[KEYSPACE][LOGTO_TCACHE_KEY_LEN];
    logto_claims_t *claims[KEYSPACE]; /* read-only while the workers run */
} shared_t;

typedef struct worker {
    shared_t *shared;
    apr_pool_t *pool;
    unsigned seed;
    int hits, wrong;
} worker_t;

static void *APR_THREAD_FUNC worker_main(apr_thread_t *thread, void *data)
{
    worker_t *w = data;
    int i;

    for (i = 0; i < ROUNDS; i++) {
        unsigned k;
        logto_claims_t *got = NULL;

        w->seed = w->seed * 1103515245u + 12345u;
        k = (w->seed >> 8) % KEYSPACE;
        if (i % 3 == 0) {
            logto_tcache_put(w->shared->cache, w->shared->keys[k], w->shared->claims[k],
                             w->shared->store, 0, w->pool);
        }
        else if (logto_tcache_get(w->shared->cache, w->shared->keys[k], NOW, w->pool, &got)) {
            w->hits++;
            if (strcmp(got->sub, w->shared->claims[k]->sub) != 0) {
                w->wrong++;
            }
        }
        if (i % 64 == 0) {
            apr_pool_clear(w->pool);
        }
    }
    (void)thread; /* returns: see mini_server.c on apr_thread_exit */
    return NULL;
}

static void concurrent_put_and_get(void **state)
{
    apr_pool_t *p = *state;
    shared_t *sh = apr_pcalloc(p, sizeof(*sh));
    worker_t workers[WORKERS];
    apr_thread_t *threads[WORKERS];
    apr_status_t rv;
    int i, hits = 0;

    sh->store = static_store(p);
    assert_int_equal(logto_tcache_create(&sh->cache, 64, AMPLE_BYTES, p), APR_SUCCESS);
    for (i = 0; i < KEYSPACE; i++) {
        token_key(apr_psprintf(p, "token-%d", i), sh->keys[i]);
        sh->claims[i] = claims_make(p, i % 2);
        sh->claims[i]->sub = apr_psprintf(p, "user-%d", i);
    }
    for (i = 0; i < WORKERS; i++) {
        workers[i].shared = sh;
        workers[i].seed = (unsigned)i * 7919u + 1u;
        workers[i].hits = workers[i].wrong = 0;
        assert_int_equal(apr_pool_create(&workers[i].pool, p), APR_SUCCESS);
    }
    for (i = 0; i < WORKERS; i++) {
        assert_int_equal(apr_thread_create(&threads[i], NULL, worker_main, &workers[i], p),
                         APR_SUCCESS);
    }
    for (i = 0; i < WORKERS; i++) {
        assert_int_equal(apr_thread_join(&rv, threads[i]), APR_SUCCESS);
        assert_int_equal(workers[i].wrong, 0);
        hits += workers[i].hits;
    }
    assert_true(hits > 0);
    assert_true(logto_tcache_count(sh->cache) <= logto_tcache_capacity(sh->cache));
}

/* Issue 9 item 13: a hot token (every request of a busy client) keeps its
 * shard read without pause. With glibc's default reader-preferring rwlock a
 * writer gets the lock only when no reader holds it, which many reader
 * threads never allow: an insert into that shard waited for seconds (the
 * measurement is bench/tcache_bench contention). With writers preferred, it
 * waits for the readers that hold the lock when it asks.
 *
 * The wait is the cache's own measure of the write lock: timing put() from
 * outside also counts the writer's place in the run queue behind 32 spinning
 * threads on a busy machine (readers woken by the unlock preempt it), which
 * is no lock's doing. */
#define HOT_READERS    32
#define HOT_SHARD      5
#define HOT_RUN        apr_time_from_sec(1)
#define HOT_DEADLINE   apr_time_from_sec(3) /* readers stop by then, writer stuck or not */
#define HOT_WORST_WAIT apr_time_from_msec(200)

typedef struct hot {
    logto_tcache_t *cache;
    unsigned char key[LOGTO_TCACHE_KEY_LEN];
    apr_time_t deadline;
    volatile apr_uint32_t stop;
    volatile apr_uint32_t hits;
} hot_t;

static void *APR_THREAD_FUNC hot_reader(apr_thread_t *thread, void *data)
{
    hot_t *hot = data;
    apr_pool_t *p;
    apr_uint32_t hits = 0;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return NULL;
    }
    while (!apr_atomic_read32(&hot->stop) && apr_time_now() < hot->deadline) {
        logto_claims_t *claims = NULL;

        hits += (apr_uint32_t)logto_tcache_get(hot->cache, hot->key, NOW, p, &claims);
        apr_pool_clear(p);
    }
    apr_atomic_add32(&hot->hits, hits);
    apr_pool_destroy(p);
    (void)thread;
    return NULL;
}

static void hot_token_does_not_starve_inserts(void **state)
{
    apr_pool_t *p = *state, *scratch;
    logto_store_t *store = static_store(p);
    logto_claims_t *c = claims_make(p, 1);
    hot_t *hot = apr_pcalloc(p, sizeof(*hot));
    apr_thread_t *threads[HOT_READERS];
    apr_time_t start, outside = 0;
    apr_interval_time_t waited;
    apr_status_t rv;
    unsigned inserts = 0;
    int i;

    assert_int_equal(apr_pool_create(&scratch, p), APR_SUCCESS);
    assert_int_equal(
        logto_tcache_create(&hot->cache, (apr_size_t)64 * LOGTO_TCACHE_SHARDS, AMPLE_BYTES, p),
        APR_SUCCESS);
    raw_key(hot->key, HOT_SHARD, 0, 0);
    logto_tcache_put(hot->cache, hot->key, c, store, 0, p);
    assert_true(logto_tcache_longest_wait(hot->cache) < HOT_WORST_WAIT);
    hot->deadline = apr_time_now() + HOT_DEADLINE;
    for (i = 0; i < HOT_READERS; i++) {
        assert_int_equal(apr_thread_create(&threads[i], NULL, hot_reader, hot, p), APR_SUCCESS);
    }
    apr_sleep(apr_time_from_msec(50)); /* the readers are at it */
    start = apr_time_now();
    while (apr_time_now() - start < HOT_RUN) {
        unsigned char key[LOGTO_TCACHE_KEY_LEN];
        apr_time_t asked = apr_time_now();

        /* new keys of the hot shard, each in a bucket of its own */
        raw_key(key, HOT_SHARD, (inserts % 255) + 1, inserts / 255 + 1);
        logto_tcache_put(hot->cache, key, c, store, 0, scratch);
        if (apr_time_now() - asked > outside) {
            outside = apr_time_now() - asked;
        }
        inserts++;
        apr_pool_clear(scratch);
        apr_sleep(200); /* new tokens arrive now and then */
    }
    apr_atomic_set32(&hot->stop, 1);
    for (i = 0; i < HOT_READERS; i++) {
        assert_int_equal(apr_thread_join(&rv, threads[i]), APR_SUCCESS);
    }
    assert_true(apr_atomic_read32(&hot->hits) > 0);
    waited = logto_tcache_longest_wait(hot->cache);
    print_message("longest wait for the hot shard's lock %ld ms (%ld ms timed from outside), "
                  "%u inserts\n",
                  (long)apr_time_as_msec(waited), (long)apr_time_as_msec(outside), inserts);
    assert_true(inserts > 0);
    assert_true(waited < HOT_WORST_WAIT);
}

static const struct CMUnitTest tests[] = {
    unit_test(claims_round_trip),
    unit_test(claims_stored_once),
    unit_test(claims_round_trip_edge_values),
    unit_test(encode_refuses_what_decode_would_change),
    unit_test(decode_refuses_every_truncation),
    unit_test(decode_refuses_corruption),
    unit_test(decode_refuses_too_many_audiences),
    unit_test(decode_refuses_missing_required),
    unit_test(key_depends_on_fingerprint_and_token),
    unit_test(get_after_put_hits),
    unit_test(no_hit_at_or_after_exp),
    unit_test(epoch_mismatch_misses),
    unit_test(key_removal_invalidates),
    unit_test(unusable_store_invalidates),
    unit_test(capacity_rounded_to_shards),
    unit_test(bound_holds_under_a_flood),
    unit_test(large_scope_entry_is_about_its_payload),
    unit_test(bytes_follow_the_entries),
    unit_test(byte_bound_holds_under_a_flood),
    unit_test(oversize_entry_is_not_cached),
    unit_test(lru_keeps_recently_used),
    unit_test(replacing_a_key_does_not_grow),
    unit_test(concurrent_put_and_get),
    unit_test(hot_token_does_not_starve_inserts),
};

LOGTO_TEST_GROUP(tcache, tests);
