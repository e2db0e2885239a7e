#include <stdio.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include "unit.h"

int unit_setup(void **state)
{
    apr_pool_t *p;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return -1;
    }
    *state = p;
    return 0;
}

int unit_teardown(void **state)
{
    apr_pool_destroy((apr_pool_t *)*state);
    return 0;
}

char *unit_read_file(apr_pool_t *p, const char *path, apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t info;
    apr_size_t n;
    char *buf;

    if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p) != APR_SUCCESS) {
        fail_msg("cannot open %s", path);
    }
    assert_int_equal(apr_file_info_get(&info, APR_FINFO_SIZE, f), APR_SUCCESS);
    n = (apr_size_t)info.size;
    buf = apr_palloc(p, n + 1);
    if (n > 0) {
        assert_int_equal(apr_file_read_full(f, buf, n, &n), APR_SUCCESS);
    }
    buf[n] = '\0';
    apr_file_close(f);
    if (len) {
        *len = n;
    }
    return buf;
}

const char *unit_vector_path(apr_pool_t *p, const char *vector, const char *file)
{
    return apr_pstrcat(p, LOGTO_VECTOR_DIR, "/", vector, "/", file, NULL);
}

int unit_vector_has(apr_pool_t *p, const char *vector, const char *file)
{
    apr_finfo_t info;

    return apr_stat(&info, unit_vector_path(p, vector, file), APR_FINFO_TYPE, p) == APR_SUCCESS;
}

char *unit_vector_text(apr_pool_t *p, const char *vector, const char *file)
{
    apr_size_t len;
    char *text = unit_read_file(p, unit_vector_path(p, vector, file), &len);

    while (len > 0 && strchr(" \t\r\n", text[len - 1])) {
        text[--len] = '\0';
    }
    return text;
}

logto_jwks_t *unit_vector_jwks(apr_pool_t *p, const char *vector)
{
    apr_size_t len;
    const char *why = NULL;
    logto_jwks_t *set = NULL;
    char *json = unit_read_file(p, unit_vector_path(p, vector, "jwks.json"), &len);

    if (logto_jwks_parse(p, json, len, &set, &why) != APR_SUCCESS) {
        fail_msg("%s/jwks.json: %s", vector, why ? why : "?");
    }
    return set;
}
