#include <string.h>

#include <apr_strings.h>
#include <openssl/evp.h>

#include "logto_crypto.h"
#include "logto_jws.h"
#include "logto_validate.h"

logto_policy_t *logto_policy_make(apr_pool_t *p)
{
    logto_policy_t *policy = apr_pcalloc(p, sizeof(*policy));

    policy->issuers = apr_array_make(p, 2, sizeof(logto_issuer_t));
    policy->iss_names = apr_array_make(p, 2, sizeof(const char *));
    policy->alg_mask = LOGTO_ALG_MASK_ALL;
    policy->types = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(policy->types, const char *) = "at+jwt";
    policy->leeway = apr_time_from_sec(60);
    return policy;
}

void logto_policy_add_issuer(logto_policy_t *policy, const char *iss, logto_store_t *store)
{
    logto_issuer_t *issuer = apr_array_push(policy->issuers);

    issuer->iss = iss;
    issuer->store = store;
    APR_ARRAY_PUSH(policy->iss_names, const char *) = iss;
}

static int digest_field(EVP_MD_CTX *md, const char *s)
{
    /* Fields end with NUL so "ab"+"c" never hashes like "a"+"bc". */
    return EVP_DigestUpdate(md, s, strlen(s) + 1) == 1;
}

apr_status_t logto_policy_seal(logto_policy_t *policy)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    char num[64];
    unsigned int len = 0;
    int i, ok;

    policy->sealed = 0;
    memset(policy->fingerprint, 0, sizeof(policy->fingerprint));
    ok = md && EVP_DigestInit_ex(md, logto_sha256(), NULL) == 1
         && digest_field(md, "logto-policy-1");
    for (i = 0; ok && i < policy->issuers->nelts; i++) {
        const logto_issuer_t *issuer = &APR_ARRAY_IDX(policy->issuers, i, logto_issuer_t);

        ok = digest_field(md, "iss") && digest_field(md, issuer->iss)
             && digest_field(md, issuer->store ? logto_store_id(issuer->store) : "");
    }
    apr_snprintf(num, sizeof(num), "alg=%u leeway=%" APR_TIME_T_FMT, policy->alg_mask,
                 policy->leeway);
    ok = ok && digest_field(md, num);
    for (i = 0; ok && policy->types && i < policy->types->nelts; i++) {
        ok = digest_field(md, "typ")
             && digest_field(md, APR_ARRAY_IDX(policy->types, i, const char *));
    }
    ok = ok && digest_field(md, policy->types ? "types" : "any-type")
         && EVP_DigestFinal_ex(md, policy->fingerprint, &len) == 1
         && len == sizeof(policy->fingerprint);
    EVP_MD_CTX_free(md);
    if (!ok) {
        memset(policy->fingerprint, 0, sizeof(policy->fingerprint));
        return APR_EGENERAL;
    }
    policy->sealed = 1;
    return APR_SUCCESS;
}

apr_status_t logto_validate(const logto_policy_t *policy, const char *token, apr_size_t len,
                            apr_time_t now, apr_pool_t *p, logto_claims_t **claims,
                            logto_store_t **store_out, apr_uint32_t *epoch, logto_result_t *res)
{
    logto_jws_t *jws;
    logto_claims_t *c;
    const logto_issuer_t *issuer;
    const logto_jwk_t *key;
    int index;

    logto_result_reset(res);
    if (logto_jws_parse(p, token, len, 0, &jws, res) != APR_SUCCESS
        || logto_jws_check_header(jws, policy->alg_mask, policy->types, res) != APR_SUCCESS
        || logto_claims_read(p, jws->payload, jws->payload_raw, jws->payload_len, policy->iss_names,
                             policy->leeway, now, &c, res)
               != APR_SUCCESS) {
        return res->status;
    }
    /* c->iss is the configured string itself: find its issuer by identity. */
    for (index = 0; index < policy->iss_names->nelts; index++) {
        if (APR_ARRAY_IDX(policy->iss_names, index, const char *) == c->iss) {
            break;
        }
    }
    if (index == policy->issuers->nelts) {
        return logto_result_set(res, LOGTO_ISS_MISMATCH, "issuer not in the policy");
    }
    issuer = &APR_ARRAY_IDX(policy->issuers, index, logto_issuer_t);
    /* The epoch is read before the key: a key removed after this point makes
     * the caller's cached answer stale, never the other way round. */
    *epoch = logto_store_epoch(issuer->store);
    if (logto_store_key(issuer->store, jws->kid, jws->alg, now, p, &key, res) != APR_SUCCESS
        || logto_jws_verify(jws, key, res) != APR_SUCCESS) {
        return res->status;
    }
    c->kid = jws->kid;
    memcpy(c->key_fingerprint, key->fingerprint, sizeof(c->key_fingerprint));
    *claims = c;
    *store_out = issuer->store;
    return APR_SUCCESS;
}
