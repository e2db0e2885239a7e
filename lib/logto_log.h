/* Logging from the core goes through a callback set by the caller (the httpd
 * glue wires it to ap_log_error); the core is silent until one is set. */
#ifndef LOGTO_LOG_H
#define LOGTO_LOG_H

#include <stdarg.h>
#include <apr_errno.h>

/* Levels have the values of httpd's APLOG_* so the glue passes them through. */
typedef enum {
    LOGTO_LOG_ERR = 3,
    LOGTO_LOG_WARNING = 4,
    LOGTO_LOG_NOTICE = 5,
    LOGTO_LOG_INFO = 6,
    LOGTO_LOG_DEBUG = 7,
    LOGTO_LOG_TRACE1 = 8
} logto_log_level_e;

typedef void logto_log_fn(void *baton, logto_log_level_e level, apr_status_t rv, const char *file,
                          int line, const char *fmt, va_list ap);
typedef int logto_log_enabled_fn(void *baton, logto_log_level_e level);

/* Not thread-safe: call once at start-up, before any thread logs. */
void logto_log_set(logto_log_fn *log, logto_log_enabled_fn *enabled, void *baton);

int logto_log_is_enabled(logto_log_level_e level);

void logto_log_write(logto_log_level_e level, apr_status_t rv, const char *file, int line,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define LOGTO_MARK __FILE__, __LINE__

#endif /* LOGTO_LOG_H */
