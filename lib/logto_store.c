#include <string.h>

#include <apr_atomic.h>
#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <openssl/evp.h>

#include "logto_json.h"
#include "logto_log.h"
#include "logto_lognum.h"
#include "logto_store.h"

#define URI_MAX    2048
#define WELL_KNOWN "/.well-known/openid-configuration"

/* An immutable set of keys with its own pool. Requests hold references; the
 * last one to let go destroys it, so a refresh never frees keys in use. */
typedef struct keyset {
    apr_pool_t *pool; /* unmanaged: owns the parsed keys */
    const logto_jwks_t *jwks;
    apr_uint32_t refs; /* guarded by the store's mutex */
} keyset_t;

struct logto_store {
    logto_store_conf_t conf;
    const char *id;
    const logto_http_t *http;
    int is_static;
    logto_refresher_t *refresher;
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *fetched; /* broadcast when a fetch ends */

    /* Guarded by mutex. */
    keyset_t *current;
    apr_time_t fetched_at;        /* when current was fetched */
    apr_time_t last_kid_fetch;    /* start of the last unknown-kid fetch */
    apr_time_t retry_after;       /* no fetch before this, after a failure */
    int fetching;                 /* a fetch is in flight */
    int issuer_mismatch;          /* discovery named another issuer */
    char discovered_uri[URI_MAX]; /* jwks_uri from discovery, "" when unknown */
    apr_uint32_t fetches;
    apr_uint32_t failures;

    /* Read without the mutex. */
    volatile apr_uint32_t epoch;
    volatile apr_uint64_t trusted_until; /* apr_time_t; 0 when nothing is trusted */
};

struct logto_refresher {
    apr_pool_t *pool;
    apr_thread_t *thread;
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *wake;
    apr_array_header_t *stores; /* of logto_store_t *, guarded by mutex */
    int kicked;
    int stopping;
};

/* ---- references ---------------------------------------------------------- */

static void keyset_unref_locked(keyset_t *ks, apr_pool_t **dead)
{
    if (--ks->refs == 0) {
        *dead = ks->pool;
    }
}

typedef struct keyref {
    logto_store_t *store;
    keyset_t *ks;
} keyref_t;

static apr_status_t keyref_release(void *data)
{
    keyref_t *ref = data;
    apr_pool_t *dead = NULL;

    apr_thread_mutex_lock(ref->store->mutex);
    keyset_unref_locked(ref->ks, &dead);
    apr_thread_mutex_unlock(ref->store->mutex);
    if (dead) {
        apr_pool_destroy(dead);
    }
    return APR_SUCCESS;
}

static apr_status_t store_release(void *data)
{
    logto_store_t *store = data;
    apr_pool_t *dead = NULL;

    if (store->current) {
        keyset_unref_locked(store->current, &dead);
        store->current = NULL;
    }
    if (dead) {
        apr_pool_destroy(dead);
    }
    return APR_SUCCESS;
}

/* ---- creation -------------------------------------------------------------- */

const char *logto_store_conf_id(apr_pool_t *p, const logto_store_conf_t *conf)
{
    const char *source;

    if (conf->jwks_file) {
        source = apr_pstrcat(p, "file:", conf->jwks_file, NULL);
    }
    else if (conf->jwks_uri) {
        source = apr_pstrcat(p, "uri:", conf->jwks_uri, NULL);
    }
    else {
        source = apr_pstrcat(p, "discovery:", conf->issuer, NULL);
    }
    return apr_psprintf(p,
                        "%s ttl=%" APR_TIME_T_FMT " interval=%" APR_TIME_T_FMT
                        " stale=%" APR_TIME_T_FMT " timeout=%" APR_TIME_T_FMT " ca=%s fast=%d",
                        source, conf->ttl, conf->refresh_interval, conf->max_stale,
                        conf->http_timeout, conf->ca_file ? conf->ca_file : "-",
                        conf->fast_ecdsa ? 1 : 0);
}

static apr_status_t store_make(logto_store_t **out, apr_pool_t *p)
{
    logto_store_t *store = apr_pcalloc(p, sizeof(*store));
    apr_status_t rv;

    if ((rv = apr_thread_mutex_create(&store->mutex, APR_THREAD_MUTEX_DEFAULT, p)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&store->fetched, p)) != APR_SUCCESS) {
        return rv;
    }
    apr_pool_cleanup_register(p, store, store_release, apr_pool_cleanup_null);
    *out = store;
    return APR_SUCCESS;
}

apr_status_t logto_store_create(logto_store_t **out, const logto_store_conf_t *conf,
                                const logto_http_t *http, apr_pool_t *p)
{
    logto_store_t *store;
    apr_status_t rv = store_make(&store, p);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    store->conf = *conf;
    store->conf.issuer = apr_pstrdup(p, conf->issuer ? conf->issuer : "");
    store->conf.jwks_uri = conf->jwks_uri ? apr_pstrdup(p, conf->jwks_uri) : NULL;
    store->conf.jwks_file = conf->jwks_file ? apr_pstrdup(p, conf->jwks_file) : NULL;
    store->conf.ca_file = conf->ca_file ? apr_pstrdup(p, conf->ca_file) : NULL;
    store->id = logto_store_conf_id(p, &store->conf);
    store->http = http;
    *out = store;
    return APR_SUCCESS;
}

apr_status_t logto_store_create_static(logto_store_t **out, const char *name,
                                       const logto_jwks_t *keys, apr_pool_t *p)
{
    logto_store_t *store;
    keyset_t *ks;
    apr_status_t rv = store_make(&store, p);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    store->is_static = 1;
    store->conf.issuer = apr_pstrdup(p, name);
    store->id = apr_pstrcat(p, "static:", name, NULL);
    /* The keys belong to the caller's pool; the keyset only points to them. */
    ks = apr_pcalloc(p, sizeof(*ks));
    ks->jwks = keys;
    ks->refs = 1;
    store->current = ks;
    store->trusted_until = (apr_uint64_t)APR_INT64_MAX;
    *out = store;
    return APR_SUCCESS;
}

const char *logto_store_id(const logto_store_t *store)
{
    return store->id;
}

void logto_store_attach(logto_store_t *store, logto_refresher_t *refresher)
{
    if (store->is_static || !refresher) {
        return;
    }
    apr_thread_mutex_lock(store->mutex);
    store->refresher = refresher;
    apr_thread_mutex_unlock(store->mutex);
    apr_thread_mutex_lock(refresher->mutex);
    APR_ARRAY_PUSH(refresher->stores, logto_store_t *) = store;
    apr_thread_mutex_unlock(refresher->mutex);
}

/* ---- fetching ----------------------------------------------------------------- */

typedef struct fetch {
    apr_pool_t *pool; /* becomes the keyset's pool on success */
    const char *url;  /* what was fetched, for the log */
    int status;
    const char *why;        /* failure reason */
    int mismatch;           /* discovery issuer mismatch */
    const char *discovered; /* a jwks_uri learned by this fetch */
    logto_jwks_t *jwks;
} fetch_t;

static apr_interval_time_t remaining(apr_time_t deadline)
{
    apr_time_t now = apr_time_now();

    return (deadline > now) ? deadline - now : 0;
}

static apr_status_t http_get(logto_store_t *store, fetch_t *f, const char *url, apr_time_t deadline,
                             apr_size_t max_body, logto_http_resp_t *resp)
{
    logto_http_opts_t opts;

    memset(&opts, 0, sizeof(opts));
    f->url = url;
    opts.timeout = remaining(deadline);
    opts.max_body = max_body;
    opts.ca_file = store->conf.ca_file;
    if (opts.timeout <= 0) {
        f->why = "timed out";
        return APR_TIMEUP;
    }
    if (!logto_url_allowed(url, &f->why)) {
        return APR_EINVAL;
    }
    if (store->http->get(store->http->baton, f->pool, url, &opts, resp, &f->why) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    f->status = resp->status;
    if (resp->status != 200) {
        f->why = apr_psprintf(f->pool, "HTTP status %d", resp->status);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static apr_status_t discover(logto_store_t *store, fetch_t *f, apr_time_t deadline)
{
    logto_http_resp_t resp;
    /* OpenID Connect Discovery section 4: a trailing '/' of the issuer is
     * dropped before the suffix is added; the issuer itself stays exact. */
    apr_size_t len = strlen(store->conf.issuer);
    const char *url;

    if (len > 0 && store->conf.issuer[len - 1] == '/') {
        len--;
    }
    url = apr_pstrcat(f->pool, apr_pstrmemdup(f->pool, store->conf.issuer, len), WELL_KNOWN, NULL);
    const char *issuer, *jwks_uri, *why;
    json_t *doc;

    if (http_get(store, f, url, deadline, LOGTO_DISCOVERY_MAX_BYTES, &resp) != APR_SUCCESS) {
        f->why = apr_pstrcat(f->pool, "discovery: ", f->why, NULL);
        return APR_EGENERAL;
    }
    if (logto_json_parse_object(f->pool, resp.body, resp.len, &doc, &why) != APR_SUCCESS) {
        f->why = apr_pstrcat(f->pool, "discovery: ", why, NULL);
        return APR_EGENERAL;
    }
    /* OpenID Connect Discovery section 4.3: issuer must be exactly ours. */
    if (logto_json_string(doc, "issuer", &issuer) != 1 || strcmp(issuer, store->conf.issuer) != 0) {
        f->mismatch = 1;
        f->why = "discovery document names another issuer";
        return APR_EGENERAL;
    }
    if (logto_json_string(doc, "jwks_uri", &jwks_uri) != 1 || strlen(jwks_uri) >= URI_MAX) {
        f->why = "discovery document has no usable jwks_uri";
        return APR_EGENERAL;
    }
    if (!logto_url_allowed(jwks_uri, &why)) {
        f->why = apr_pstrcat(f->pool, "discovery jwks_uri refused: ", why, NULL);
        return APR_EGENERAL;
    }
    f->discovered = apr_pstrdup(f->pool, jwks_uri);
    return APR_SUCCESS;
}

static apr_status_t read_file(fetch_t *f, const char *path, logto_http_resp_t *resp)
{
    apr_file_t *file;
    apr_finfo_t info;
    apr_size_t len;
    char *buf;
    apr_status_t rv;

    f->url = path;
    if ((rv = apr_file_open(&file, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, f->pool))
        != APR_SUCCESS) {
        f->why = "cannot open the key file";
        return rv;
    }
    rv = apr_file_info_get(&info, APR_FINFO_SIZE, file);
    if (rv == APR_SUCCESS && (info.size < 0 || info.size > LOGTO_JWKS_MAX_BYTES)) {
        f->why = "key file too large";
        rv = APR_EINVAL;
    }
    if (rv == APR_SUCCESS) {
        len = (apr_size_t)info.size;
        buf = apr_palloc(f->pool, len + 1);
        rv = (len > 0) ? apr_file_read_full(file, buf, len, &len) : APR_SUCCESS;
        buf[len] = '\0';
        resp->body = buf;
        resp->len = len;
        resp->status = 200;
        if (rv != APR_SUCCESS) {
            f->why = "cannot read the key file";
        }
    }
    apr_file_close(file);
    return rv;
}

/* Gets a fresh key set; called with no lock held. known_uri is the jwks_uri
 * discovered earlier ("" when discovery must run). */
static apr_status_t fetch_keys(logto_store_t *store, const char *known_uri, fetch_t *f)
{
    const apr_time_t deadline = apr_time_now() + store->conf.http_timeout;
    logto_http_resp_t resp;
    const char *uri, *why;

    memset(&resp, 0, sizeof(resp));
    if (store->conf.jwks_file) {
        if (read_file(f, store->conf.jwks_file, &resp) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    else {
        uri = store->conf.jwks_uri;
        if (!uri && !*known_uri) {
            if (discover(store, f, deadline) != APR_SUCCESS) {
                return APR_EGENERAL;
            }
            uri = f->discovered;
        }
        else if (!uri) {
            uri = apr_pstrdup(f->pool, known_uri);
        }
        if (http_get(store, f, uri, deadline, LOGTO_JWKS_MAX_BYTES, &resp) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    if (logto_jwks_parse(f->pool, resp.body, resp.len, &f->jwks, &why) != APR_SUCCESS) {
        f->why = why;
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static int key_in_set(const logto_jwk_t *key, const logto_jwks_t *set)
{
    int i;

    for (i = 0; i < set->keys->nelts; i++) {
        const logto_jwk_t *other = APR_ARRAY_IDX(set->keys, i, const logto_jwk_t *);

        if (((!key->kid && !other->kid)
             || (key->kid && other->kid && !strcmp(key->kid, other->kid)))
            && EVP_PKEY_eq(key->pkey, other->pkey) == 1) {
            return 1;
        }
    }
    return 0;
}

static void set_trusted_until(logto_store_t *store, apr_time_t t)
{
    apr_atomic_set64(&store->trusted_until, (apr_uint64_t)t);
}

/* Drops keys older than ttl + max_stale. Called with the mutex held. */
static void expire_locked(logto_store_t *store, apr_time_t now, apr_pool_t **dead)
{
    if (store->is_static || !store->current
        || now <= store->fetched_at + store->conf.ttl + store->conf.max_stale) {
        return;
    }
    logto_log_write(LOGTO_LOG_WARNING, APR_SUCCESS, LOGTO_MARK,
                    LOGTO0204 "keys of %s are past LogtoJwksMaxStale and no longer trusted",
                    store->conf.issuer);
    keyset_unref_locked(store->current, dead);
    store->current = NULL;
    set_trusted_until(store, 0);
    apr_atomic_inc32(&store->epoch);
}

/* Runs one fetch with the mutex held on entry and exit (released while the
 * network is used); the caller has checked no fetch is in flight. */
static void fetch_locked(logto_store_t *store, apr_time_t now, const char *cause)
{
    char known_uri[URI_MAX];
    fetch_t f;
    apr_pool_t *dead = NULL;
    apr_time_t started = apr_time_now(), done;
    apr_status_t rv;
    long ms;

    store->fetching = 1;
    store->fetches++;
    apr_cpystrn(known_uri, store->discovered_uri, sizeof(known_uri));
    apr_thread_mutex_unlock(store->mutex);

    memset(&f, 0, sizeof(f));
    if (apr_pool_create_unmanaged_ex(&f.pool, NULL, NULL) != APR_SUCCESS) {
        rv = APR_ENOMEM;
        f.why = "out of memory";
    }
    else {
        rv = fetch_keys(store, known_uri, &f);
    }
    /* Tables for the fast ECDSA verifier, before the set is published and
     * without the mutex; a key left without one verifies through OpenSSL. */
    if (rv == APR_SUCCESS && store->conf.fast_ecdsa) {
        (void)logto_jwks_precompute(f.jwks);
    }
    /* The failure backoff counts from the end of the fetch, in whole seconds
     * on the caller's clock: a fetch that stalled for as long as the interval
     * is not repeated at once. */
    done = now + apr_time_from_sec(apr_time_sec(apr_time_now() - started));
    ms = (long)apr_time_as_msec(apr_time_now() - started);

    apr_thread_mutex_lock(store->mutex);
    store->fetching = 0;
    if (f.discovered) {
        apr_cpystrn(store->discovered_uri, f.discovered, sizeof(store->discovered_uri));
    }
    store->issuer_mismatch = f.mismatch;
    if (rv == APR_SUCCESS) {
        keyset_t *ks = apr_pcalloc(f.pool, sizeof(*ks));
        char status[32];
        keyset_t *old = store->current;
        int i, removed = 0;

        for (i = 0; old && i < old->jwks->keys->nelts; i++) {
            if (!key_in_set(APR_ARRAY_IDX(old->jwks->keys, i, const logto_jwk_t *), f.jwks)) {
                removed++;
            }
        }
        if (removed) {
            apr_atomic_inc32(&store->epoch);
            logto_log_write(LOGTO_LOG_INFO, APR_SUCCESS, LOGTO_MARK,
                            LOGTO0208 "%d key(s) of %s left the set: tokens they signed are "
                                      "refused from now on",
                            removed, store->conf.issuer);
        }
        ks->pool = f.pool;
        ks->jwks = f.jwks;
        ks->refs = 1;
        if (old) {
            keyset_unref_locked(old, &dead);
        }
        store->current = ks;
        store->fetched_at = now;
        if (store->refresher && !old) {
            /* First keys: the refresher learns when they are due. */
            logto_refresher_kick(store->refresher);
        }
        store->retry_after = 0;
        set_trusted_until(store, now + store->conf.ttl + store->conf.max_stale);
        apr_snprintf(status, sizeof(status), "HTTP %d", f.status);
        logto_log_write(LOGTO_LOG_INFO, APR_SUCCESS, LOGTO_MARK,
                        LOGTO0201 "fetched keys of %s from %s (%s): %s, %d key(s), "
                                  "%d skipped, %ld ms",
                        store->conf.issuer, f.url, cause, store->conf.jwks_file ? "file" : status,
                        f.jwks->keys->nelts, f.jwks->skipped, ms);
    }
    else {
        store->failures++;
        store->retry_after = done + store->conf.refresh_interval;
        /* A JWKS URL that failed may have moved: ask discovery again next time. */
        store->discovered_uri[0] = '\0';
        if (f.mismatch) {
            logto_log_write(LOGTO_LOG_ERR, APR_SUCCESS, LOGTO_MARK,
                            LOGTO0205 "issuer %s is unusable: its discovery document names "
                                      "another issuer; no key of it is trusted",
                            store->conf.issuer);
        }
        logto_log_write(LOGTO_LOG_WARNING, APR_SUCCESS, LOGTO_MARK,
                        LOGTO0202 "fetching keys of %s from %s (%s) failed after %ld ms: %s",
                        store->conf.issuer, f.url ? f.url : "-", cause, ms,
                        f.why ? f.why : "unknown error");
        if (store->current) {
            logto_log_write(LOGTO_LOG_WARNING, APR_SUCCESS, LOGTO_MARK,
                            LOGTO0203 "still trusting the keys of %s fetched %ld s ago, for at "
                                      "most %ld s more",
                            store->conf.issuer, (long)apr_time_sec(now - store->fetched_at),
                            (long)apr_time_sec(store->fetched_at + store->conf.ttl
                                               + store->conf.max_stale - now));
        }
        if (f.pool) {
            apr_pool_destroy(f.pool);
        }
    }
    apr_thread_cond_broadcast(store->fetched);
    if (dead) {
        /* Destroying under the lock is safe: the pool is no one's anymore. */
        apr_pool_destroy(dead);
    }
}

/* Waits for the fetch in flight; bounded so that a stuck fetch cannot hold
 * requests longer than the fetch's own timeout. */
static void wait_fetch_locked(logto_store_t *store)
{
    apr_time_t until = apr_time_now() + store->conf.http_timeout + apr_time_from_msec(500);

    while (store->fetching) {
        apr_interval_time_t left = remaining(until);

        if (left <= 0
            || apr_thread_cond_timedwait(store->fetched, store->mutex, left) == APR_TIMEUP) {
            break;
        }
    }
}

/* Starts a TTL refresh if one is due: the refresher is woken, or, without
 * one, this thread does it. */
static void refresh_if_due_locked(logto_store_t *store, apr_time_t now)
{
    if (store->is_static || !store->current || store->fetching
        || now < store->fetched_at + store->conf.ttl || now < store->retry_after) {
        return;
    }
    if (store->refresher) {
        logto_refresher_kick(store->refresher);
    }
    else {
        /* This fetch also answers a kid unknown to the old set. */
        store->last_kid_fetch = now;
        fetch_locked(store, now, "ttl");
    }
}

apr_status_t logto_store_key(logto_store_t *store, const char *kid, logto_alg_e alg, apr_time_t now,
                             apr_pool_t *p, const logto_jwk_t **key, logto_result_t *res)
{
    apr_pool_t *dead = NULL;
    keyref_t *ref;
    int attempts = 0;

    apr_thread_mutex_lock(store->mutex);
    for (;;) {
        expire_locked(store, now, &dead);
        if (store->current) {
            refresh_if_due_locked(store, now);
        }
        if (store->current) {
            const logto_jwk_t *found = logto_jwks_find(store->current->jwks, kid, alg);

            if (found) {
                ref = apr_palloc(p, sizeof(*ref));
                ref->store = store;
                ref->ks = store->current;
                ref->ks->refs++;
                apr_thread_mutex_unlock(store->mutex);
                apr_pool_cleanup_register(p, ref, keyref_release, apr_pool_cleanup_null);
                *key = found;
                logto_result_reset(res);
                break;
            }
            if (kid && logto_jwks_has_kid(store->current->jwks, kid)) {
                apr_thread_mutex_unlock(store->mutex);
                logto_result_set(res, LOGTO_ALG_NOT_ALLOWED,
                                 "algorithm does not fit the issuer's key with this kid");
                break;
            }
        }
        if (store->is_static || attempts > 0) {
            apr_thread_mutex_unlock(store->mutex);
            logto_result_set(res, store->current ? LOGTO_UNKNOWN_KID : LOGTO_KEYS_UNAVAILABLE,
                             store->current ? "kid not in the issuer's key set"
                                            : "no trusted keys");
            break;
        }
        attempts++;
        if (store->fetching) {
            wait_fetch_locked(store);
            continue;
        }
        if (now < store->retry_after
            || (store->current && now < store->last_kid_fetch + store->conf.refresh_interval)) {
            /* Rate limited: the kid stays unknown (or the keys unavailable)
             * until the interval has passed. */
            logto_log_write(LOGTO_LOG_DEBUG, APR_SUCCESS, LOGTO_MARK,
                            LOGTO0207 "not refetching keys of %s yet (LogtoJwksRefreshInterval)",
                            store->conf.issuer);
            continue;
        }
        if (store->current) {
            store->last_kid_fetch = now;
        }
        fetch_locked(store, now, store->current ? "unknown kid" : "no keys yet");
    }
    if (dead) {
        apr_pool_destroy(dead);
    }
    return res->status;
}

int logto_store_ready(logto_store_t *store, apr_time_t now)
{
    apr_pool_t *dead = NULL;
    int ready;

    apr_thread_mutex_lock(store->mutex);
    expire_locked(store, now, &dead);
    if (!store->current && !store->is_static) {
        if (store->fetching) {
            wait_fetch_locked(store);
        }
        else if (now >= store->retry_after) {
            fetch_locked(store, now, "no keys yet");
        }
    }
    ready = store->current != NULL;
    apr_thread_mutex_unlock(store->mutex);
    if (dead) {
        apr_pool_destroy(dead);
    }
    return ready;
}

apr_uint32_t logto_store_epoch(logto_store_t *store)
{
    return apr_atomic_read32(&store->epoch);
}

int logto_store_usable(logto_store_t *store, apr_time_t now)
{
    return (apr_time_t)apr_atomic_read64(&store->trusted_until) >= now;
}

int logto_store_has_kid(logto_store_t *store, const char *kid, apr_time_t now)
{
    int found;

    apr_thread_mutex_lock(store->mutex);
    found = store->current && logto_store_usable(store, now)
            && logto_jwks_has_kid(store->current->jwks, kid);
    apr_thread_mutex_unlock(store->mutex);
    return found;
}

int logto_store_has_key(logto_store_t *store, const char *kid, const unsigned char *fingerprint,
                        apr_time_t now)
{
    int i, found = 0;

    apr_thread_mutex_lock(store->mutex);
    for (i = 0; store->current && logto_store_usable(store, now)
                && i < store->current->jwks->keys->nelts && !found;
         i++) {
        const logto_jwk_t *key = APR_ARRAY_IDX(store->current->jwks->keys, i, const logto_jwk_t *);

        found = ((!kid && !key->kid) || (kid && key->kid && strcmp(kid, key->kid) == 0))
                && memcmp(key->fingerprint, fingerprint, LOGTO_KEY_FP_LEN) == 0;
    }
    apr_thread_mutex_unlock(store->mutex);
    return found;
}

apr_status_t logto_store_vouch(logto_store_t *store, const char *kid,
                               const unsigned char *fingerprint, apr_time_t now,
                               apr_uint32_t *epoch)
{
    int i, found = 0;

    if (!logto_store_ready(store, now)) {
        return APR_NOTFOUND;
    }
    apr_thread_mutex_lock(store->mutex);
    /* The epoch only moves under the mutex: read with the set, they agree. */
    *epoch = apr_atomic_read32(&store->epoch);
    for (i = 0; store->current && logto_store_usable(store, now)
                && i < store->current->jwks->keys->nelts && !found;
         i++) {
        const logto_jwk_t *key = APR_ARRAY_IDX(store->current->jwks->keys, i, const logto_jwk_t *);

        found = ((!kid && !key->kid) || (kid && key->kid && strcmp(kid, key->kid) == 0))
                && memcmp(key->fingerprint, fingerprint, LOGTO_KEY_FP_LEN) == 0;
    }
    apr_thread_mutex_unlock(store->mutex);
    return found ? APR_SUCCESS : APR_NOTFOUND;
}

void logto_store_refresh_due(logto_store_t *store, apr_time_t now, apr_time_t *next)
{
    *next = 0;
    if (store->is_static) {
        return;
    }
    apr_thread_mutex_lock(store->mutex);
    if (store->current && !store->fetching && now >= store->fetched_at + store->conf.ttl
        && now >= store->retry_after) {
        fetch_locked(store, now, "ttl");
    }
    if (store->current) {
        *next = store->fetched_at + store->conf.ttl;
        if (store->retry_after > *next) {
            *next = store->retry_after;
        }
    }
    apr_thread_mutex_unlock(store->mutex);
}

void logto_store_stats(logto_store_t *store, logto_store_stats_t *stats)
{
    apr_thread_mutex_lock(store->mutex);
    stats->fetches = store->fetches;
    stats->failures = store->failures;
    stats->keys = store->current ? (apr_uint32_t)store->current->jwks->keys->nelts : 0;
    apr_thread_mutex_unlock(store->mutex);
}

/* ---- the refresher thread -------------------------------------------------------- */

static void *APR_THREAD_FUNC refresher_main(apr_thread_t *thread, void *data)
{
    logto_refresher_t *r = data;

    apr_thread_mutex_lock(r->mutex);
    while (!r->stopping) {
        apr_time_t now = apr_time_now(), soonest = 0;
        int i;

        r->kicked = 0;
        for (i = 0; i < r->stores->nelts && !r->stopping; i++) {
            logto_store_t *store = APR_ARRAY_IDX(r->stores, i, logto_store_t *);
            apr_time_t next;

            /* Stores are only appended; the array is read under our mutex,
             * released while a store fetches so attaching never waits long. */
            apr_thread_mutex_unlock(r->mutex);
            logto_store_refresh_due(store, now, &next);
            apr_thread_mutex_lock(r->mutex);
            if (next && (!soonest || next < soonest)) {
                soonest = next;
            }
        }
        if (r->stopping || r->kicked) {
            continue;
        }
        if (soonest) {
            apr_interval_time_t wait = soonest - apr_time_now();

            apr_thread_cond_timedwait(
                r->wake, r->mutex, wait > apr_time_from_msec(50) ? wait : apr_time_from_msec(50));
        }
        else {
            apr_thread_cond_wait(r->wake, r->mutex);
        }
    }
    apr_thread_mutex_unlock(r->mutex);
    (void)thread;
    return NULL;
}

static apr_status_t refresher_stop(void *data)
{
    logto_refresher_t *r = data;
    apr_status_t rv;

    apr_thread_mutex_lock(r->mutex);
    r->stopping = 1;
    apr_thread_cond_signal(r->wake);
    apr_thread_mutex_unlock(r->mutex);
    apr_thread_join(&rv, r->thread);
    return APR_SUCCESS;
}

apr_status_t logto_refresher_start(logto_refresher_t **out, apr_pool_t *p)
{
    logto_refresher_t *r = apr_pcalloc(p, sizeof(*r));
    apr_status_t rv;

    r->pool = p;
    r->stores = apr_array_make(p, 4, sizeof(logto_store_t *));
    if ((rv = apr_thread_mutex_create(&r->mutex, APR_THREAD_MUTEX_DEFAULT, p)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&r->wake, p)) != APR_SUCCESS
        || (rv = apr_thread_create(&r->thread, NULL, refresher_main, r, p)) != APR_SUCCESS) {
        return rv;
    }
    /* A pre-cleanup: the thread is stopped before any cleanup of p releases
     * the stores it refreshes. */
    apr_pool_pre_cleanup_register(p, r, refresher_stop);
    *out = r;
    return APR_SUCCESS;
}

void logto_refresher_kick(logto_refresher_t *r)
{
    apr_thread_mutex_lock(r->mutex);
    r->kicked = 1;
    apr_thread_cond_signal(r->wake);
    apr_thread_mutex_unlock(r->mutex);
}

/* ---- the registry ------------------------------------------------------------------ */

struct logto_stores {
    apr_pool_t *pool; /* allocated from only under mutex */
    apr_thread_mutex_t *mutex;
    const logto_http_t *http;
    logto_refresher_t *refresher; /* NULL without background refreshes */
    apr_hash_t *by_id;            /* logto_store_conf_id -> logto_store_t * */
};

apr_status_t logto_stores_create(logto_stores_t **out, const logto_http_t *http, int background,
                                 apr_pool_t *p)
{
    logto_stores_t *stores = apr_pcalloc(p, sizeof(*stores));
    apr_status_t rv;

    stores->http = http;
    stores->by_id = apr_hash_make(p);
    if ((rv = apr_pool_create(&stores->pool, p)) != APR_SUCCESS
        || (rv = apr_thread_mutex_create(&stores->mutex, APR_THREAD_MUTEX_DEFAULT, p))
               != APR_SUCCESS) {
        return rv;
    }
    if (background && (rv = logto_refresher_start(&stores->refresher, p)) != APR_SUCCESS) {
        return rv;
    }
    *out = stores;
    return APR_SUCCESS;
}

apr_status_t logto_stores_get(logto_stores_t *stores, const logto_store_conf_t *conf,
                              logto_store_t **out)
{
    apr_status_t rv = APR_SUCCESS;
    const char *id;
    logto_store_t *store;

    apr_thread_mutex_lock(stores->mutex);
    id = logto_store_conf_id(stores->pool, conf);
    store = apr_hash_get(stores->by_id, id, APR_HASH_KEY_STRING);
    if (!store) {
        rv = logto_store_create(&store, conf, stores->http, stores->pool);
        if (rv == APR_SUCCESS) {
            apr_hash_set(stores->by_id, logto_store_id(store), APR_HASH_KEY_STRING, store);
            logto_store_attach(store, stores->refresher);
        }
    }
    apr_thread_mutex_unlock(stores->mutex);
    *out = store;
    return rv;
}

void logto_stores_each(logto_stores_t *stores, void (*fn)(void *baton, logto_store_t *store),
                       void *baton)
{
    apr_hash_index_t *hi;

    apr_thread_mutex_lock(stores->mutex);
    for (hi = apr_hash_first(NULL, stores->by_id); hi; hi = apr_hash_next(hi)) {
        fn(baton, apr_hash_this_val(hi));
    }
    apr_thread_mutex_unlock(stores->mutex);
}
