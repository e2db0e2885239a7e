#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_atomic.h>
#include <openssl/evp.h>

#include "logto_crypto.h"
#include "logto_tcache.h"

/* ---- encoding ----------------------------------------------------------------
 * "LTC1", exp, iat, nbf as 8-byte big-endian, then the strings iss, sub,
 * client_id, jti, organization_id, scope, kid, payload, scope list and
 * audience list, each as a presence byte (0/1) and, when present, a 4-byte
 * length, the bytes and a NUL (so decoding points into the buffer); then the
 * 32-byte fingerprint of the key that verified the token; then a 4-byte
 * audience count and that many (length, bytes). */

static const unsigned char magic[4] = {'L', 'T', 'C', '1'};
#define STRING_FIELDS 10
#define MAX_AUDIENCES 64

typedef struct writer {
    unsigned char *buf;
    apr_size_t len;
} writer_t;

static void put_u32(writer_t *w, apr_uint32_t v)
{
    if (w->buf) {
        w->buf[w->len] = (unsigned char)(v >> 24);
        w->buf[w->len + 1] = (unsigned char)(v >> 16);
        w->buf[w->len + 2] = (unsigned char)(v >> 8);
        w->buf[w->len + 3] = (unsigned char)v;
    }
    w->len += 4;
}

static void put_i64(writer_t *w, apr_int64_t v)
{
    put_u32(w, (apr_uint32_t)((apr_uint64_t)v >> 32));
    put_u32(w, (apr_uint32_t)((apr_uint64_t)v & 0xffffffffu));
}

static void put_bytes(writer_t *w, const void *data, apr_size_t len)
{
    if (w->buf && len) {
        memcpy(w->buf + w->len, data, len);
    }
    w->len += len;
}

static void put_string(writer_t *w, const char *s, int optional)
{
    apr_size_t len = s ? strlen(s) : 0;

    if (optional) {
        unsigned char present = s ? 1 : 0;

        put_bytes(w, &present, 1);
        if (!s) {
            return;
        }
    }
    put_u32(w, (apr_uint32_t)len);
    put_bytes(w, s, len);
    put_bytes(w, "", 1);
}

static void encode(writer_t *w, const logto_claims_t *c, const char *payload,
                   const char *scope_list, const char *audience_list)
{
    const char *fields[STRING_FIELDS] = {
        c->iss,   c->sub, c->client_id, c->jti,     c->organization_id,
        c->scope, c->kid, payload,      scope_list, audience_list};
    int i;

    put_bytes(w, magic, sizeof(magic));
    put_i64(w, c->exp);
    put_i64(w, c->iat);
    put_i64(w, c->nbf);
    for (i = 0; i < STRING_FIELDS; i++) {
        put_string(w, fields[i], 1);
    }
    put_bytes(w, c->key_fingerprint, sizeof(c->key_fingerprint));
    put_u32(w, (apr_uint32_t)c->audiences->nelts);
    for (i = 0; i < c->audiences->nelts; i++) {
        put_string(w, APR_ARRAY_IDX(c->audiences, i, const char *), 0);
    }
}

apr_status_t logto_claims_encode(apr_pool_t *p, const logto_claims_t *c, unsigned char **buf,
                                 apr_size_t *len)
{
    const char *payload = apr_pstrmemdup(p, c->payload ? c->payload : "", c->payload_len);
    const char *scope_list =
        c->scope_list
            ? c->scope_list
            : logto_list_join(p, c->scopes ? c->scopes
                                           : logto_scope_split(p, c->scope ? c->scope : ""));
    const char *audience_list =
        c->audience_list ? c->audience_list : logto_list_join(p, c->audiences);
    writer_t w = {NULL, 0};

    if (c->audiences->nelts > MAX_AUDIENCES) {
        return APR_EINVAL;
    }
    encode(&w, c, payload, scope_list, audience_list);
    w.buf = apr_palloc(p, w.len);
    w.len = 0;
    encode(&w, c, payload, scope_list, audience_list);
    *buf = w.buf;
    *len = w.len;
    return APR_SUCCESS;
}

typedef struct reader {
    const unsigned char *buf;
    apr_size_t len;
    apr_size_t pos;
    int bad;
} reader_t;

static apr_uint32_t get_u32(reader_t *r)
{
    const unsigned char *b;

    if (r->bad || r->len - r->pos < 4) {
        r->bad = 1;
        return 0;
    }
    b = r->buf + r->pos;
    r->pos += 4;
    return ((apr_uint32_t)b[0] << 24) | ((apr_uint32_t)b[1] << 16) | ((apr_uint32_t)b[2] << 8)
           | b[3];
}

static apr_int64_t get_i64(reader_t *r)
{
    apr_uint64_t hi = get_u32(r), lo = get_u32(r);

    return (apr_int64_t)((hi << 32) | lo);
}

/* Strings are used where they are, NUL-terminated in the buffer; an embedded
 * NUL or a missing terminator is an error. */
static const char *get_string(reader_t *r, int optional)
{
    apr_uint32_t len;
    const char *s;

    if (optional) {
        if (r->bad || r->pos >= r->len || r->buf[r->pos] > 1) {
            r->bad = 1;
            return NULL;
        }
        if (r->buf[r->pos++] == 0) {
            return NULL;
        }
    }
    len = get_u32(r);
    if (r->bad || len >= r->len - r->pos || memchr(r->buf + r->pos, 0, len)
        || r->buf[r->pos + len] != 0) {
        r->bad = 1;
        return NULL;
    }
    s = (const char *)r->buf + r->pos;
    r->pos += (apr_size_t)len + 1;
    return s;
}

apr_status_t logto_claims_decode(apr_pool_t *p, const unsigned char *buf, apr_size_t len,
                                 logto_claims_t **out)
{
    reader_t r = {buf, len, 0, 0};
    logto_claims_t *c;
    const char *fields[STRING_FIELDS];
    apr_uint32_t naud, i;

    if (len < sizeof(magic) || memcmp(buf, magic, sizeof(magic)) != 0) {
        return APR_EINVAL;
    }
    r.pos = sizeof(magic);
    c = apr_pcalloc(p, sizeof(*c));
    c->exp = get_i64(&r);
    c->iat = get_i64(&r);
    c->nbf = get_i64(&r);
    for (i = 0; i < STRING_FIELDS; i++) {
        fields[i] = get_string(&r, 1);
    }
    if (!r.bad && r.len - r.pos >= sizeof(c->key_fingerprint)) {
        memcpy(c->key_fingerprint, r.buf + r.pos, sizeof(c->key_fingerprint));
        r.pos += sizeof(c->key_fingerprint);
    }
    else {
        r.bad = 1;
    }
    naud = get_u32(&r);
    if (r.bad || naud > MAX_AUDIENCES) {
        return APR_EINVAL;
    }
    c->audiences = apr_array_make(p, (int)(naud ? naud : 1), sizeof(const char *));
    for (i = 0; i < naud && !r.bad; i++) {
        APR_ARRAY_PUSH(c->audiences, const char *) = get_string(&r, 0);
    }
    if (r.bad || r.pos != len || !fields[0] || !fields[1] || !fields[5] || !fields[7] || !fields[8]
        || !fields[9] || c->exp <= 0 || c->exp > LOGTO_NUMERIC_DATE_MAX) {
        return APR_EINVAL;
    }
    c->iss = fields[0];
    c->sub = fields[1];
    c->client_id = fields[2];
    c->jti = fields[3];
    c->organization_id = fields[4];
    c->scope = fields[5];
    c->kid = fields[6];
    c->payload = fields[7];
    c->payload_len = strlen(fields[7]);
    c->scope_list = fields[8];
    c->audience_list = fields[9];
    c->scopes = logto_scope_split(p, c->scope);
    *out = c;
    return APR_SUCCESS;
}

/* ---- the in-process cache ------------------------------------------------------ */

typedef struct entry {
    unsigned char key[LOGTO_TCACHE_KEY_LEN];
    struct entry *chain;         /* next in the hash bucket */
    struct entry *newer, *older; /* insertion order, for eviction */
    volatile apr_uint32_t used;  /* hit since it was last considered for eviction */
    apr_time_t expires;          /* the token's exp */
    logto_store_t *store;
    apr_uint32_t epoch;
    apr_size_t len;
    unsigned char data[]; /* logto_claims_encode() output */
} entry_t;

/* A hit takes the shard's lock shared: one popular token (every request of a
 * client) must not serialise the threads. Recency is a bit set on hits, and
 * eviction gives used entries a second chance (CLOCK), so hits never write the
 * shard's lists.
 *
 * The lock prefers writers. glibc's default rwlock (and so apr_thread_rwlock)
 * prefers readers: a writer gets in only once no reader holds the lock, which
 * threads reading a hot token without pause never allow. Inserts into that
 * shard then waited for seconds (issue 9, item 13; bench/tcache_bench
 * contention). With writers preferred, an insert waits only for the readers
 * that hold the lock when it asks (new readers wait behind it): microseconds,
 * or a time slice when such a reader was preempted. Hits stay shared and cost
 * the same. Other C libraries keep their default kind. Nothing here takes a
 * shard's lock twice in one thread, which the non-recursive kind would
 * deadlock on. */
typedef struct shard {
    pthread_rwlock_t lock;
    int locked;              /* lock initialised (destroyed with the cache) */
    apr_time_t longest_wait; /* for the write lock, under the write lock */
    entry_t **buckets;
    apr_size_t nbuckets; /* a power of two */
    entry_t *newest, *oldest;
    apr_size_t count;
    apr_size_t capacity;
} shard_t;

struct logto_tcache {
    shard_t shards[LOGTO_TCACHE_SHARDS];
};

apr_status_t logto_tcache_key(const unsigned char *fingerprint, const char *token, apr_size_t len,
                              unsigned char key[LOGTO_TCACHE_KEY_LEN])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    int ok = md && EVP_DigestInit_ex(md, logto_sha256(), NULL) == 1
             && EVP_DigestUpdate(md, fingerprint, LOGTO_TCACHE_KEY_LEN) == 1
             && EVP_DigestUpdate(md, token, len) == 1 && EVP_DigestFinal_ex(md, key, &n) == 1
             && n == LOGTO_TCACHE_KEY_LEN;

    EVP_MD_CTX_free(md);
    if (!ok) {
        /* Never a usable key: an all-zero one would be shared by every
         * token whose digest failed. */
        memset(key, 0, LOGTO_TCACHE_KEY_LEN);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static apr_size_t bucket_of(const shard_t *shard, const unsigned char *key)
{
    apr_size_t h = ((apr_size_t)key[1] << 24) | ((apr_size_t)key[2] << 16)
                   | ((apr_size_t)key[3] << 8) | key[4];

    return h & (shard->nbuckets - 1);
}

static shard_t *shard_of(logto_tcache_t *cache, const unsigned char *key)
{
    return &cache->shards[key[0] % LOGTO_TCACHE_SHARDS];
}

static void lru_unlink(shard_t *shard, entry_t *e)
{
    if (e->newer) {
        e->newer->older = e->older;
    }
    else {
        shard->newest = e->older;
    }
    if (e->older) {
        e->older->newer = e->newer;
    }
    else {
        shard->oldest = e->newer;
    }
    e->newer = e->older = NULL;
}

static void lru_push(shard_t *shard, entry_t *e)
{
    e->older = shard->newest;
    e->newer = NULL;
    if (shard->newest) {
        shard->newest->newer = e;
    }
    shard->newest = e;
    if (!shard->oldest) {
        shard->oldest = e;
    }
}

/* Unlinks e from its bucket and the LRU list; the caller frees it. */
static void shard_remove(shard_t *shard, entry_t *e)
{
    entry_t **link = &shard->buckets[bucket_of(shard, e->key)];

    while (*link && *link != e) {
        link = &(*link)->chain;
    }
    if (*link) {
        *link = e->chain;
    }
    lru_unlink(shard, e);
    shard->count--;
}

/* Takes the shard's write lock and remembers the longest wait for it: what
 * item 13 is about, measured where no scheduling after the unlock blurs it. */
static void shard_wrlock(shard_t *shard)
{
    apr_time_t asked = apr_time_now(), waited;

    pthread_rwlock_wrlock(&shard->lock);
    waited = apr_time_now() - asked;
    if (waited > shard->longest_wait) {
        shard->longest_wait = waited;
    }
}

static entry_t *shard_find(shard_t *shard, const unsigned char *key)
{
    entry_t *e = shard->buckets[bucket_of(shard, key)];

    while (e && memcmp(e->key, key, LOGTO_TCACHE_KEY_LEN) != 0) {
        e = e->chain;
    }
    return e;
}

static apr_status_t tcache_release(void *data)
{
    logto_tcache_t *cache = data;
    int i;

    for (i = 0; i < LOGTO_TCACHE_SHARDS; i++) {
        entry_t *e = cache->shards[i].newest;

        while (e) {
            entry_t *older = e->older;

            free(e);
            e = older;
        }
        cache->shards[i].newest = cache->shards[i].oldest = NULL;
        if (cache->shards[i].locked) {
            pthread_rwlock_destroy(&cache->shards[i].lock);
            cache->shards[i].locked = 0;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t shard_lock_init(shard_t *shard)
{
    pthread_rwlockattr_t attr;
    int rc;

    if ((rc = pthread_rwlockattr_init(&attr)) != 0) {
        return APR_FROM_OS_ERROR(rc);
    }
#if defined(__GLIBC__)
    rc = pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    if (rc == 0 && (rc = pthread_rwlock_init(&shard->lock, &attr)) == 0) {
        shard->locked = 1;
    }
    pthread_rwlockattr_destroy(&attr);
    return APR_FROM_OS_ERROR(rc);
}

apr_status_t logto_tcache_create(logto_tcache_t **out, apr_size_t max_entries, apr_pool_t *p)
{
    logto_tcache_t *cache = apr_pcalloc(p, sizeof(*cache));
    apr_size_t per_shard = max_entries / LOGTO_TCACHE_SHARDS;
    apr_status_t rv;
    int i;

    if (per_shard == 0) {
        per_shard = 1;
    }
    /* Entries are malloc'd one by one (they come and go with the LRU); this
     * cleanup frees whatever is left, and the locks made so far, when the
     * cache's pool goes. */
    apr_pool_cleanup_register(p, cache, tcache_release, apr_pool_cleanup_null);
    for (i = 0; i < LOGTO_TCACHE_SHARDS; i++) {
        shard_t *shard = &cache->shards[i];

        shard->capacity = per_shard;
        shard->nbuckets = 16;
        while (shard->nbuckets < per_shard) {
            shard->nbuckets <<= 1;
        }
        shard->buckets = apr_pcalloc(p, shard->nbuckets * sizeof(entry_t *));
        if ((rv = shard_lock_init(shard)) != APR_SUCCESS) {
            return rv;
        }
    }
    *out = cache;
    return APR_SUCCESS;
}

/* The entry to evict, with the exclusive lock held: the oldest one not used
 * since it was last looked at; used ones are cleared and moved to the new
 * end (a second chance). Terminates: each pass clears what it moves. */
static entry_t *clock_victim(shard_t *shard)
{
    entry_t *e = shard->oldest;

    while (apr_atomic_read32(&e->used)) {
        apr_atomic_set32(&e->used, 0);
        lru_unlink(shard, e);
        lru_push(shard, e);
        e = shard->oldest;
    }
    return e;
}

static int entry_usable(entry_t *e, apr_time_t now)
{
    return now < e->expires && logto_store_epoch(e->store) == e->epoch
           && logto_store_usable(e->store, now);
}

int logto_tcache_get(logto_tcache_t *cache, const unsigned char key[LOGTO_TCACHE_KEY_LEN],
                     apr_time_t now, apr_pool_t *p, logto_claims_t **claims)
{
    shard_t *shard = shard_of(cache, key);
    entry_t *e;
    unsigned char *copy = NULL;
    apr_size_t len = 0;
    int stale = 0;

    pthread_rwlock_rdlock(&shard->lock);
    e = shard_find(shard, key);
    if (e && !entry_usable(e, now)) {
        stale = 1;
    }
    else if (e) {
        len = e->len;
        copy = apr_pmemdup(p, e->data, len);
        if (!apr_atomic_read32(&e->used)) {
            apr_atomic_set32(&e->used, 1);
        }
    }
    pthread_rwlock_unlock(&shard->lock);
    if (stale) {
        /* Dropped under the exclusive lock, if no one replaced it meanwhile. */
        shard_wrlock(shard);
        e = shard_find(shard, key);
        if (e && !entry_usable(e, now)) {
            shard_remove(shard, e);
        }
        else {
            e = NULL;
        }
        pthread_rwlock_unlock(&shard->lock);
        free(e);
    }
    return copy && logto_claims_decode(p, copy, len, claims) == APR_SUCCESS;
}

void logto_tcache_put(logto_tcache_t *cache, const unsigned char key[LOGTO_TCACHE_KEY_LEN],
                      const logto_claims_t *claims, logto_store_t *store, apr_uint32_t epoch,
                      apr_pool_t *p)
{
    shard_t *shard = shard_of(cache, key);
    entry_t *e, *old, *evicted = NULL;
    unsigned char *data;
    apr_size_t len;

    if (logto_claims_encode(p, claims, &data, &len) != APR_SUCCESS
        || !(e = malloc(sizeof(*e) + len))) {
        return;
    }
    memcpy(e->key, key, LOGTO_TCACHE_KEY_LEN);
    memcpy(e->data, data, len);
    e->len = len;
    e->expires = apr_time_from_sec(claims->exp);
    e->store = store;
    e->epoch = epoch;
    e->newer = e->older = NULL;
    e->used = 0;

    shard_wrlock(shard);
    old = shard_find(shard, key);
    if (old) {
        shard_remove(shard, old);
    }
    else if (shard->count >= shard->capacity) {
        evicted = clock_victim(shard);
        shard_remove(shard, evicted);
    }
    e->chain = shard->buckets[bucket_of(shard, key)];
    shard->buckets[bucket_of(shard, key)] = e;
    lru_push(shard, e);
    shard->count++;
    pthread_rwlock_unlock(&shard->lock);
    free(old);
    free(evicted);
}

apr_size_t logto_tcache_count(logto_tcache_t *cache)
{
    apr_size_t n = 0;
    int i;

    for (i = 0; i < LOGTO_TCACHE_SHARDS; i++) {
        pthread_rwlock_rdlock(&cache->shards[i].lock);
        n += cache->shards[i].count;
        pthread_rwlock_unlock(&cache->shards[i].lock);
    }
    return n;
}

apr_interval_time_t logto_tcache_longest_wait(logto_tcache_t *cache)
{
    apr_interval_time_t longest = 0;
    int i;

    for (i = 0; i < LOGTO_TCACHE_SHARDS; i++) {
        pthread_rwlock_rdlock(&cache->shards[i].lock);
        if (cache->shards[i].longest_wait > longest) {
            longest = cache->shards[i].longest_wait;
        }
        pthread_rwlock_unlock(&cache->shards[i].lock);
    }
    return longest;
}

apr_size_t logto_tcache_capacity(logto_tcache_t *cache)
{
    return cache->shards[0].capacity * LOGTO_TCACHE_SHARDS;
}
