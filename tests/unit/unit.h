/* Shared pieces of the cmocka unit tests: every test file defines one group
 * with LOGTO_TEST_GROUP, and main.c runs all groups as one cmocka run so the
 * output ends with one summary of every unit test. */
#ifndef LOGTO_UNIT_H
#define LOGTO_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <apr_pools.h>
#include <apr_time.h>

#include "logto_jwk.h"
#include "logto_result.h"

typedef struct logto_test_group {
    const char *name;
    const struct CMUnitTest *tests;
    size_t count;
} logto_test_group_t;

#define LOGTO_TEST_GROUP(gname, array)                                                             \
    const logto_test_group_t test_group_##gname = {#gname, array,                                  \
                                                   sizeof(array) / sizeof((array)[0])}

/* A test with a fresh pool in *state, destroyed after the test. (cmocka has a
 * deprecated macro of the same name, unused here.) */
#undef unit_test
#define unit_test(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)
int unit_setup(void **state);
int unit_teardown(void **state);

/* Reads a whole file into the pool, NUL-terminated; fails the test if missing. */
char *unit_read_file(apr_pool_t *p, const char *path, apr_size_t *len);

/* Path of tests/vectors/<vector>/<file>; 1 if that file exists. */
const char *unit_vector_path(apr_pool_t *p, const char *vector, const char *file);
int unit_vector_has(apr_pool_t *p, const char *vector, const char *file);

/* The vector's file content with trailing whitespace removed. */
char *unit_vector_text(apr_pool_t *p, const char *vector, const char *file);

/* The vector's jwks.json parsed; fails the test if it does not parse. */
logto_jwks_t *unit_vector_jwks(apr_pool_t *p, const char *vector);

/* Seconds since the epoch as apr_time_t. */
#define unit_time(sec) apr_time_from_sec((apr_time_t)(sec))

/* Asserts a failure with the given reason (and not APR_SUCCESS). */
#define assert_reason(rv, res, expected)                                                           \
    do {                                                                                           \
        assert_int_not_equal((rv), APR_SUCCESS);                                                   \
        assert_string_equal(logto_reason_name((res).reason), logto_reason_name(expected));         \
    } while (0)

#endif /* LOGTO_UNIT_H */
