/* mod_auth_logto: LogtoTokenCache with httpd's mod_socache providers.
 *
 * Validations shared between the children of a host (shmcb) or the hosts of
 * a fleet (redis, memcache): the providers are found and created by the
 * directive, set up in post_config, attached in each child, and used by the
 * authentication hook behind the in-process cache. */
#include <string.h>

#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <ap_provider.h>
#include <ap_socache.h>
#include <util_mutex.h>

#include "logto_auth.h"
#include "logto_jws.h"
#include "logto_lognum.h"
#include "logto_offload.h"
#include "logto_tcache.h"
#include "mod_auth_logto.h"

APLOG_USE_MODULE(auth_logto);

/* Workers (and queue) per child for shared caches across the network. */
#define SOCACHE_WORKERS 2
#define SOCACHE_QUEUE   64
/* How long a shared cache that failed or answered slowly is left alone. */
#define SOCACHE_BACKOFF apr_time_from_sec(5)
#define SOCACHE_SLOW    apr_time_from_msec(50)

/* Per child: set in child_init before any request thread runs. */
static logto_offload_t *offload;         /* NULL without a network cache */
static volatile apr_uint64_t skip_until; /* atomic: backed off until then */

static apr_status_t shared_get(void *baton, const unsigned char *key, apr_size_t key_len,
                               apr_pool_t *p, unsigned char **value, apr_size_t *len);
static void shared_put(void *baton, const unsigned char *key, apr_size_t key_len,
                       const unsigned char *value, apr_size_t len, apr_time_t expiry,
                       apr_pool_t *p);

/* ---- the caches of a configuration ------------------------------------------------------- */

/* Shared caches by spec, so that locations naming the same one share it. Kept
 * in pconf's user data: created anew for each configuration generation. */
static const char socaches_key[] = "mod_auth_logto/socaches";

static apr_hash_t *socaches(apr_pool_t *pconf)
{
    void *data = NULL;
    apr_hash_t *all;

    apr_pool_userdata_get(&data, socaches_key, pconf);
    if (data) {
        return data;
    }
    all = apr_hash_make(pconf);
    apr_pool_userdata_set(all, socaches_key, apr_pool_cleanup_null, pconf);
    return all;
}

const char *logto_socache_find(cmd_parms *cmd, const char *arg, logto_socache_t **out)
{
    const char *sep, *name, *args, *err;
    logto_socache_t *sc;
    apr_hash_t *all = socaches(cmd->server->process->pconf);
    sc = apr_hash_get(all, arg, APR_HASH_KEY_STRING);
    if (!sc) {
        sep = strchr(arg, ':');
        name = sep ? apr_pstrmemdup(cmd->pool, arg, (apr_size_t)(sep - arg)) : arg;
        args = sep ? sep + 1 : NULL;
        sc = apr_pcalloc(cmd->pool, sizeof(*sc));
        sc->spec = apr_pstrdup(cmd->pool, arg);
        sc->backend.get = shared_get;
        sc->backend.put = shared_put;
        sc->backend.baton = sc;
        /* shmcb and dbm live on this host and answer at once; any other
         * provider (redis, memcache, ...) talks to a server. */
        sc->remote = strcmp(name, "shmcb") != 0 && strcmp(name, "dbm") != 0;
        sc->provider =
            ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name, AP_SOCACHE_PROVIDER_VERSION);
        if (!sc->provider) {
            return apr_psprintf(cmd->pool,
                                "unknown cache '%s': 'off', 'memory' or a mod_socache provider "
                                "(shmcb, redis, memcache, ...) whose module is loaded",
                                name);
        }
        err = sc->provider->create(&sc->instance, args, cmd->temp_pool, cmd->pool);
        if (err) {
            return err;
        }
        apr_hash_set(all, sc->spec, APR_HASH_KEY_STRING, sc);
    }
    *out = sc;
    return NULL;
}

/* ---- set up per configuration, attached per child ------------------------------------------ */

static const char socache_mutex_type[] = "auth-logto-tokens";

void logto_socaches_pre_config(apr_pool_t *pconf)
{
    ap_mutex_register(pconf, socache_mutex_type, NULL, APR_LOCK_DEFAULT, 0);
}

static apr_status_t socache_release(void *data)
{
    logto_socache_t *sc = data;

    sc->provider->destroy(sc->instance, sc->server);
    return APR_SUCCESS;
}

apr_status_t logto_socaches_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    static struct ap_socache_hints hints = {64, 4096, 600};
    apr_hash_index_t *hi;
    apr_status_t rv;

    for (hi = apr_hash_first(ptemp, socaches(s->process->pconf)); hi; hi = apr_hash_next(hi)) {
        logto_socache_t *sc = apr_hash_this_val(hi);

        if (sc->provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
            rv = ap_global_mutex_create(&sc->mutex, NULL, socache_mutex_type, NULL, s, pconf, 0);
            if (rv != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                             "LogtoTokenCache %s: cannot create its mutex", sc->spec);
                return rv;
            }
        }
        sc->server = s;
        rv = sc->provider->init(sc->instance, "mod_auth_logto", &hints, s, pconf);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "LogtoTokenCache %s: cannot set it up",
                         sc->spec);
            return rv;
        }
        apr_pool_cleanup_register(pconf, sc, socache_release, apr_pool_cleanup_null);
    }
    return APR_SUCCESS;
}

apr_status_t logto_socaches_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_hash_index_t *hi;
    int remote = 0;

    for (hi = apr_hash_first(pchild, socaches(s->process->pconf)); hi; hi = apr_hash_next(hi)) {
        logto_socache_t *sc = apr_hash_this_val(hi);

        remote |= sc->remote;
        if (sc->mutex) {
            apr_status_t rv = apr_global_mutex_child_init(
                &sc->mutex, apr_global_mutex_lockfile(sc->mutex), pchild);

            if (rv != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                             "LogtoTokenCache %s: cannot attach its mutex", sc->spec);
                return rv;
            }
        }
    }
    if (remote) {
        apr_status_t rv = logto_offload_create(&offload, SOCACHE_WORKERS, SOCACHE_QUEUE, pchild);

        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         "LogtoTokenCache: cannot start the workers of network caches");
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* ---- the shared cache (mod_socache) ------------------------------------------------------
 * A shared cache is an optimisation: it is skipped, never waited on, when it
 * fails, is busy or is slow. Local providers (shmcb, dbm) are called directly
 * under a trylock; providers across the network (redis, memcache) are called
 * on the offload workers, so a lookup waits at most SOCACHE_SLOW and a store
 * not at all, even when the provider itself hangs. */

static int socache_usable(void)
{
    return (apr_time_t)apr_atomic_read64(&skip_until) <= apr_time_now();
}

static void socache_back_off(server_rec *s, const logto_socache_t *sc, apr_status_t rv,
                             const char *what)
{
    apr_atomic_set64(&skip_until, (apr_uint64_t)(apr_time_now() + SOCACHE_BACKOFF));
    ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                 LOGTO0301 "LogtoTokenCache %s %s: not used for the next %d s", sc->spec, what,
                 (int)apr_time_sec(SOCACHE_BACKOFF));
}

typedef struct socache_call {
    const logto_socache_t *sc;
    server_rec *server;
    int store; /* else retrieve */
    unsigned char key[LOGTO_TCACHE_KEY_LEN];
    unsigned char *value;
    unsigned int len; /* in: buffer size or value length; out: value length */
    apr_time_t expiry;
    apr_status_t rv;
    apr_time_t took;
} socache_call_t;

static void socache_call_run(void *baton, apr_pool_t *pool)
{
    socache_call_t *call = baton;
    const ap_socache_provider_t *provider = call->sc->provider;
    apr_time_t started = apr_time_now();

    if (call->store) {
        call->rv =
            provider->store(call->sc->instance, call->server, call->key, LOGTO_TCACHE_KEY_LEN,
                            call->expiry, call->value, call->len, pool);
    }
    else {
        call->rv = provider->retrieve(call->sc->instance, call->server, call->key,
                                      LOGTO_TCACHE_KEY_LEN, call->value, &call->len, pool);
    }
    call->took = apr_time_now() - started;
}

/* After a call: a failure or a slow answer backs the cache off. */
static void socache_judge(const socache_call_t *call)
{
    if (call->rv != APR_SUCCESS && call->rv != APR_NOTFOUND) {
        socache_back_off(call->server, call->sc, call->rv, "failed");
    }
    else if (call->took > SOCACHE_SLOW) {
        socache_back_off(call->server, call->sc, APR_SUCCESS, "answered slowly");
    }
}

/* Runs a call on the offload workers; the result is in call only when
 * APR_SUCCESS is returned. */
static void socache_offloaded_run(void *baton, apr_pool_t *pool)
{
    socache_call_t *call = baton;

    socache_call_run(call, pool);
    if (call->store) {
        /* Nobody waits for a store: judge it here. */
        socache_judge(call);
    }
}

/* Makes the call (directly or offloaded) and returns it, or NULL when the
 * cache was skipped or gave no usable answer in time. */
static socache_call_t *socache_call(const logto_socache_t *sc, apr_pool_t *p, int store,
                                    const unsigned char *key, const unsigned char *value,
                                    unsigned int len, apr_time_t expiry)
{
    socache_call_t *call;
    logto_job_t *job = NULL;
    apr_pool_t *pool = p;
    apr_status_t rv;

    if (!socache_usable() || (sc->remote && !offload)) {
        return NULL;
    }
    if (sc->remote) {
        if (!(job = logto_job_make(offload))) {
            return NULL;
        }
        pool = logto_job_pool(job);
    }
    call = apr_pcalloc(pool, sizeof(*call));
    call->sc = sc;
    call->server = sc->server;
    call->store = store;
    call->expiry = expiry;
    memcpy(call->key, key, LOGTO_TCACHE_KEY_LEN);
    call->len = store ? len : LOGTO_SHARED_VALUE_MAX;
    call->value = store ? apr_pmemdup(pool, value, len) : apr_palloc(pool, LOGTO_SHARED_VALUE_MAX);
    if (!sc->remote) {
        if (sc->mutex && apr_global_mutex_trylock(sc->mutex) != APR_SUCCESS) {
            return NULL;
        }
        socache_call_run(call, p);
        if (sc->mutex) {
            apr_global_mutex_unlock(sc->mutex);
        }
        socache_judge(call);
        return call;
    }
    rv = logto_job_run(offload, job, socache_offloaded_run, call, store ? 0 : SOCACHE_SLOW);
    if (rv == APR_SUCCESS && !store) {
        socache_call_t *copy = apr_pmemdup(p, call, sizeof(*call));

        copy->value = apr_pmemdup(p, call->value, call->len);
        socache_judge(copy);
        logto_job_release(offload, job);
        return copy;
    }
    if (rv == APR_TIMEUP && !store) {
        socache_back_off(sc->server, sc, APR_SUCCESS, "is not answering");
    }
    logto_job_release(offload, job);
    return NULL;
}

/* logto_shared_cache_t over mod_socache: lib/ decides what to trust. */
static apr_status_t shared_get(void *baton, const unsigned char *key, apr_size_t key_len,
                               apr_pool_t *p, unsigned char **value, apr_size_t *len)
{
    socache_call_t *call;

    if (key_len != LOGTO_TCACHE_KEY_LEN || !(call = socache_call(baton, p, 0, key, NULL, 0, 0))) {
        return APR_EGENERAL;
    }
    if (call->rv != APR_SUCCESS) {
        return call->rv;
    }
    *value = call->value;
    *len = call->len;
    return APR_SUCCESS;
}

static void shared_put(void *baton, const unsigned char *key, apr_size_t key_len,
                       const unsigned char *value, apr_size_t len, apr_time_t expiry, apr_pool_t *p)
{
    if (key_len == LOGTO_TCACHE_KEY_LEN && len <= LOGTO_SHARED_VALUE_MAX) {
        socache_call(baton, p, 1, key, value, (unsigned int)len, expiry);
    }
}

const logto_shared_cache_t *logto_socache_backend(logto_socache_t *sc)
{
    return &sc->backend;
}
