/* Measurements of the in-process token cache (lib/logto_tcache.c), without
 * httpd: what one entry costs in memory, what one hit costs in time, and how
 * long an insert waits for its shard while other threads read a hot token of
 * the same shard (issue 9, items 8 and 13).
 *
 *   make bench/tcache_bench              (in the build directory)
 *   bench/tcache_bench size              bytes per entry, per claim shape:
 *                                        counted by the cache, and the heap's
 *                                        growth (malloc's overhead included)
 *   bench/tcache_bench hit [N] [SHAPE]   ns per hit (get and a pool clear);
 *                                        SHAPE 0 or 1: only that claim shape
 *   bench/tcache_bench contention [R] [S]
 *                                        R reader threads on one key of a
 *                                        shard, one writer inserting into it
 *                                        and into a shard nobody reads, for S
 *                                        seconds: how long inserts take.
 *                                        WRITER_FIFO=1 (root) runs the writer
 *                                        real-time, so that the figures are
 *                                        the lock's, not the run queue's
 *
 * Claims are built the way a request builds them: logto_claims_read() over a
 * Logto-shaped payload (the model 1 user token of tests/vectors). */
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "logto_claims.h"
#include "logto_store.h"
#include "logto_tcache.h"

#define ISSUER "https://abc123.logto.app/oidc"
#define NOW    1767225600
#define KID    "7yBAiFyJ3M54qQ8U6o71jYj4nuTUOIbHtfPInROwlso"

/* The public key of tests/vectors/logto-es384-model1-user. */
static const char jwks_json[] =
    "{\"keys\":[{\"kty\":\"EC\",\"use\":\"sig\",\"kid\":\"" KID "\",\"alg\":\"ES384\","
    "\"crv\":\"P-384\","
    "\"x\":\"AjvZKlYZsl4e4oDwWioh3PbuDlO0T2WyhbHRqnLo-ASJalyEJFUVvDanyctQPj2k\","
    "\"y\":\"lXC0gg-VSBICg4sXQhgkrXep5ntBwsEOt6fpJc6pWGqCHx_-AMDrEJz8yQJISAX5\"}]}";

/* A cache with room for max_entries and a byte bound never reached here:
 * the bound is not what is measured. */
static logto_tcache_t *cache_make(apr_size_t max_entries, apr_pool_t *p)
{
    logto_tcache_t *cache = NULL;

    if (logto_tcache_create(&cache, max_entries, (apr_size_t)1 << 34, p) != APR_SUCCESS) {
        fprintf(stderr, "cannot create the cache\n");
        exit(1);
    }
    return cache;
}

static logto_store_t *store_make(apr_pool_t *p)
{
    logto_jwks_t *jwks = NULL;
    logto_store_t *store = NULL;
    const char *why = NULL;

    if (logto_jwks_parse(p, jwks_json, sizeof(jwks_json) - 1, &jwks, &why) != APR_SUCCESS
        || logto_store_create_static(&store, ISSUER, jwks, p) != APR_SUCCESS) {
        fprintf(stderr, "cannot build the key store: %s\n", why ? why : "-");
        exit(1);
    }
    return store;
}

static apr_status_t json_release(void *json)
{
    json_decref(json);
    return APR_SUCCESS;
}

/* A model 1 user token's claims, its scope replaced by scope_bytes of
 * "permission:NNNN" words when scope_bytes > 0. */
static logto_claims_t *claims_make(apr_pool_t *p, apr_size_t scope_bytes)
{
    const char *scope = "read:products write:products";
    apr_array_header_t *issuers = apr_array_make(p, 1, sizeof(const char *));
    logto_claims_t *claims = NULL;
    logto_result_t res;
    json_error_t err;
    json_t *json;
    char *raw;

    if (scope_bytes > 0) {
        char *s = apr_palloc(p, scope_bytes + 32);
        apr_size_t n = 0;
        int i = 0;

        while (n < scope_bytes) {
            n += (apr_size_t)apr_snprintf(s + n, 32, "%spermission:%04d", n ? " " : "", i++);
        }
        scope = s;
    }
    raw = apr_psprintf(p,
                       "{\"jti\":\"Vq3xK8mZ2pL7nR4tY9wB1\",\"sub\":\"u7x2k9q4m1pz\","
                       "\"iat\":%d,\"exp\":%d,\"scope\":\"%s\","
                       "\"client_id\":\"app9m2kq7x1b4z8c6v3n5\",\"iss\":\"" ISSUER "\","
                       "\"aud\":\"https://api.example.com\"}",
                       NOW - 600, NOW + 3000, scope);
    APR_ARRAY_PUSH(issuers, const char *) = ISSUER;
    memset(&res, 0, sizeof(res));
    if (!(json = json_loads(raw, 0, &err))
        || logto_claims_read(p, json, raw, strlen(raw), issuers, apr_time_from_sec(60),
                             apr_time_from_sec(NOW), &claims, &res)
               != APR_SUCCESS) {
        fprintf(stderr, "cannot read the claims\n");
        exit(1);
    }
    /* the claims point into json's strings: keep it as long as p */
    apr_pool_cleanup_register(p, json, json_release, apr_pool_cleanup_null);
    claims->kid = KID;
    memset(claims->key_fingerprint, 0xab, sizeof(claims->key_fingerprint));
    return claims;
}

/* A key in the given shard, distinct for each n. */
static void key_of(unsigned char key[LOGTO_TCACHE_KEY_LEN], unsigned shard, apr_uint32_t n)
{
    memset(key, 0, LOGTO_TCACHE_KEY_LEN);
    key[0] = (unsigned char)shard;
    key[1] = (unsigned char)(n >> 24);
    key[2] = (unsigned char)(n >> 16);
    key[3] = (unsigned char)(n >> 8);
    key[4] = (unsigned char)n;
}

static const struct {
    const char *name;
    apr_size_t scope_bytes;
} shapes[] = {{"model 1, short scope", 0}, {"model 1, 10 KB scope", 10240}};

/* ---- size -------------------------------------------------------------------- */

#define SIZE_ENTRIES 2000

static int run_size(apr_pool_t *root)
{
    apr_size_t s;

    for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        apr_pool_t *p;
        logto_store_t *store;
        logto_claims_t *claims;
        logto_tcache_t *cache;
        unsigned char key[LOGTO_TCACHE_KEY_LEN], *enc;
        apr_size_t enc_len;
        struct mallinfo2 before, after;
        apr_uint32_t i;

        apr_pool_create(&p, root);
        store = store_make(p);
        claims = claims_make(p, shapes[s].scope_bytes);
        cache = cache_make((apr_size_t)SIZE_ENTRIES * 2, p);
        logto_claims_encode(p, claims, &enc, &enc_len);
        /* The heap grows by the entries alone: the encodings are made in p,
         * whose memory is taken before the first mallinfo by a warm-up put. */
        key_of(key, 0, 0xffffffffu);
        logto_tcache_put(cache, key, claims, store, 0, p);
        before = mallinfo2();
        for (i = 0; i < SIZE_ENTRIES; i++) {
            key_of(key, i % LOGTO_TCACHE_SHARDS, i);
            logto_tcache_put(cache, key, claims, store, 0, p);
        }
        after = mallinfo2();
        printf("%-22s payload %5lu B, encoding %6lu B, counted per entry %6lu B, "
               "heap per entry %6.0f B\n",
               shapes[s].name, (unsigned long)claims->payload_len, (unsigned long)enc_len,
               (unsigned long)(logto_tcache_bytes(cache) / logto_tcache_count(cache)),
               (double)(after.uordblks - before.uordblks) / SIZE_ENTRIES);
        apr_pool_destroy(p);
    }
    return 0;
}

/* ---- hit --------------------------------------------------------------------- */

/* shape: an index into shapes, or -1 for all of them */
static int run_hit(apr_pool_t *root, long rounds, int shape)
{
    apr_size_t s;

    for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        apr_pool_t *p, *scratch;
        logto_store_t *store;
        logto_tcache_t *cache;
        unsigned char key[LOGTO_TCACHE_KEY_LEN];
        apr_time_t started, took;
        long i, hits = 0;

        if (shape >= 0 && (apr_size_t)shape != s) {
            continue;
        }
        apr_pool_create(&p, root);
        apr_pool_create(&scratch, p);
        store = store_make(p);
        cache = cache_make(1024, p);
        key_of(key, 3, 1);
        logto_tcache_put(cache, key, claims_make(p, shapes[s].scope_bytes), store,
                         logto_store_epoch(store), p);
        started = apr_time_now();
        for (i = 0; i < rounds; i++) {
            logto_claims_t *claims = NULL;

            hits += logto_tcache_get(cache, key, apr_time_from_sec(NOW), scratch, &claims);
            apr_pool_clear(scratch);
        }
        took = apr_time_now() - started;
        if (hits != rounds) {
            fprintf(stderr, "only %ld hits of %ld\n", hits, rounds);
            return 1;
        }
        printf("%-22s %8.0f ns per hit (get + pool clear), %ld hits\n", shapes[s].name,
               (double)took * 1000.0 / (double)rounds, rounds);
        apr_pool_destroy(p);
    }
    return 0;
}

/* ---- contention -------------------------------------------------------------- */

#define HOT_SHARD  5
#define COLD_SHARD 11
#define MAX_WAITS  500000

typedef struct contention {
    logto_tcache_t *cache;
    unsigned char hot[LOGTO_TCACHE_KEY_LEN];
    volatile apr_uint32_t stop;
    volatile apr_uint32_t reads;
} contention_t;

static void *APR_THREAD_FUNC reader_main(apr_thread_t *thread, void *data)
{
    contention_t *c = data;
    apr_pool_t *p;
    apr_uint32_t n = 0;

    apr_pool_create(&p, NULL);
    while (!apr_atomic_read32(&c->stop)) {
        logto_claims_t *claims = NULL;

        n += (apr_uint32_t)logto_tcache_get(c->cache, c->hot, apr_time_from_sec(NOW), p, &claims);
        apr_pool_clear(p);
    }
    apr_atomic_add32(&c->reads, n);
    apr_pool_destroy(p);
    (void)thread;
    return NULL;
}

static int compare_time(const void *a, const void *b)
{
    apr_time_t x = *(const apr_time_t *)a, y = *(const apr_time_t *)b;

    return (x > y) - (x < y);
}

static void report(const char *what, apr_time_t *waits, apr_size_t n)
{
    apr_size_t i, over_1ms = 0, over_10ms = 0;

    if (n == 0) {
        printf("  %s: no insert completed\n", what);
        return;
    }
    qsort(waits, n, sizeof(*waits), compare_time);
    for (i = 0; i < n; i++) {
        over_1ms += waits[i] > 1000;
        over_10ms += waits[i] > 10000;
    }
    printf("  %s: %lu inserts, wait p50 %lu us, p99 %lu us, p99.9 %lu us, worst %lu us; "
           "%lu over 1 ms, %lu over 10 ms\n",
           what, (unsigned long)n, (unsigned long)waits[n / 2], (unsigned long)waits[n * 99 / 100],
           (unsigned long)waits[n * 999 / 1000], (unsigned long)waits[n - 1],
           (unsigned long)over_1ms, (unsigned long)over_10ms);
}

/* The writer inserts into the hot shard and, as a control, into a shard
 * nobody reads: what the control waits is the writer's own scheduling on a
 * busy machine (R threads spinning on 2 cores), not the lock. */
static int run_contention(apr_pool_t *root, int readers, int seconds)
{
    contention_t *c = apr_pcalloc(root, sizeof(*c));
    apr_thread_t **threads = apr_pcalloc(root, sizeof(*threads) * (apr_size_t)readers);
    apr_time_t *hot = malloc(sizeof(*hot) * MAX_WAITS), *cold = malloc(sizeof(*cold) * MAX_WAITS);
    apr_size_t nhot = 0, ncold = 0;
    apr_time_t end;
    apr_pool_t *scratch;
    logto_store_t *store;
    logto_claims_t *claims;
    apr_status_t rv;
    apr_uint32_t n = 0;
    int i;

    if (!hot || !cold) {
        return 1;
    }
    apr_pool_create(&scratch, root);
    store = store_make(root);
    claims = claims_make(root, 0);
    /* few entries per shard: every insert evicts, as in a full cache */
    c->cache = cache_make((apr_size_t)64 * LOGTO_TCACHE_SHARDS, root);
    key_of(c->hot, HOT_SHARD, 0);
    logto_tcache_put(c->cache, c->hot, claims, store, logto_store_epoch(store), root);
    for (i = 0; i < readers; i++) {
        apr_thread_create(&threads[i], NULL, reader_main, c, root);
    }
    if (getenv("WRITER_FIFO")) {
        /* The writer (this thread, after the readers inherited the normal
         * policy) runs real-time: it is never preempted by the readers, so
         * what it waits is the lock: the readers that hold it getting the CPU
         * to leave. Needs root (CAP_SYS_NICE). */
        struct sched_param sp = {.sched_priority = 1};

        if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0) {
            fprintf(stderr, "WRITER_FIFO: cannot switch to SCHED_FIFO\n");
            return 1;
        }
    }
    apr_sleep(apr_time_from_msec(100));
    end = apr_time_now() + apr_time_from_sec(seconds);
    while (apr_time_now() < end && nhot < MAX_WAITS && ncold < MAX_WAITS) {
        unsigned char key[LOGTO_TCACHE_KEY_LEN];
        int to_hot = (n % 2) == 0;
        apr_time_t started;

        key_of(key, to_hot ? HOT_SHARD : COLD_SHARD, ++n);
        started = apr_time_now();
        logto_tcache_put(c->cache, key, claims, store, logto_store_epoch(store), scratch);
        if (to_hot) {
            hot[nhot++] = apr_time_now() - started;
        }
        else {
            cold[ncold++] = apr_time_now() - started;
        }
        apr_pool_clear(scratch);
        /* new tokens arrive now and then, not back to back */
        apr_sleep(200);
    }
    apr_atomic_set32(&c->stop, 1);
    for (i = 0; i < readers; i++) {
        apr_thread_join(&rv, threads[i]);
    }
    printf("%d readers on shard %d, %d s, %lu hits:\n", readers, HOT_SHARD, seconds,
           (unsigned long)apr_atomic_read32(&c->reads));
    report("hot shard ", hot, nhot);
    report("cold shard", cold, ncold);
    printf("  longest wait for a shard's write lock (the cache's own measure): %ld us\n",
           (long)logto_tcache_longest_wait(c->cache));
    free(hot);
    free(cold);
    return 0;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *root;
    int rc = 2;

    apr_initialize();
    apr_pool_create(&root, NULL);
    if (argc >= 2 && strcmp(argv[1], "size") == 0) {
        rc = run_size(root);
    }
    else if (argc >= 2 && strcmp(argv[1], "hit") == 0) {
        rc = run_hit(root, argc > 2 ? atol(argv[2]) : 1000000L, argc > 3 ? atoi(argv[3]) : -1);
    }
    else if (argc >= 2 && strcmp(argv[1], "contention") == 0) {
        int readers = argc > 2 ? atoi(argv[2]) : 4, seconds = argc > 3 ? atoi(argv[3]) : 5;

        if (readers < 1 || readers > 256 || seconds < 1 || seconds > 3600) {
            fprintf(stderr, "readers 1..256, seconds 1..3600\n");
        }
        else {
            rc = run_contention(root, readers, seconds);
        }
    }
    else {
        fprintf(stderr, "usage: %s size | hit [N] [SHAPE] | contention [READERS] [SECONDS]\n",
                argv[0]);
    }
    apr_pool_destroy(root);
    apr_terminate();
    return rc;
}
