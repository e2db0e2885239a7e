/* Runs every group of unit tests as one cmocka run, so the output ends with
 * one summary line for all of them. Add a group here when adding a file. */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>

#include "unit.h"

/* One group per test file, in the order they run. */
extern const logto_test_group_t test_group_b64url;
extern const logto_test_group_t test_group_jwk;
extern const logto_test_group_t test_group_jws;
extern const logto_test_group_t test_group_ecfast;
extern const logto_test_group_t test_group_ecdsa_edges;
extern const logto_test_group_t test_group_claims;
extern const logto_test_group_t test_group_vectors;
extern const logto_test_group_t test_group_wycheproof;
extern const logto_test_group_t test_group_attack_alg_none;
extern const logto_test_group_t test_group_attack_hs256_public_key;
extern const logto_test_group_t test_group_attack_alg_key_mismatch;
extern const logto_test_group_t test_group_attack_ecdsa_zero_signature;
extern const logto_test_group_t test_group_attack_der_signature;
extern const logto_test_group_t test_group_attack_truncated_signature;
extern const logto_test_group_t test_group_attack_kid_attacker_key;
extern const logto_test_group_t test_group_attack_header_key_injection;
extern const logto_test_group_t test_group_attack_crit_unknown;
extern const logto_test_group_t test_group_attack_duplicate_members;
extern const logto_test_group_t test_group_attack_exp_malformed;
extern const logto_test_group_t test_group_attack_future_nbf_iat;
extern const logto_test_group_t test_group_attack_base64_noncanonical;
extern const logto_test_group_t test_group_attack_segment_count;
extern const logto_test_group_t test_group_attack_opaque_token;
extern const logto_test_group_t test_group_attack_deep_json;
extern const logto_test_group_t test_group_attack_oversized_token;
extern const logto_test_group_t test_group_attack_ed25519_small_order;
extern const logto_test_group_t test_group_store;
extern const logto_test_group_t test_group_tcache;
extern const logto_test_group_t test_group_auth;
extern const logto_test_group_t test_group_http;
extern const logto_test_group_t test_group_offload;

static const logto_test_group_t *const groups[] = {
    &test_group_b64url,
    &test_group_jwk,
    &test_group_jws,
    &test_group_ecfast,
    &test_group_ecdsa_edges,
    &test_group_claims,
    &test_group_vectors,
    &test_group_wycheproof,
    &test_group_attack_alg_none,
    &test_group_attack_hs256_public_key,
    &test_group_attack_alg_key_mismatch,
    &test_group_attack_ecdsa_zero_signature,
    &test_group_attack_der_signature,
    &test_group_attack_truncated_signature,
    &test_group_attack_kid_attacker_key,
    &test_group_attack_header_key_injection,
    &test_group_attack_crit_unknown,
    &test_group_attack_duplicate_members,
    &test_group_attack_exp_malformed,
    &test_group_attack_future_nbf_iat,
    &test_group_attack_base64_noncanonical,
    &test_group_attack_segment_count,
    &test_group_attack_opaque_token,
    &test_group_attack_deep_json,
    &test_group_attack_oversized_token,
    &test_group_attack_ed25519_small_order,
    &test_group_store,
    &test_group_tcache,
    &test_group_auth,
    &test_group_http,
    &test_group_offload,
};

int main(int argc, const char *const *argv)
{
    size_t total = 0, n = 0, i, j;
    struct CMUnitTest *all;
    int failed;

    (void)argc;
    (void)argv;
    apr_initialize();
    for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        total += groups[i]->count;
    }
    all = calloc(total, sizeof(*all));
    if (!all) {
        return 2;
    }
    for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        for (j = 0; j < groups[i]->count; j++) {
            all[n++] = groups[i]->tests[j];
        }
    }
    failed = _cmocka_run_group_tests("mod_auth_logto", all, total, NULL, NULL);
    free(all);
    apr_terminate();
    return failed ? 1 : 0;
}
