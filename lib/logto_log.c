#include "logto_log.h"

/* Set once before threads start (logto_log_set), read-only afterwards. */
static logto_log_fn *log_fn;
static logto_log_enabled_fn *log_enabled_fn;
static void *log_baton;

void logto_log_set(logto_log_fn *log, logto_log_enabled_fn *enabled, void *baton)
{
    log_fn = log;
    log_enabled_fn = enabled;
    log_baton = baton;
}

int logto_log_is_enabled(logto_log_level_e level)
{
    if (!log_fn) {
        return 0;
    }
    return log_enabled_fn ? log_enabled_fn(log_baton, level) : 1;
}

void logto_log_write(logto_log_level_e level, apr_status_t rv, const char *file, int line,
                     const char *fmt, ...)
{
    va_list ap;

    if (!logto_log_is_enabled(level)) {
        return;
    }
    va_start(ap, fmt);
    log_fn(log_baton, level, rv, file, line, fmt, ap);
    va_end(ap);
}
