/* Replays fuzz inputs without libFuzzer: calls LLVMFuzzerTestOneInput once
 * for every file named on the command line or found in a directory named
 * there (not recursive), each in a buffer of exactly its size so that the
 * sanitizers see any read past the end. make check runs it over the seed
 * corpora, so every seed runs in CI; a missing or empty corpus fails. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(apr_pool_t *p, const char *path)
{
    apr_file_t *f;
    apr_finfo_t info;
    apr_size_t n;
    unsigned char *buf;

    if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p) != APR_SUCCESS
        || apr_file_info_get(&info, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        return -1;
    }
    n = (apr_size_t)info.size;
    buf = malloc(n ? n : 1);
    if (!buf || (n > 0 && apr_file_read_full(f, buf, n, &n) != APR_SUCCESS)) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        apr_file_close(f);
        return -1;
    }
    apr_file_close(f);
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    long count = 0;
    int i, failed = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    for (i = 1; i < argc; i++) {
        apr_finfo_t info;
        apr_dir_t *dir;

        if (apr_stat(&info, argv[i], APR_FINFO_TYPE, p) != APR_SUCCESS) {
            fprintf(stderr, "replay: %s does not exist\n", argv[i]);
            failed = 1;
            continue;
        }
        if (info.filetype != APR_DIR) {
            failed |= replay_file(p, argv[i]) != 0;
            count++;
            continue;
        }
        if (apr_dir_open(&dir, argv[i], p) != APR_SUCCESS) {
            fprintf(stderr, "replay: cannot open %s\n", argv[i]);
            failed = 1;
            continue;
        }
        while (apr_dir_read(&info, APR_FINFO_NAME | APR_FINFO_TYPE, dir) == APR_SUCCESS) {
            if (info.filetype == APR_REG && info.name[0] != '.') {
                failed |= replay_file(p, apr_pstrcat(p, argv[i], "/", info.name, NULL)) != 0;
                count++;
            }
        }
        apr_dir_close(dir);
    }
    printf("replayed %ld inputs\n", count);
    apr_pool_destroy(p);
    apr_terminate();
    if (count == 0) {
        fprintf(stderr, "replay: no inputs found\n");
        return 1;
    }
    return failed ? 1 : 0;
}
