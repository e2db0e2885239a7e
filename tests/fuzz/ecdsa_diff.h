/* The differential test of the fast ECDSA verifier (lib/logto_ecfast.c),
 * shared by the libFuzzer target (fuzz_ecdsa_diff.c) and the plain
 * randomized test make check runs (ecdsa_diff_random.c). */
#ifndef LOGTO_ECDSA_DIFF_H
#define LOGTO_ECDSA_DIFF_H

#include <stddef.h>
#include <stdint.h>

/* What one case did, for the random test's summary. */
typedef struct ecdsa_diff_stats {
    unsigned long cases;    /* cases run on a covered curve */
    unsigned long verified; /* of which the signature verified */
    unsigned long openssl;  /* compared with OpenSSL's verification */
    unsigned long by_truth; /* compared with the answer known by construction */
    unsigned long per_mode[16];
} ecdsa_diff_stats_t;

/* Runs one case derived from data: a key (fixed, or d from the input), a
 * message or a digest, a signature (made with the private key, then
 * mutated as the input says). The fast verifier's answer is compared with
 * the answer known by construction where there is one, and, when
 * with_openssl is set (always under libFuzzer), with OpenSSL's
 * EVP_DigestVerify / EVP_PKEY_verify and with logto_jws_verify on both
 * paths. Aborts on any disagreement. Cheap signing (a pool of nonces) is
 * used when with_openssl is 0, OpenSSL's signing otherwise. */
void ecdsa_diff_case(const uint8_t *data, size_t size, int with_openssl, ecdsa_diff_stats_t *stats);

/* Whether any curve is covered (not with --disable-fast-ecdsa). */
int ecdsa_diff_enabled(void);

#endif /* LOGTO_ECDSA_DIFF_H */
