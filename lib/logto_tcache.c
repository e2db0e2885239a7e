#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_atomic.h>
#include <openssl/evp.h>

#include "logto_crypto.h"
#include "logto_tcache.h"

/* ---- encoding ----------------------------------------------------------------
 * "LTC2". Integers are big-endian.
 *
 *   "LTC2"
 *   exp, iat, nbf                 8 bytes each, signed
 *   key fingerprint               32 bytes
 *   payload                       4-byte length, the bytes, a NUL
 *   iss, sub, client_id, jti,     each a tag byte, then:
 *   organization_id, scope, kid     0: absent (nothing follows)
 *                                   1: a reference: 4-byte offset and 4-byte
 *                                      length of a range of the payload
 *                                   2: inline: 4-byte length, the bytes, a NUL
 *   audience count                4 bytes, at most 64
 *   each audience                 tag 1 or 2 as above (never absent)
 *
 * The payload is stored once. The claim strings are nearly always its own
 * bytes (the JSON text of a string without escapes is the string), so they
 * are references into it; one that JSON escapes changed ("\/", "\u00e9"), or
 * that is not in the payload at all (kid, from the header), is inline.
 * scopes, scope_list and audience_list are not stored: decoding derives them
 * from scope and the audiences as logto_claims_read() does. The NUL after
 * the payload and after inline strings lets decoded claims point into the
 * buffer; referenced strings are copied out, NUL-terminated. */

static const unsigned char magic[4] = {'L', 'T', 'C', '2'};

enum {
    FIELD_ISS,
    FIELD_SUB,
    FIELD_CLIENT_ID,
    FIELD_JTI,
    FIELD_ORGANIZATION_ID,
    FIELD_SCOPE,
    FIELD_KID,
    STRING_FIELDS
};
#define MAX_AUDIENCES 64
#define MAX_STRINGS   (STRING_FIELDS + MAX_AUDIENCES)

#define TAG_ABSENT 0
#define TAG_REF    1
#define TAG_INLINE 2

/* Bound of the payload and of each string: a token's are at most
 * LOGTO_MAX_TOKEN_LEN (16 KiB) long; this leaves room and keeps the sum of
 * 72 of them far from overflowing a length, on 32 bits too. Decoding refuses
 * what encoding would not write. */
#define MAX_STRING_LEN ((apr_size_t)1 << 20)

/* A reference takes 9 bytes and an inline string 6 plus its length: shorter
 * strings are cheaper inline. */
#define REF_MIN_LEN 4

/* One string of the encoding: where it is (s), and when it is a reference,
 * where in the payload (offset). */
typedef struct span {
    const char *s; /* NULL: absent */
    apr_size_t len;
    int ref;
    apr_size_t offset;
} span_t;

typedef struct writer {
    unsigned char *buf;
    apr_size_t len;
} writer_t;

static void put_u32(writer_t *w, apr_uint32_t v)
{
    w->buf[w->len] = (unsigned char)(v >> 24);
    w->buf[w->len + 1] = (unsigned char)(v >> 16);
    w->buf[w->len + 2] = (unsigned char)(v >> 8);
    w->buf[w->len + 3] = (unsigned char)v;
    w->len += 4;
}

static void put_i64(writer_t *w, apr_int64_t v)
{
    put_u32(w, (apr_uint32_t)((apr_uint64_t)v >> 32));
    put_u32(w, (apr_uint32_t)((apr_uint64_t)v & 0xffffffffu));
}

static void put_bytes(writer_t *w, const void *data, apr_size_t len)
{
    if (len) {
        memcpy(w->buf + w->len, data, len);
    }
    w->len += len;
}

static void put_tag(writer_t *w, unsigned char tag)
{
    put_bytes(w, &tag, 1);
}

/* Plans s: a reference when the payload holds its bytes, else inline.
 * Returns the bytes it takes in the encoding, 0 when it cannot be encoded. */
static apr_size_t span_plan(span_t *span, const char *s, const char *payload,
                            apr_size_t payload_len)
{
    const char *at;

    memset(span, 0, sizeof(*span));
    if (!s) {
        return 1;
    }
    span->s = s;
    span->len = strlen(s);
    if (span->len > MAX_STRING_LEN) {
        return 0;
    }
    if (span->len >= REF_MIN_LEN && (at = memmem(payload, payload_len, s, span->len))) {
        span->ref = 1;
        span->offset = (apr_size_t)(at - payload);
        return 9;
    }
    return 6 + span->len;
}

static void span_put(writer_t *w, const span_t *span)
{
    if (!span->s) {
        put_tag(w, TAG_ABSENT);
    }
    else if (span->ref) {
        put_tag(w, TAG_REF);
        put_u32(w, (apr_uint32_t)span->offset);
        put_u32(w, (apr_uint32_t)span->len);
    }
    else {
        put_tag(w, TAG_INLINE);
        put_u32(w, (apr_uint32_t)span->len);
        put_bytes(w, span->s, span->len);
        put_bytes(w, "", 1);
    }
}

/* The scopes joined by single spaces, as logto_claims_read() makes them:
 * scope itself when it has no empty items (the usual case), so that neither
 * encoding nor a hit copies it once more. scopes is split from scope when
 * NULL and needed. */
static const char *scope_list_of(apr_pool_t *p, const char *scope, const apr_array_header_t *scopes)
{
    apr_size_t len = strlen(scope);

    if (len == 0 || (scope[0] != ' ' && scope[len - 1] != ' ' && !strstr(scope, "  "))) {
        return scope;
    }
    return logto_list_join(p, scopes ? scopes : logto_scope_split(p, scope));
}

/* The audiences joined likewise: the only one itself, without a copy. */
static const char *audience_list_of(apr_pool_t *p, const apr_array_header_t *audiences)
{
    if (audiences->nelts == 1) {
        return APR_ARRAY_IDX(audiences, 0, const char *);
    }
    return logto_list_join(p, audiences);
}

apr_status_t logto_claims_encode(apr_pool_t *p, const logto_claims_t *c, unsigned char **buf,
                                 apr_size_t *len)
{
    const char *payload = c->payload ? c->payload : "";
    const apr_size_t payload_len = c->payload ? c->payload_len : 0;
    const char *fields[STRING_FIELDS] = {c->iss,   c->sub, c->client_id, c->jti, c->organization_id,
                                         c->scope, c->kid};
    const int naud = c->audiences ? c->audiences->nelts : 0;
    span_t spans[MAX_STRINGS];
    apr_size_t size, n;
    writer_t w;
    int i;

    /* The payload is the one thing stored whole; its NUL terminates it. */
    if (naud > MAX_AUDIENCES || payload_len > MAX_STRING_LEN || memchr(payload, 0, payload_len)) {
        return APR_EINVAL;
    }
    /* What decoding derives must be what the claims say, or the cache
     * would answer other claims than it was given. */
    if (c->scope_list) {
        const char *scope = c->scope ? c->scope : "";

        if (strcmp(c->scope_list, scope_list_of(p, scope, NULL)) != 0) {
            return APR_EINVAL;
        }
    }
    if (c->audience_list && c->audiences
        && strcmp(c->audience_list, audience_list_of(p, c->audiences)) != 0) {
        return APR_EINVAL;
    }
    size = sizeof(magic) + sizeof(apr_int64_t) * 3 + sizeof(c->key_fingerprint) + 4 + payload_len
           + 1 + 4;
    for (i = 0; i < STRING_FIELDS + naud; i++) {
        const char *s = i < STRING_FIELDS
                            ? fields[i]
                            : APR_ARRAY_IDX(c->audiences, i - STRING_FIELDS, const char *);

        if ((i >= STRING_FIELDS && !s) || !(n = span_plan(&spans[i], s, payload, payload_len))) {
            return APR_EINVAL;
        }
        size += n;
    }
    w.buf = apr_palloc(p, size);
    w.len = 0;
    put_bytes(&w, magic, sizeof(magic));
    put_i64(&w, c->exp);
    put_i64(&w, c->iat);
    put_i64(&w, c->nbf);
    put_bytes(&w, c->key_fingerprint, sizeof(c->key_fingerprint));
    put_u32(&w, (apr_uint32_t)payload_len);
    put_bytes(&w, payload, payload_len);
    put_bytes(&w, "", 1);
    for (i = 0; i < STRING_FIELDS; i++) {
        span_put(&w, &spans[i]);
    }
    put_u32(&w, (apr_uint32_t)naud);
    for (i = STRING_FIELDS; i < STRING_FIELDS + naud; i++) {
        span_put(&w, &spans[i]);
    }
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

static APR_INLINE unsigned char get_u8(reader_t *r)
{
    if (r->bad || r->pos >= r->len) {
        r->bad = 1;
        return 0;
    }
    return r->buf[r->pos++];
}

static APR_INLINE apr_uint32_t get_u32(reader_t *r)
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

/* A NUL-terminated run of len bytes at the read position, without a NUL
 * inside; NULL (and r->bad) otherwise. */
static const char *get_cstring(reader_t *r, apr_size_t len)
{
    const char *s;

    if (r->bad || len >= r->len - r->pos || memchr(r->buf + r->pos, 0, len)
        || r->buf[r->pos + len] != 0) {
        r->bad = 1;
        return NULL;
    }
    s = (const char *)r->buf + r->pos;
    r->pos += len + 1;
    return s;
}

/* One tagged string. A reference must lie within the payload (which holds
 * no NUL, so neither does the reference); absent is allowed only where
 * optional says so. */
static void get_span(reader_t *r, const char *payload, apr_size_t payload_len, int optional,
                     span_t *span)
{
    unsigned char tag = get_u8(r);

    span->s = NULL;
    span->len = 0;
    span->ref = 0;
    if (r->bad) {
        return;
    }
    if (tag == TAG_ABSENT) {
        r->bad |= !optional;
    }
    else if (tag == TAG_REF) {
        apr_uint32_t offset = get_u32(r), len = get_u32(r);

        if (r->bad || offset > payload_len || len > payload_len - offset) {
            r->bad = 1;
            return;
        }
        span->s = payload + offset;
        span->len = len;
        span->ref = 1;
    }
    else if (tag == TAG_INLINE) {
        span->len = get_u32(r);
        span->s = span->len <= MAX_STRING_LEN ? get_cstring(r, span->len) : NULL;
        r->bad |= !span->s;
    }
    else {
        r->bad = 1;
    }
}

apr_status_t logto_claims_decode(apr_pool_t *p, const unsigned char *buf, apr_size_t len,
                                 logto_claims_t **out)
{
    reader_t r = {buf, len, 0, 0};
    span_t spans[MAX_STRINGS];
    const char *strings[MAX_STRINGS];
    const char *payload;
    apr_size_t payload_len, copied = 0;
    logto_claims_t *c;
    apr_uint32_t naud, i;
    char *copy = NULL;

    if (len < sizeof(magic) || memcmp(buf, magic, sizeof(magic)) != 0) {
        return APR_EINVAL;
    }
    r.pos = sizeof(magic);
    c = apr_pcalloc(p, sizeof(*c));
    c->exp = get_i64(&r);
    c->iat = get_i64(&r);
    c->nbf = get_i64(&r);
    if (r.bad || r.len - r.pos < sizeof(c->key_fingerprint)) {
        return APR_EINVAL;
    }
    memcpy(c->key_fingerprint, r.buf + r.pos, sizeof(c->key_fingerprint));
    r.pos += sizeof(c->key_fingerprint);
    payload_len = get_u32(&r);
    payload = payload_len <= MAX_STRING_LEN ? get_cstring(&r, payload_len) : NULL;
    r.bad |= !payload;
    for (i = 0; i < STRING_FIELDS; i++) {
        get_span(&r, payload, payload_len, 1, &spans[i]);
    }
    naud = get_u32(&r);
    if (r.bad || naud > MAX_AUDIENCES) {
        return APR_EINVAL;
    }
    for (i = 0; i < naud; i++) {
        get_span(&r, payload, payload_len, 0, &spans[STRING_FIELDS + i]);
    }
    if (r.bad || r.pos != len || !spans[FIELD_ISS].s || !spans[FIELD_SUB].s || !spans[FIELD_SCOPE].s
        || c->exp <= 0 || c->exp > LOGTO_NUMERIC_DATE_MAX) {
        return APR_EINVAL;
    }
    /* References are copied out NUL-terminated, all in one allocation;
     * inline strings are used where they are. */
    for (i = 0; i < STRING_FIELDS + naud; i++) {
        copied += spans[i].ref ? spans[i].len + 1 : 0;
    }
    if (copied) {
        copy = apr_palloc(p, copied);
    }
    for (i = 0; i < STRING_FIELDS + naud; i++) {
        if (spans[i].ref) {
            memcpy(copy, spans[i].s, spans[i].len);
            copy[spans[i].len] = '\0';
            strings[i] = copy;
            copy += spans[i].len + 1;
        }
        else {
            strings[i] = spans[i].s;
        }
    }
    c->iss = strings[FIELD_ISS];
    c->sub = strings[FIELD_SUB];
    c->client_id = strings[FIELD_CLIENT_ID];
    c->jti = strings[FIELD_JTI];
    c->organization_id = strings[FIELD_ORGANIZATION_ID];
    c->scope = strings[FIELD_SCOPE];
    c->kid = strings[FIELD_KID];
    c->payload = payload;
    c->payload_len = payload_len;
    c->audiences = apr_array_make(p, (int)(naud ? naud : 1), sizeof(const char *));
    for (i = 0; i < naud; i++) {
        APR_ARRAY_PUSH(c->audiences, const char *) = strings[STRING_FIELDS + i];
    }
    c->scopes = logto_scope_split(p, c->scope);
    c->scope_list = scope_list_of(p, c->scope, c->scopes);
    c->audience_list = audience_list_of(p, c->audiences);
    *out = c;
    return APR_SUCCESS;
}

/* ---- the in-process cache ------------------------------------------------------ */

/* One malloc'd block: this header (88 bytes on 64-bit) and the encoding. */
typedef struct entry {
    unsigned char key[LOGTO_TCACHE_KEY_LEN];
    struct entry *chain;         /* next in the hash bucket */
    struct entry *newer, *older; /* insertion order, for eviction */
    apr_time_t expires;          /* the token's exp */
    logto_store_t *store;
    apr_size_t len; /* of data */
    apr_uint32_t epoch;
    volatile apr_uint32_t used; /* hit since it was last considered for eviction */
    unsigned char data[];       /* logto_claims_encode() output */
} entry_t;

/* What an entry counts against its shard's byte bound: what was malloc'd
 * for it (the allocator's own overhead, 8 to 16 bytes, is not counted). */
#define ENTRY_SIZE(len) (sizeof(entry_t) + (len))

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
    apr_size_t capacity;  /* entries */
    apr_size_t bytes;     /* ENTRY_SIZE of the entries */
    apr_size_t max_bytes; /* the bound of bytes; set once, read without the lock */
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
    shard->bytes -= ENTRY_SIZE(e->len);
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

apr_status_t logto_tcache_create(logto_tcache_t **out, apr_size_t max_entries, apr_size_t max_bytes,
                                 apr_pool_t *p)
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
        shard->max_bytes = max_bytes / LOGTO_TCACHE_SHARDS;
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
    apr_size_t len, size;

    /* An entry holds the payload at least: one that cannot fit the shard is
     * not even encoded. Such an entry is not cached at all, rather than
     * emptying the shard for one token. */
    if (ENTRY_SIZE(claims->payload_len) > shard->max_bytes
        || logto_claims_encode(p, claims, &data, &len) != APR_SUCCESS
        || (size = ENTRY_SIZE(len)) > shard->max_bytes || !(e = malloc(size))) {
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
    /* Room for one entry more and for its bytes; size <= max_bytes, so an
     * empty shard always has it. The evicted are freed after the unlock. */
    while (shard->count > 0
           && (shard->count >= shard->capacity || shard->bytes > shard->max_bytes - size)) {
        entry_t *victim = clock_victim(shard);

        shard_remove(shard, victim);
        victim->chain = evicted;
        evicted = victim;
    }
    e->chain = shard->buckets[bucket_of(shard, key)];
    shard->buckets[bucket_of(shard, key)] = e;
    lru_push(shard, e);
    shard->count++;
    shard->bytes += size;
    pthread_rwlock_unlock(&shard->lock);
    free(old);
    while (evicted) {
        entry_t *next = evicted->chain;

        free(evicted);
        evicted = next;
    }
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

apr_size_t logto_tcache_bytes(logto_tcache_t *cache)
{
    apr_size_t n = 0;
    int i;

    for (i = 0; i < LOGTO_TCACHE_SHARDS; i++) {
        pthread_rwlock_rdlock(&cache->shards[i].lock);
        n += cache->shards[i].bytes;
        pthread_rwlock_unlock(&cache->shards[i].lock);
    }
    return n;
}

apr_size_t logto_tcache_max_bytes(logto_tcache_t *cache)
{
    return cache->shards[0].max_bytes * LOGTO_TCACHE_SHARDS;
}
