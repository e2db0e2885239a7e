#include "logto_json.h"

static apr_status_t json_release(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

/* Rejects nesting deeper than LOGTO_JSON_MAX_DEPTH in one linear pass, so the
 * recursive parser never sees a hostile depth. Brackets inside strings do not
 * count; the string syntax itself is left to jansson. */
static int depth_ok(const char *text, apr_size_t len)
{
    apr_size_t i;
    int depth = 0, in_string = 0;

    for (i = 0; i < len; i++) {
        char c = text[i];

        if (in_string) {
            if (c == '\\') {
                i++;
            }
            else if (c == '"') {
                in_string = 0;
            }
        }
        else if (c == '"') {
            in_string = 1;
        }
        else if (c == '[' || c == '{') {
            if (++depth > LOGTO_JSON_MAX_DEPTH) {
                return 0;
            }
        }
        else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 1;
}

apr_status_t logto_json_parse_object(apr_pool_t *p, const char *text, apr_size_t len, json_t **obj,
                                     const char **why)
{
    json_error_t err;
    json_t *json;

    if (!depth_ok(text, len)) {
        *why = "JSON nested too deeply";
        return APR_EINVAL;
    }
    json = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!json) {
        *why = (json_error_code(&err) == json_error_duplicate_key) ? "duplicate JSON member"
                                                                   : "invalid JSON";
        return APR_EINVAL;
    }
    if (!json_is_object(json)) {
        json_decref(json);
        *why = "JSON is not an object";
        return APR_EINVAL;
    }
    apr_pool_cleanup_register(p, json, json_release, apr_pool_cleanup_null);
    *obj = json;
    return APR_SUCCESS;
}

int logto_json_string(json_t *obj, const char *key, const char **value)
{
    json_t *v = json_object_get(obj, key);

    if (!v) {
        return 0;
    }
    if (!json_is_string(v)) {
        return -1;
    }
    *value = json_string_value(v);
    return 1;
}

int logto_json_array(json_t *obj, const char *key, json_t **value)
{
    json_t *v = json_object_get(obj, key);

    if (!v) {
        return 0;
    }
    if (!json_is_array(v)) {
        return -1;
    }
    *value = v;
    return 1;
}
