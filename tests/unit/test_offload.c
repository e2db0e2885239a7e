/* The offload workers: a caller never waits past its timeout, whatever the
 * call does, and nothing leaks whichever side lets go of a job last. */
#include <apr_atomic.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>

#include "logto_offload.h"
#include "unit.h"

static volatile apr_uint32_t calls_begun; /* calls that have begun, all tests */

typedef struct work {
    apr_interval_time_t sleep;    /* how long the call takes */
    volatile apr_uint32_t *ended; /* counts calls that ran to the end (not in the job) */
    int input;
    int output;
} work_t;

static void work_run(void *baton, apr_pool_t *pool)
{
    work_t *w = baton;

    (void)pool;
    apr_atomic_inc32(&calls_begun);
    if (w->sleep) {
        apr_sleep(w->sleep);
    }
    w->output = w->input * 2;
    apr_atomic_inc32(w->ended);
}

static work_t *work_make(logto_job_t *job, int input, apr_interval_time_t sleep,
                         volatile apr_uint32_t *ended)
{
    work_t *w = apr_pcalloc(logto_job_pool(job), sizeof(*w));

    w->input = input;
    w->sleep = sleep;
    w->ended = ended;
    return w;
}

/* Waits (up to 5 s) until a counter reaches n. */
static void wait_ended(volatile apr_uint32_t *ended, apr_uint32_t n)
{
    apr_time_t until = apr_time_now() + apr_time_from_sec(5);

    while (apr_atomic_read32(ended) < n && apr_time_now() < until) {
        apr_sleep(apr_time_from_msec(5));
    }
    assert_int_equal(apr_atomic_read32(ended), n);
}

static void runs_and_returns_the_result(void **state)
{
    apr_pool_t *p = *state, *sub;
    logto_offload_t *off;
    volatile apr_uint32_t ended = 0;
    logto_job_t *job;
    work_t *w;

    assert_int_equal(apr_pool_create(&sub, p), APR_SUCCESS);
    assert_int_equal(logto_offload_create(&off, 2, 4, sub), APR_SUCCESS);
    job = logto_job_make(off);
    assert_non_null(job);
    w = work_make(job, 21, 0, &ended);
    assert_int_equal(logto_job_run(off, job, work_run, w, apr_time_from_sec(5)), APR_SUCCESS);
    assert_int_equal(w->output, 42);
    logto_job_release(off, job);
    apr_pool_destroy(sub);
    assert_int_equal(ended, 1);
}

static void caller_waits_no_longer_than_its_timeout(void **state)
{
    apr_pool_t *p = *state, *sub;
    logto_offload_t *off;
    volatile apr_uint32_t ended = 0;
    logto_job_t *job;
    apr_time_t started;

    assert_int_equal(apr_pool_create(&sub, p), APR_SUCCESS);
    assert_int_equal(logto_offload_create(&off, 1, 4, sub), APR_SUCCESS);
    job = logto_job_make(off);
    started = apr_time_now();
    assert_int_equal(logto_job_run(off, job, work_run,
                                   work_make(job, 1, apr_time_from_msec(400), &ended),
                                   apr_time_from_msec(50)),
                     APR_TIMEUP);
    assert_true(apr_time_now() - started < apr_time_from_msec(300));
    /* the caller lets go first; the worker frees the job when it ends */
    logto_job_release(off, job);
    wait_ended(&ended, 1);
    apr_pool_destroy(sub);
}

static void no_wait_at_all_with_a_zero_timeout(void **state)
{
    apr_pool_t *p = *state, *sub;
    logto_offload_t *off;
    volatile apr_uint32_t ended = 0;
    logto_job_t *job;
    apr_status_t rv;

    assert_int_equal(apr_pool_create(&sub, p), APR_SUCCESS);
    assert_int_equal(logto_offload_create(&off, 1, 4, sub), APR_SUCCESS);
    job = logto_job_make(off);
    rv = logto_job_run(off, job, work_run, work_make(job, 1, apr_time_from_msec(100), &ended), 0);
    assert_int_equal(rv, APR_TIMEUP);
    logto_job_release(off, job);
    wait_ended(&ended, 1);
    apr_pool_destroy(sub);
}

static void full_queue_refuses_at_once(void **state)
{
    apr_pool_t *p = *state, *sub;
    logto_offload_t *off;
    volatile apr_uint32_t ended = 0;
    logto_job_t *jobs[3];
    apr_uint32_t before;
    int i;

    assert_int_equal(apr_pool_create(&sub, p), APR_SUCCESS);
    /* one worker, a queue of one: a busy worker plus one waiting job */
    assert_int_equal(logto_offload_create(&off, 1, 1, sub), APR_SUCCESS);
    for (i = 0; i < 3; i++) {
        jobs[i] = logto_job_make(off);
    }
    before = apr_atomic_read32(&calls_begun);
    assert_int_equal(logto_job_run(off, jobs[0], work_run,
                                   work_make(jobs[0], 1, apr_time_from_msec(300), &ended), 0),
                     APR_TIMEUP);
    wait_ended(&calls_begun, before + 1); /* the worker has taken it */
    assert_int_equal(logto_job_run(off, jobs[1], work_run,
                                   work_make(jobs[1], 2, apr_time_from_msec(10), &ended), 0),
                     APR_TIMEUP);
    assert_int_equal(logto_job_run(off, jobs[2], work_run, work_make(jobs[2], 3, 0, &ended), 0),
                     APR_EBUSY);
    for (i = 0; i < 3; i++) {
        logto_job_release(off, jobs[i]);
    }
    wait_ended(&ended, 2);
    apr_pool_destroy(sub);
}

static void queued_jobs_dropped_at_stop(void **state)
{
    apr_pool_t *p = *state, *sub;
    logto_offload_t *off;
    volatile apr_uint32_t ended = 0;
    logto_job_t *busy, *waiting;
    apr_uint32_t before;

    assert_int_equal(apr_pool_create(&sub, p), APR_SUCCESS);
    assert_int_equal(logto_offload_create(&off, 1, 4, sub), APR_SUCCESS);
    busy = logto_job_make(off);
    waiting = logto_job_make(off);
    before = apr_atomic_read32(&calls_begun);
    assert_int_equal(
        logto_job_run(off, busy, work_run, work_make(busy, 1, apr_time_from_msec(100), &ended), 0),
        APR_TIMEUP);
    wait_ended(&calls_begun, before + 1); /* the worker has taken it */
    assert_int_equal(logto_job_run(off, waiting, work_run, work_make(waiting, 2, 0, &ended), 0),
                     APR_TIMEUP);
    logto_job_release(off, busy);
    logto_job_release(off, waiting);
    /* stop: the running call ends, the queued one never runs */
    apr_pool_destroy(sub);
    assert_int_equal(ended, 1);
}

static const struct CMUnitTest tests[] = {
    unit_test(runs_and_returns_the_result),
    unit_test(caller_waits_no_longer_than_its_timeout),
    unit_test(no_wait_at_all_with_a_zero_timeout),
    unit_test(full_queue_refuses_at_once),
    unit_test(queued_jobs_dropped_at_stop),
};

LOGTO_TEST_GROUP(offload, tests);
