/* base64url as JWS needs it (RFC 7515 section 2, RFC 4648 section 5): one
 * accepted spelling per byte string, bounded input, exact round trips. */
#include <string.h>

#include "logto_b64.h"
#include "unit.h"

static apr_status_t decode(apr_pool_t *p, const char *src, unsigned char **out, apr_size_t *len)
{
    return logto_b64url_decode(p, src, strlen(src), 1024, out, len);
}

static void assert_decodes(apr_pool_t *p, const char *src, const char *want)
{
    unsigned char *out = NULL;
    apr_size_t len = 99;

    assert_int_equal(decode(p, src, &out, &len), APR_SUCCESS);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(out, want, len);
    assert_int_equal(out[len], '\0');
}

static void assert_refused(apr_pool_t *p, const char *src)
{
    unsigned char *out = NULL;
    apr_size_t len = 0;

    if (decode(p, src, &out, &len) == APR_SUCCESS) {
        fail_msg("\"%s\" decoded but is not canonical base64url", src);
    }
}

/* RFC 4648 section 10 test vectors, unpadded. */
static void rfc4648_vectors(void **state)
{
    apr_pool_t *p = *state;

    assert_decodes(p, "", "");
    assert_decodes(p, "Zg", "f");
    assert_decodes(p, "Zm8", "fo");
    assert_decodes(p, "Zm9v", "foo");
    assert_decodes(p, "Zm9vYg", "foob");
    assert_decodes(p, "Zm9vYmE", "fooba");
    assert_decodes(p, "Zm9vYmFy", "foobar");
}

/* The two characters that differ from base64: '-' is 62 and '_' is 63. */
static void url_alphabet(void **state)
{
    apr_pool_t *p = *state;
    unsigned char *out;
    apr_size_t len;

    assert_int_equal(decode(p, "-_-_", &out, &len), APR_SUCCESS);
    assert_int_equal(len, 3);
    assert_int_equal(out[0], 0xfb);
    assert_int_equal(out[1], 0xff);
    assert_int_equal(out[2], 0xbf);
    assert_string_equal(logto_b64url_encode(p, (const unsigned char *)"\xfb\xff\xbf", 3), "-_-_");
}

static void refuses_standard_alphabet_and_padding(void **state)
{
    apr_pool_t *p = *state;

    assert_refused(p, "+/+/");
    assert_refused(p, "Zm8+");
    assert_refused(p, "Zg==");
    assert_refused(p, "Zm8=");
    assert_refused(p, "Zg=");
    assert_refused(p, "====");
}

static void refuses_whitespace_and_other_bytes(void **state)
{
    apr_pool_t *p = *state;
    unsigned char *out;
    apr_size_t len;

    assert_refused(p, "Zm9v Yg");
    assert_refused(p, " Zm9v");
    assert_refused(p, "Zm9v\n");
    assert_refused(p, "Zm9v\r\nYg");
    assert_refused(p, "Zm\t9v");
    assert_refused(p, "Zm9.");
    assert_refused(p, "Zm9v\xc3\xa9");
    /* an embedded NUL within len is not a terminator */
    assert_int_not_equal(logto_b64url_decode(p, "Zm\0v", 4, 64, &out, &len), APR_SUCCESS);
}

/* The unused low bits of the last character must be zero; otherwise "Zh"
 * would be a second spelling of "f" (RFC 4648 section 3.5). */
static void refuses_nonzero_trailing_bits(void **state)
{
    apr_pool_t *p = *state;

    assert_decodes(p, "Zg", "f");
    assert_refused(p, "Zh");
    assert_refused(p, "Zj");
    assert_refused(p, "Zv");
    assert_decodes(p, "Zm8", "fo");
    assert_refused(p, "Zm9");
    assert_refused(p, "Zm-");
    assert_refused(p, "Zm_");
}

/* No byte string encodes to a length of 1 mod 4. */
static void refuses_length_one_mod_four(void **state)
{
    apr_pool_t *p = *state;

    assert_refused(p, "A");
    assert_refused(p, "Z");
    assert_refused(p, "Zm9vY");
    assert_refused(p, "AAAAAAAAA");
}

static void max_length_bounds_the_input(void **state)
{
    apr_pool_t *p = *state;
    unsigned char *out;
    apr_size_t len;

    assert_int_equal(logto_b64url_decode(p, "Zm9vYmFy", 8, 8, &out, &len), APR_SUCCESS);
    assert_int_equal(len, 6);
    assert_int_equal(logto_b64url_decode(p, "Zm9vYmFy", 8, 7, &out, &len), APR_ENOSPC);
    assert_int_equal(logto_b64url_decode(p, "Zm9vYmFy", 8, 0, &out, &len), APR_ENOSPC);
}

static void decode_into_buffer(void **state)
{
    unsigned char buf[6];
    apr_size_t len = 0;

    (void)state;
    assert_int_equal(logto_b64url_decode_buf("Zm9vYmFy", 8, buf, sizeof(buf), &len), APR_SUCCESS);
    assert_int_equal(len, 6);
    assert_memory_equal(buf, "foobar", 6);
    /* one byte too small: refused, never written past the end */
    assert_int_not_equal(logto_b64url_decode_buf("Zm9vYmFy", 8, buf, 5, &len), APR_SUCCESS);
    assert_int_not_equal(logto_b64url_decode_buf("Zm9v+mFy", 8, buf, sizeof(buf), &len),
                         APR_SUCCESS);
    assert_int_not_equal(logto_b64url_decode_buf("Zh", 2, buf, sizeof(buf), &len), APR_SUCCESS);
}

static void encode_round_trip(void **state)
{
    apr_pool_t *p = *state;
    unsigned char data[300], *out;
    apr_size_t n, len, i;

    for (i = 0; i < sizeof(data); i++) {
        data[i] = (unsigned char)(i * 151u + 7u);
    }
    for (n = 0; n <= sizeof(data); n++) {
        const char *enc = logto_b64url_encode(p, data, n);

        assert_int_equal(strlen(enc), (n * 4 + 2) / 3);
        assert_null(strpbrk(enc, "=+/"));
        assert_int_equal(logto_b64url_decode(p, enc, strlen(enc), 4096, &out, &len), APR_SUCCESS);
        assert_int_equal(len, n);
        if (n) {
            assert_memory_equal(out, data, n);
        }
    }
    assert_string_equal(logto_b64url_encode(p, (const unsigned char *)"foobar", 6), "Zm9vYmFy");
    assert_string_equal(logto_b64url_encode(p, (const unsigned char *)"f", 1), "Zg");
    assert_string_equal(logto_b64url_encode(p, (const unsigned char *)"", 0), "");
}

static const struct CMUnitTest tests[] = {
    unit_test(rfc4648_vectors),
    unit_test(url_alphabet),
    unit_test(refuses_standard_alphabet_and_padding),
    unit_test(refuses_whitespace_and_other_bytes),
    unit_test(refuses_nonzero_trailing_bits),
    unit_test(refuses_length_one_mod_four),
    unit_test(max_length_bounds_the_input),
    unit_test(decode_into_buffer),
    unit_test(encode_round_trip),
};

LOGTO_TEST_GROUP(b64url, tests);
