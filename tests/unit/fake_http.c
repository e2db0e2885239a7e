#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "fake_http.h"
#include "unit.h"

typedef struct route {
    int status;
    const char *body;  /* in the fake's pool, never changed once set */
    const char *error; /* transport failure when set */
    apr_interval_time_t delay;
    unsigned calls;
    unsigned done;
    int called;
    logto_http_opts_t last;
} route_t;

struct fake_http {
    apr_pool_t *pool; /* allocated from under mutex only */
    apr_thread_mutex_t *mutex;
    apr_hash_t *routes; /* url -> route_t */
    unsigned calls;
    unsigned active;
    logto_http_t iface;
};

static route_t *route_locked(fake_http_t *fake, const char *url)
{
    route_t *r = apr_hash_get(fake->routes, url, APR_HASH_KEY_STRING);

    if (!r) {
        r = apr_pcalloc(fake->pool, sizeof(*r));
        r->error = "no answer set for this URL";
        apr_hash_set(fake->routes, apr_pstrdup(fake->pool, url), APR_HASH_KEY_STRING, r);
    }
    return r;
}

static apr_status_t fake_get(void *baton, apr_pool_t *p, const char *url,
                             const logto_http_opts_t *opts, logto_http_resp_t *resp,
                             const char **error)
{
    fake_http_t *fake = baton;
    route_t *r;
    int status;
    const char *body, *err;
    apr_interval_time_t delay;
    int timed_out;

    apr_thread_mutex_lock(fake->mutex);
    r = route_locked(fake, url);
    r->calls++;
    r->called = 1;
    r->last = *opts;
    fake->calls++;
    fake->active++;
    status = r->status;
    body = r->body;
    err = r->error;
    delay = r->delay;
    apr_thread_mutex_unlock(fake->mutex);

    timed_out = delay > opts->timeout;
    if (delay > 0) {
        apr_sleep(timed_out ? opts->timeout : delay);
    }

    apr_thread_mutex_lock(fake->mutex);
    fake->active--;
    r->done++;
    apr_thread_mutex_unlock(fake->mutex);

    if (timed_out) {
        *error = "timed out";
        return APR_TIMEUP;
    }
    if (err) {
        *error = apr_pstrdup(p, err);
        return APR_EGENERAL;
    }
    resp->status = status;
    resp->body = apr_pstrdup(p, body ? body : "");
    resp->len = strlen(resp->body);
    return APR_SUCCESS;
}

fake_http_t *fake_http_create(apr_pool_t *p)
{
    fake_http_t *fake = apr_pcalloc(p, sizeof(*fake));

    assert_int_equal(apr_pool_create(&fake->pool, p), APR_SUCCESS);
    assert_int_equal(apr_thread_mutex_create(&fake->mutex, APR_THREAD_MUTEX_DEFAULT, p),
                     APR_SUCCESS);
    fake->routes = apr_hash_make(fake->pool);
    fake->iface.get = fake_get;
    fake->iface.baton = fake;
    return fake;
}

const logto_http_t *fake_http_iface(fake_http_t *fake)
{
    return &fake->iface;
}

void fake_http_set(fake_http_t *fake, const char *url, int status, const char *body)
{
    route_t *r;

    apr_thread_mutex_lock(fake->mutex);
    r = route_locked(fake, url);
    r->status = status;
    r->body = apr_pstrdup(fake->pool, body);
    r->error = NULL;
    apr_thread_mutex_unlock(fake->mutex);
}

void fake_http_fail(fake_http_t *fake, const char *url, const char *error)
{
    route_t *r;

    apr_thread_mutex_lock(fake->mutex);
    r = route_locked(fake, url);
    r->error = apr_pstrdup(fake->pool, error);
    apr_thread_mutex_unlock(fake->mutex);
}

void fake_http_delay(fake_http_t *fake, const char *url, apr_interval_time_t delay)
{
    apr_thread_mutex_lock(fake->mutex);
    route_locked(fake, url)->delay = delay;
    apr_thread_mutex_unlock(fake->mutex);
}

unsigned fake_http_calls(fake_http_t *fake, const char *url)
{
    unsigned n;

    apr_thread_mutex_lock(fake->mutex);
    if (url) {
        route_t *r = apr_hash_get(fake->routes, url, APR_HASH_KEY_STRING);

        n = r ? r->calls : 0;
    }
    else {
        n = fake->calls;
    }
    apr_thread_mutex_unlock(fake->mutex);
    return n;
}

unsigned fake_http_done(fake_http_t *fake, const char *url)
{
    route_t *r;
    unsigned n;

    apr_thread_mutex_lock(fake->mutex);
    r = apr_hash_get(fake->routes, url, APR_HASH_KEY_STRING);
    n = r ? r->done : 0;
    apr_thread_mutex_unlock(fake->mutex);
    return n;
}

unsigned fake_http_active(fake_http_t *fake)
{
    unsigned n;

    apr_thread_mutex_lock(fake->mutex);
    n = fake->active;
    apr_thread_mutex_unlock(fake->mutex);
    return n;
}

int fake_http_last_opts(fake_http_t *fake, const char *url, logto_http_opts_t *opts)
{
    route_t *r;
    int called = 0;

    apr_thread_mutex_lock(fake->mutex);
    r = apr_hash_get(fake->routes, url, APR_HASH_KEY_STRING);
    if (r && r->called) {
        *opts = r->last;
        called = 1;
    }
    apr_thread_mutex_unlock(fake->mutex);
    return called;
}
