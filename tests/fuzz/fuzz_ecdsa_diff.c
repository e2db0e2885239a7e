/* libFuzzer target: the fast ECDSA verifier (lib/logto_ecfast.c) against
 * OpenSSL on keys, messages, digests and signatures derived from the input,
 * valid ones and mutated ones (ecdsa_diff.c says how). Every input is
 * compared with OpenSSL's verification and with the answer known by
 * construction; any disagreement aborts. Replayed over its corpus
 * (tests/fuzz/corpus/ecdsa_diff) by make check. */
#include <stddef.h>
#include <stdint.h>

#include "ecdsa_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ecdsa_diff_stats_t stats = {0};

    ecdsa_diff_case(data, size, 1, &stats);
    return 0;
}
