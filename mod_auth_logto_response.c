/* mod_auth_logto: the error responses.
 *
 * Authentication can only return a status, and a Require provider only
 * "denied", which authz_core turns into 401 or 403. This filter, inserted for
 * the error response, owns what the client gets: status, WWW-Authenticate
 * and a JSON body. It touches only the module's own answers: a failure the
 * module recorded, or the denial of a request the module authenticated.
 * Once authorization has granted a request, every later answer (a redirect,
 * a 404, an application's 403) is left alone. */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>
#include <jansson.h>

#include "mod_auth_logto.h"

#define ERROR_FILTER "LOGTO_ERROR"

/* An RFC 7230 quoted-string, or NULL when s holds a control character: a
 * header value can never carry one (CR/LF would end the header). */
static const char *quoted(apr_pool_t *p, const char *s)
{
    apr_size_t n = 0;
    const unsigned char *c;
    char *out, *o;

    for (c = (const unsigned char *)s; *c; c++) {
        if (*c < 0x20 || *c == 0x7f) {
            return NULL;
        }
        n += (*c == '"' || *c == '\\') ? 2 : 1;
    }
    o = out = apr_palloc(p, n + 3);
    *o++ = '"';
    for (c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            *o++ = '\\';
        }
        *o++ = (char)*c;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* Appends ", name=<quoted value>" to a challenge, or nothing when the value
 * cannot be quoted. */
static const char *challenge_param(apr_pool_t *p, const char *challenge, const char *name,
                                   const char *value)
{
    const char *q = value ? quoted(p, value) : NULL;

    return q ? apr_pstrcat(p, challenge, ", ", name, "=", q, NULL) : challenge;
}

/* "Bearer realm=..." (RFC 6750 section 3); just "Bearer" if the realm cannot
 * be quoted. */
static const char *bearer_challenge(apr_pool_t *p, const char *realm)
{
    const char *q = quoted(p, realm);

    return q ? apr_pstrcat(p, "Bearer realm=", q, NULL) : "Bearer";
}

/* {"error": message}; fallback when message is not valid UTF-8 (values taken
 * from a URL can be any bytes). */
static const char *json_error(apr_pool_t *p, const char *message, const char *fallback)
{
    json_t *obj = json_pack("{s:s}", "error", message);
    char *text;
    const char *body;

    if (!obj) {
        obj = json_pack("{s:s}", "error", fallback);
    }
    text = obj ? json_dumps(obj, 0) : NULL;
    body = text ? apr_pstrdup(p, text) : "{\"error\": \"error\"}";
    free(text);
    json_decref(obj);
    return body;
}

typedef struct response {
    int status;
    const char *challenge; /* WWW-Authenticate, or NULL */
    const char *message;
    const char *fallback; /* message without request values */
} response_t;

static void describe(request_rec *r, const request_state_t *st, response_t *resp)
{
    const char *realm = bearer_challenge(r->pool, logto_conf_realm(st->conf));

    resp->status = r->status;
    resp->challenge = NULL;
    resp->fallback = NULL;
    switch (st->failure) {
    case FAIL_NO_HEADER:
        resp->status = HTTP_UNAUTHORIZED;
        resp->challenge = realm;
        resp->message = "Authorization header is missing";
        break;
    case FAIL_SCHEME:
        resp->status = HTTP_UNAUTHORIZED;
        resp->challenge = realm;
        resp->message = "Authorization header is not of type Bearer";
        break;
    case FAIL_INVALID:
        resp->status = HTTP_UNAUTHORIZED;
        resp->challenge =
            challenge_param(r->pool, apr_pstrcat(r->pool, realm, ", error=\"invalid_token\"", NULL),
                            "error_description", logto_reason_text(st->reason));
        resp->message =
            apr_pstrcat(r->pool, "Invalid token: ", logto_reason_text(st->reason), NULL);
        break;
    case FAIL_UNAVAILABLE:
        resp->status = HTTP_SERVICE_UNAVAILABLE;
        resp->message = "Signing keys of the issuer are unavailable";
        break;
    case FAIL_CONFIG:
        resp->status = HTTP_INTERNAL_SERVER_ERROR;
        resp->message = "Authentication is not configured correctly";
        break;
    case FAIL_SCOPE:
        /* required holds the usable scopes only; when none is left (every
         * value came from the request and matched nothing) there is no
         * scope to name. */
        resp->status = HTTP_FORBIDDEN;
        resp->challenge = apr_pstrcat(r->pool, realm, ", error=\"insufficient_scope\"", NULL);
        resp->message = "Insufficient scope";
        if (st->required && *st->required) {
            resp->challenge = challenge_param(r->pool, resp->challenge, "scope", st->required);
            resp->message =
                apr_pstrcat(r->pool, "Insufficient scope: requires ", st->required, NULL);
        }
        resp->fallback = "Insufficient scope";
        break;
    case FAIL_AUDIENCE:
        resp->status = HTTP_FORBIDDEN;
        resp->message = "Token audience is not accepted here";
        break;
    case FAIL_ORGANIZATION:
        resp->status = HTTP_FORBIDDEN;
        resp->message = "Token is not for this organization";
        break;
    case FAIL_NEGATED:
        resp->status = HTTP_FORBIDDEN;
        resp->message = apr_pstrcat(r->pool, "Token is refused here: Require ", st->required, NULL);
        resp->fallback = "Token is refused here";
        break;
    case FAIL_NONE:
    default:
        /* Another provider (Require ip, Require expr, ...) denied a request
         * whose token is valid: a new token would not help, so never a 401
         * challenge that makes clients refresh in a loop. */
        resp->status = HTTP_FORBIDDEN;
        resp->message = "Access denied";
        break;
    }
    if (!resp->fallback) {
        resp->fallback = resp->message;
    }
}

static apr_status_t error_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    apr_bucket_brigade *out;
    apr_bucket *b, *next;

    if (!f->ctx) {
        const request_state_t *st = logto_state_get(r);
        response_t resp;
        const char *body;

        f->ctx = f;
        if (!st) {
            ap_remove_output_filter(f);
            return ap_pass_brigade(f->next, bb);
        }
        describe(r, st, &resp);
        r->status = resp.status;
        r->status_line = NULL;
        apr_table_unset(r->headers_out, "WWW-Authenticate");
        apr_table_unset(r->err_headers_out, "WWW-Authenticate");
        if (resp.challenge) {
            apr_table_setn(r->headers_out, "WWW-Authenticate", resp.challenge);
        }
        apr_table_unset(r->headers_out, "Content-Length");
        r->content_languages = NULL;
        ap_set_content_type(r, "application/json");
        body = apr_pstrcat(r->pool, json_error(r->pool, resp.message, resp.fallback), "\n", NULL);
        out = apr_brigade_create(r->pool, f->c->bucket_alloc);
        APR_BRIGADE_INSERT_TAIL(out,
                                apr_bucket_immortal_create(body, strlen(body), f->c->bucket_alloc));
    }
    else {
        out = apr_brigade_create(r->pool, f->c->bucket_alloc);
    }
    /* httpd's own error text is replaced; metadata (EOS, flushes) goes on. */
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = next) {
        next = APR_BUCKET_NEXT(b);
        APR_BUCKET_REMOVE(b);
        if (APR_BUCKET_IS_METADATA(b)) {
            APR_BRIGADE_INSERT_TAIL(out, b);
        }
        else {
            apr_bucket_destroy(b);
        }
    }
    return ap_pass_brigade(f->next, out);
}

/* Whether the error response being sent is the module's to shape. */
static int is_our_answer(request_rec *r, const request_state_t *st)
{
    if (st->authz_passed) {
        return 0;
    }
    switch (st->failure) {
    case FAIL_NONE:
        /* Authenticated, then denied by another Require line. */
        return st->claims && (r->status == HTTP_UNAUTHORIZED || r->status == HTTP_FORBIDDEN);
    case FAIL_SCOPE:
    case FAIL_AUDIENCE:
    case FAIL_ORGANIZATION:
    case FAIL_NEGATED:
        /* authz_core answers a denial with 401, or 403 when
         * AuthzSendForbiddenOnFailure is on. */
        return r->status == HTTP_UNAUTHORIZED || r->status == HTTP_FORBIDDEN;
    default:
        return r->status == st->status;
    }
}

static void logto_insert_error_filter(request_rec *r)
{
    const request_state_t *st;

    if (logto_is_ours(r) && (st = logto_state_get(r)) && is_our_answer(r, st)) {
        ap_add_output_filter(ERROR_FILTER, NULL, r, r->connection);
    }
}

/* authz_core asks the AuthType's module to note a failure; the challenge
 * itself is written by the error filter. */
static int logto_note_auth_failure(request_rec *r, const char *auth_type)
{
    const logto_dir_conf_t *conf;

    if (strcasecmp(auth_type, LOGTO_AUTH_TYPE) != 0) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &auth_logto_module);
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   bearer_challenge(r->pool, logto_conf_realm(conf)));
    return OK;
}

void logto_response_register(void)
{
    ap_hook_note_auth_failure(logto_note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(logto_insert_error_filter, NULL, NULL, APR_HOOK_LAST);
    ap_register_output_filter(ERROR_FILTER, error_filter, NULL, AP_FTYPE_RESOURCE);
}
