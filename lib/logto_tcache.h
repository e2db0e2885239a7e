/* The validated-token cache: remembers what a verified token said so that a
 * token seen again costs a hash and a look-up, no JSON and no signature.
 *
 * The key is SHA-256 over the validation policy's fingerprint and the token,
 * so locations with different policies never share an answer. An entry is
 * never used at or after the token's exp, nor once its issuer's key set lost a
 * key (the store's epoch moved) or stopped being trusted. The in-process cache
 * is bounded and sharded: a hit takes one shard's lock, never a global one. */
#ifndef LOGTO_TCACHE_H
#define LOGTO_TCACHE_H

#include <apr_pools.h>
#include <apr_time.h>

#include "logto_claims.h"
#include "logto_store.h"

#define LOGTO_TCACHE_KEY_LEN 32
#define LOGTO_TCACHE_SHARDS  16

typedef struct logto_tcache logto_tcache_t;

/* SHA-256 over the policy fingerprint and the token. A failure (the digest
 * could not be computed) leaves no usable key: the caller must skip every
 * cache for this token rather than use key. */
apr_status_t logto_tcache_key(const unsigned char *fingerprint, const char *token, apr_size_t len,
                              unsigned char key[LOGTO_TCACHE_KEY_LEN]);

/* A cache of at most max_entries, rounded down to a multiple of the shard
 * count (at least one entry per shard), and of at most max_bytes of entries
 * (each shard holds a shard count's share; an entry is counted as what was
 * malloc'd for it). An insert evicts until both bounds hold; an entry larger
 * than a shard's share of bytes is not cached. Entries are freed by a
 * cleanup of p. */
apr_status_t logto_tcache_create(logto_tcache_t **cache, apr_size_t max_entries,
                                 apr_size_t max_bytes, apr_pool_t *p);

/* 1 on a usable hit, with the claims copied into p; 0 otherwise (a stale
 * entry found on the way is dropped). */
int logto_tcache_get(logto_tcache_t *cache, const unsigned char key[LOGTO_TCACHE_KEY_LEN],
                     apr_time_t now, apr_pool_t *p, logto_claims_t **claims);

/* Remembers claims verified with store's keys at epoch; p is for scratch. */
void logto_tcache_put(logto_tcache_t *cache, const unsigned char key[LOGTO_TCACHE_KEY_LEN],
                      const logto_claims_t *claims, logto_store_t *store, apr_uint32_t epoch,
                      apr_pool_t *p);

apr_size_t logto_tcache_count(logto_tcache_t *cache);
apr_size_t logto_tcache_capacity(logto_tcache_t *cache);

/* The bytes the entries take now, and their bound (rounded down to a
 * multiple of the shard count). */
apr_size_t logto_tcache_bytes(logto_tcache_t *cache);
apr_size_t logto_tcache_max_bytes(logto_tcache_t *cache);

/* The longest any insert (or the drop of a stale entry) waited for its
 * shard's write lock since the cache was made. */
apr_interval_time_t logto_tcache_longest_wait(logto_tcache_t *cache);

/* A compact, self-delimiting encoding of claims, used in memory and in
 * shared caches: the payload once, the claim strings as references into it
 * where they are its bytes (layout in logto_tcache.c). Decoding is strict:
 * any inconsistency is APR_EINVAL; it derives scopes, scope_list and
 * audience_list as logto_claims_read() does, so encoding refuses claims whose
 * scope_list or audience_list say something else. The decoded claims may
 * point into buf, which must outlive them. */
apr_status_t logto_claims_encode(apr_pool_t *p, const logto_claims_t *claims, unsigned char **buf,
                                 apr_size_t *len);
apr_status_t logto_claims_decode(apr_pool_t *p, const unsigned char *buf, apr_size_t len,
                                 logto_claims_t **claims);

#endif /* LOGTO_TCACHE_H */
