/* Strict JSON for untrusted input: one value, duplicate members refused
 * (RFC 8725 section 3.3), nesting depth bounded before jansson recurses. */
#ifndef LOGTO_JSON_H
#define LOGTO_JSON_H

#include <apr_pools.h>
#include <jansson.h>

/* Deepest nesting accepted in a token part or a key set. */
#define LOGTO_JSON_MAX_DEPTH 16

/* Parses text as a JSON object; the object is released by a cleanup of p.
 * *why is a short reason on failure (never the input). */
apr_status_t logto_json_parse_object(apr_pool_t *p, const char *text, apr_size_t len, json_t **obj,
                                     const char **why);

/* Member lookups: 0 when absent, 1 when present with the right type (value
 * stored), -1 when present with another type. */
int logto_json_string(json_t *obj, const char *key, const char **value);
int logto_json_array(json_t *obj, const char *key, json_t **value);

#endif /* LOGTO_JSON_H */
