/* Calls that must not hold a request longer than a deadline, whatever the
 * callee does: they run on a few worker threads, and the caller waits at most
 * its timeout. A call that overruns finishes (or hangs) on its worker while
 * the caller goes on without its result; its job is freed by whichever side
 * lets go last. Used for shared caches across the network, whose providers
 * cannot be interrupted. */
#ifndef LOGTO_OFFLOAD_H
#define LOGTO_OFFLOAD_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct logto_offload logto_offload_t;
typedef struct logto_job logto_job_t;

/* The work: inputs and outputs live in the job's pool (logto_job_pool). */
typedef void logto_job_fn(void *baton, apr_pool_t *pool);

/* Starts `threads` workers and a queue of at most `queue` jobs; a pre-cleanup
 * of p stops them. A worker stuck in a call that never returns does not hold
 * that up: it is left behind, with the memory it needs, until process exit. */
apr_status_t logto_offload_create(logto_offload_t **offload, int threads, int queue, apr_pool_t *p);

/* A new job with its own pool, for the baton and its buffers. */
logto_job_t *logto_job_make(logto_offload_t *offload);
apr_pool_t *logto_job_pool(logto_job_t *job);

/* Queues fn(baton) and waits at most timeout (0: does not wait). Returns
 * APR_SUCCESS when it ran to the end (the baton's outputs are valid),
 * APR_TIMEUP when it did not end in time, APR_EBUSY when the queue is full
 * (it will not run). In every case the caller must logto_job_release() the
 * job once done with the baton. */
apr_status_t logto_job_run(logto_offload_t *offload, logto_job_t *job, logto_job_fn *fn,
                           void *baton, apr_interval_time_t timeout);

void logto_job_release(logto_offload_t *offload, logto_job_t *job);

#endif /* LOGTO_OFFLOAD_H */
