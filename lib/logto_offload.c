#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "logto_offload.h"

typedef enum { JOB_NEW, JOB_QUEUED, JOB_RUNNING, JOB_DONE } job_state_e;

struct logto_job {
    apr_pool_t *pool; /* unmanaged; owns the job */
    logto_job_fn *fn;
    void *baton;
    job_state_e state; /* guarded by the offload's mutex */
    int refs;          /* caller + queue/worker; guarded likewise */
    logto_job_t *next;
};

struct logto_offload {
    apr_pool_t *own; /* unmanaged: outlives the creator's pool while a
                        worker may still be stuck in a call */
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *work; /* a job was queued, or stopping */
    apr_thread_cond_t *done; /* a job ended */
    logto_job_t *head, *tail;
    int queued;
    int queue_max;
    int stopping;
    int nthreads;
    int live; /* workers not yet leaving */
    apr_thread_t **threads;
};

/* How long stopping waits for idle workers to leave. */
#define STOP_WAIT apr_time_from_msec(200)

/* Called with the mutex held; destroys the job when nobody holds it. */
static apr_pool_t *unref_locked(logto_job_t *job)
{
    return (--job->refs == 0) ? job->pool : NULL;
}

static void *APR_THREAD_FUNC worker_main(apr_thread_t *thread, void *data)
{
    logto_offload_t *off = data;

    (void)thread;
    apr_thread_mutex_lock(off->mutex);
    for (;;) {
        logto_job_t *job;
        apr_pool_t *dead;

        while (!off->head && !off->stopping) {
            apr_thread_cond_wait(off->work, off->mutex);
        }
        if (off->stopping) {
            break;
        }
        job = off->head;
        off->head = job->next;
        if (!off->head) {
            off->tail = NULL;
        }
        off->queued--;
        job->state = JOB_RUNNING;
        apr_thread_mutex_unlock(off->mutex);

        job->fn(job->baton, job->pool);

        apr_thread_mutex_lock(off->mutex);
        job->state = JOB_DONE;
        apr_thread_cond_broadcast(off->done);
        dead = unref_locked(job);
        if (dead) {
            apr_pool_destroy(dead);
        }
    }
    off->live--;
    apr_thread_cond_broadcast(off->done);
    apr_thread_mutex_unlock(off->mutex);
    return NULL;
}

/* Stops the workers. Idle ones leave at once and are joined, and then the
 * offload's memory goes; a worker stuck in a call that never returns is left
 * behind with that memory, so that process exit is never held up by it. */
static apr_status_t offload_stop(void *data)
{
    logto_offload_t *off = data;
    apr_time_t until = apr_time_now() + STOP_WAIT;
    apr_status_t rv;
    int i, all_left;

    apr_thread_mutex_lock(off->mutex);
    off->stopping = 1;
    apr_thread_cond_broadcast(off->work);
    while (off->head) {
        logto_job_t *job = off->head;
        apr_pool_t *dead;

        off->head = job->next;
        dead = unref_locked(job);
        if (dead) {
            apr_pool_destroy(dead);
        }
    }
    off->tail = NULL;
    while (off->live > 0 && apr_time_now() < until) {
        apr_thread_cond_timedwait(off->done, off->mutex, until - apr_time_now());
    }
    all_left = (off->live == 0);
    apr_thread_mutex_unlock(off->mutex);
    if (all_left) {
        for (i = 0; i < off->nthreads; i++) {
            apr_thread_join(&rv, off->threads[i]);
        }
        apr_pool_destroy(off->own);
    }
    return APR_SUCCESS;
}

apr_status_t logto_offload_create(logto_offload_t **out, int threads, int queue, apr_pool_t *p)
{
    apr_pool_t *own;
    logto_offload_t *off;
    apr_status_t rv;
    int i;

    if ((rv = apr_pool_create_unmanaged_ex(&own, NULL, NULL)) != APR_SUCCESS) {
        return rv;
    }
    off = apr_pcalloc(own, sizeof(*off));
    off->own = own;
    off->queue_max = queue;
    off->threads = apr_pcalloc(own, sizeof(apr_thread_t *) * (apr_size_t)threads);
    if ((rv = apr_thread_mutex_create(&off->mutex, APR_THREAD_MUTEX_DEFAULT, own)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&off->work, own)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&off->done, own)) != APR_SUCCESS) {
        apr_pool_destroy(own);
        return rv;
    }
    for (i = 0; i < threads; i++) {
        apr_thread_mutex_lock(off->mutex);
        off->live++;
        apr_thread_mutex_unlock(off->mutex);
        if ((rv = apr_thread_create(&off->threads[i], NULL, worker_main, off, own))
            != APR_SUCCESS) {
            apr_thread_mutex_lock(off->mutex);
            off->live--;
            apr_thread_mutex_unlock(off->mutex);
            break;
        }
        off->nthreads++;
    }
    /* A pre-cleanup: the workers are stopped before anything of p goes. */
    apr_pool_pre_cleanup_register(p, off, offload_stop);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = off;
    return APR_SUCCESS;
}

logto_job_t *logto_job_make(logto_offload_t *offload)
{
    apr_pool_t *pool;
    logto_job_t *job;

    (void)offload;
    if (apr_pool_create_unmanaged_ex(&pool, NULL, NULL) != APR_SUCCESS) {
        return NULL;
    }
    job = apr_pcalloc(pool, sizeof(*job));
    job->pool = pool;
    job->refs = 1;
    job->state = JOB_NEW;
    return job;
}

apr_pool_t *logto_job_pool(logto_job_t *job)
{
    return job->pool;
}

apr_status_t logto_job_run(logto_offload_t *off, logto_job_t *job, logto_job_fn *fn, void *baton,
                           apr_interval_time_t timeout)
{
    apr_time_t deadline = apr_time_now() + timeout;
    apr_status_t rv;

    apr_thread_mutex_lock(off->mutex);
    if (off->stopping || off->queued >= off->queue_max) {
        apr_thread_mutex_unlock(off->mutex);
        return APR_EBUSY;
    }
    job->fn = fn;
    job->baton = baton;
    job->state = JOB_QUEUED;
    job->refs++; /* the queue's, then the worker's */
    job->next = NULL;
    if (off->tail) {
        off->tail->next = job;
    }
    else {
        off->head = job;
    }
    off->tail = job;
    off->queued++;
    apr_thread_cond_signal(off->work);
    while (job->state != JOB_DONE) {
        apr_interval_time_t left = deadline - apr_time_now();

        if (left <= 0) {
            break;
        }
        apr_thread_cond_timedwait(off->done, off->mutex, left);
    }
    rv = (job->state == JOB_DONE) ? APR_SUCCESS : APR_TIMEUP;
    apr_thread_mutex_unlock(off->mutex);
    return rv;
}

void logto_job_release(logto_offload_t *off, logto_job_t *job)
{
    apr_pool_t *dead;

    apr_thread_mutex_lock(off->mutex);
    dead = unref_locked(job);
    apr_thread_mutex_unlock(off->mutex);
    if (dead) {
        apr_pool_destroy(dead);
    }
}
