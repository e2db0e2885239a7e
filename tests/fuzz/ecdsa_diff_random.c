/* make check: the differential test of the fast ECDSA verifier on random
 * inputs, without libFuzzer. Every case is compared with the answer known by
 * construction (signatures made with OpenSSL's BIGNUM from the private key:
 * valid, s replaced by n - s, R at infinity, u1 = 0 are yes or no by
 * arithmetic; bit flips, swaps and values near 0 and n are no); one case in
 * OPENSSL_EVERY, and every case whose answer is not known (random r||s),
 * also with OpenSSL's own verification and logto_jws_verify on both paths.
 *
 *   ecdsa_diff_random [CASES [SEED]]
 *
 * CASES defaults to 200,000, or 40,000 under AddressSanitizer, which slows
 * our arithmetic (not OpenSSL's) about threefold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecdsa_diff.h"

#define OPENSSL_EVERY 64
#define MAX_INPUT     300

#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_CASES 40000UL
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DEFAULT_CASES 40000UL
#endif
#endif
#ifndef DEFAULT_CASES
#define DEFAULT_CASES 200000UL
#endif

/* xorshift64*: reproducible from the seed, good enough to pick inputs */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

int main(int argc, const char *const *argv)
{
    unsigned long cases = DEFAULT_CASES, i;
    uint64_t state = 0x6c6f67746f656364ULL; /* a fixed default seed */
    ecdsa_diff_stats_t stats;
    unsigned char input[MAX_INPUT];
    int m;

    if (argc > 1) {
        cases = strtoul(argv[1], NULL, 10);
    }
    if (argc > 2) {
        state = strtoull(argv[2], NULL, 0) | 1;
    }
    if (!ecdsa_diff_enabled()) {
        printf("ecdsa_diff_random: the fast verifier is compiled out; nothing to compare\n");
        return 0;
    }
    memset(&stats, 0, sizeof(stats));
    for (i = 0; i < cases; i++) {
        size_t len = 8 + (size_t)(next_random(&state) % (MAX_INPUT - 8)), j;

        for (j = 0; j < len; j++) {
            input[j] = (unsigned char)next_random(&state);
        }
        /* derived keys (input[1] % 16 == 15) cost a table each: one case in
         * about 256 has one */
        if (input[1] % 16 == 15 && next_random(&state) % 16 != 0) {
            input[1] = 0;
        }
        ecdsa_diff_case(input, len, i % OPENSSL_EVERY == 0, &stats);
    }
    printf("ecdsa_diff_random: %lu cases, %lu verified, %lu checked against the construction, "
           "%lu against OpenSSL; per mode:",
           stats.cases, stats.verified, stats.by_truth, stats.openssl);
    for (m = 0; m < 14; m++) {
        printf(" %lu", stats.per_mode[m]);
    }
    printf("\n");
    /* the cases must have reached the verifier: most are refused, many not */
    return (stats.cases == cases && stats.verified > cases / 20) ? 0 : 1;
}
