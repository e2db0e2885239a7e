/* mod_auth_logto: AuthType Logto and the Require logto-* providers.
 *
 * Thin glue over lib/: this file takes the bearer token from the request,
 * asks the core to validate it (through the token caches), exports the claims
 * to the environment, evaluates the Require lines, and owns every error
 * response: status, WWW-Authenticate and the JSON body. */
#include <string.h>
#include <unistd.h>

#include <apr_atomic.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <ap_expr.h>
#include <ap_provider.h>
#include <mod_auth.h>
#include <util_filter.h>
#include <jansson.h>

#include "logto_http.h"
#include "logto_log.h"
#include "logto_lognum.h"
#include "logto_tcache.h"
#include "mod_auth_logto.h"

#define ERROR_FILTER "LOGTO_ERROR"

/* ---- per-process state --------------------------------------------------------
 * Built in child_init, before any request thread runs; the pointer is read-only
 * afterwards and everything behind it does its own locking. */

/* What selects a compiled policy: the effective values of a merged
 * configuration. Zeroed before filling, so it compares with memcmp. */
typedef struct policy_key {
    const apr_array_header_t *issuers;
    const char *jwks_uri;
    const char *jwks_file;
    const char *ca_file;
    const apr_array_header_t *types;
    int alg_mask;
    int clock_skew;
    int jwks_ttl;
    int refresh_interval;
    int max_stale;
    int http_timeout;
    int token_cache;
    int token_cache_size;
    long fast_ecdsa; /* a long: the struct stays without padding for memcmp */
} policy_key_t;

typedef struct compiled {
    struct compiled *next;
    policy_key_t key;
    logto_policy_t *policy;
    logto_tcache_t *tcache; /* NULL with LogtoTokenCache off */
} compiled_t;

typedef struct proc {
    apr_pool_t *pool; /* allocated from only under mutex */
    apr_thread_mutex_t *mutex;
    logto_stores_t *stores;
    apr_hash_t *tcaches;     /* in-process caches by size */
    volatile void *compiled; /* compiled_t list, published with CAS */
} proc_t;

static proc_t *proc;

/* ---- per-request state ---------------------------------------------------------- */

typedef enum {
    FAIL_NONE = 0,
    FAIL_NO_HEADER,
    FAIL_SCHEME,
    FAIL_INVALID,
    FAIL_UNAVAILABLE,
    FAIL_CONFIG,
    FAIL_SCOPE,
    FAIL_AUDIENCE,
    FAIL_ORGANIZATION
} failure_e;

typedef struct request_state {
    const logto_dir_conf_t *conf;
    const logto_claims_t *claims; /* set once the token is valid */
    const void *policy;           /* the compiled policy that accepted them */
    const char *authorization;    /* the header that carried the token */
    failure_e failure;
    logto_reason_e reason; /* FAIL_INVALID */
    const char *required;  /* FAIL_SCOPE: the scopes of the failed line */
} request_state_t;

static request_state_t *state_get(request_rec *r)
{
    request_rec *q;

    /* Subrequests and internal redirects read the state of the request that
     * authenticated. */
    for (q = r; q; q = q->main ? q->main : q->prev) {
        request_state_t *st = ap_get_module_config(q->request_config, &auth_logto_module);

        if (st) {
            return st;
        }
    }
    return NULL;
}

static request_state_t *state_make(request_rec *r, const logto_dir_conf_t *conf)
{
    request_state_t *st = ap_get_module_config(r->request_config, &auth_logto_module);

    if (!st) {
        st = apr_pcalloc(r->pool, sizeof(*st));
        ap_set_module_config(r->request_config, &auth_logto_module, st);
    }
    st->conf = conf;
    return st;
}

/* ---- core logging to the error log ------------------------------------------------ */

static server_rec *log_server;

static void core_log(void *baton, logto_log_level_e level, apr_status_t rv, const char *file,
                     int line, const char *fmt, va_list ap)
{
    char msg[1024];

    (void)baton;
    apr_vsnprintf(msg, sizeof(msg), fmt, ap);
    ap_log_error(file, line, APLOG_MODULE_INDEX, (int)level, rv, log_server, "%s", msg);
}

static int core_log_enabled(void *baton, logto_log_level_e level)
{
    (void)baton;
    return APLOG_IS_LEVEL(log_server, (int)level);
}

/* ---- compiled policies ---------------------------------------------------------------- */

static int effective(int value, int dflt)
{
    return value >= 0 ? value : dflt;
}

static void policy_key_of(const logto_dir_conf_t *conf, policy_key_t *key)
{
    memset(key, 0, sizeof(*key));
    key->issuers = conf->issuers;
    key->jwks_uri = conf->jwks_uri;
    key->jwks_file = conf->jwks_file;
    key->ca_file = conf->ca_file;
    key->types = conf->types;
    key->alg_mask = effective(conf->alg_mask, (int)LOGTO_ALG_MASK_ALL);
    key->clock_skew = effective(conf->clock_skew, DEFAULT_CLOCK_SKEW);
    key->jwks_ttl = effective(conf->jwks_ttl, DEFAULT_JWKS_TTL);
    key->refresh_interval = effective(conf->refresh_interval, DEFAULT_REFRESH_INTERVAL);
    key->max_stale = effective(conf->max_stale, DEFAULT_MAX_STALE);
    key->http_timeout = effective(conf->http_timeout, DEFAULT_HTTP_TIMEOUT);
    key->token_cache = conf->token_cache == TOKEN_CACHE_OFF ? 0 : 1;
    key->token_cache_size = effective(conf->token_cache_size, DEFAULT_TOKEN_CACHE_SIZE);
    key->fast_ecdsa = effective(conf->fast_ecdsa, DEFAULT_FAST_ECDSA);
}

static compiled_t *compiled_find(const policy_key_t *key)
{
    compiled_t *c = apr_atomic_casptr(&proc->compiled, NULL, NULL);

    while (c && memcmp(&c->key, key, sizeof(*key)) != 0) {
        c = c->next;
    }
    return c;
}

/* Called with proc->mutex held. */
static apr_status_t compile(const policy_key_t *key, compiled_t **out)
{
    compiled_t *c = apr_pcalloc(proc->pool, sizeof(*c));
    logto_store_conf_t sconf;
    apr_status_t rv;
    int i;

    c->key = *key;
    c->policy = logto_policy_make(proc->pool);
    c->policy->alg_mask = (unsigned)key->alg_mask;
    c->policy->leeway = apr_time_from_sec(key->clock_skew);
    if (key->types) {
        /* An "any" entry is a NULL: no typ check. */
        c->policy->types = (key->types->nelts == 1 && !APR_ARRAY_IDX(key->types, 0, const char *))
                               ? NULL
                               : apr_array_copy(proc->pool, key->types);
    }
    memset(&sconf, 0, sizeof(sconf));
    sconf.jwks_uri = key->jwks_uri;
    sconf.jwks_file = key->jwks_file;
    sconf.ca_file = key->ca_file;
    sconf.ttl = apr_time_from_sec(key->jwks_ttl);
    sconf.refresh_interval = apr_time_from_sec(key->refresh_interval);
    sconf.max_stale = apr_time_from_sec(key->max_stale);
    sconf.http_timeout = apr_time_from_sec(key->http_timeout);
    sconf.fast_ecdsa = key->fast_ecdsa != 0;
    for (i = 0; i < key->issuers->nelts; i++) {
        logto_store_t *store;

        sconf.issuer = APR_ARRAY_IDX(key->issuers, i, const char *);
        if ((rv = logto_stores_get(proc->stores, &sconf, &store)) != APR_SUCCESS) {
            return rv;
        }
        logto_policy_add_issuer(c->policy, sconf.issuer, store);
    }
    logto_policy_seal(c->policy);
    if (key->token_cache) {
        const char *size = apr_itoa(proc->pool, key->token_cache_size);

        c->tcache = apr_hash_get(proc->tcaches, size, APR_HASH_KEY_STRING);
        if (!c->tcache) {
            rv = logto_tcache_create(&c->tcache, (apr_size_t)key->token_cache_size, proc->pool);
            if (rv != APR_SUCCESS) {
                return rv;
            }
            apr_hash_set(proc->tcaches, size, APR_HASH_KEY_STRING, c->tcache);
        }
    }
    *out = c;
    return APR_SUCCESS;
}

/* The compiled policy of a merged configuration, built on first use in this
 * process and then found without a lock. */
static compiled_t *compiled_for(request_rec *r, const logto_dir_conf_t *conf)
{
    policy_key_t key;
    compiled_t *c;
    apr_status_t rv = APR_SUCCESS;

    policy_key_of(conf, &key);
    if ((c = compiled_find(&key))) {
        return c;
    }
    apr_thread_mutex_lock(proc->mutex);
    if (!(c = compiled_find(&key)) && (rv = compile(&key, &c)) == APR_SUCCESS) {
        c->next = apr_atomic_casptr(&proc->compiled, NULL, NULL);
        /* Only this thread publishes (under the mutex): the CAS cannot fail. */
        apr_atomic_casptr(&proc->compiled, c, c->next);
    }
    apr_thread_mutex_unlock(proc->mutex);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, LOGTO0108 "cannot set up token validation");
        return NULL;
    }
    return c;
}

/* ---- authentication ------------------------------------------------------------------------- */

static int is_logto(request_rec *r)
{
    const char *type = ap_auth_type(r);

    return type && strcasecmp(type, LOGTO_AUTH_TYPE) == 0;
}

/* The token of "Authorization: Bearer <token>" (RFC 6750 section 2.1; the
 * scheme is case-insensitive, RFC 7235 section 2.1). */
static failure_e bearer_token(request_rec *r, const char **token, apr_size_t *len)
{
    const char *h = apr_table_get(r->headers_in, "Authorization");
    const char *end;

    if (!h) {
        return FAIL_NO_HEADER;
    }
    while (*h == ' ' || *h == '\t') {
        h++;
    }
    if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t')) {
        return FAIL_SCHEME;
    }
    h += 6;
    while (*h == ' ' || *h == '\t') {
        h++;
    }
    end = h + strlen(h);
    while (end > h && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }
    *token = h;
    *len = (apr_size_t)(end - h);
    return FAIL_NONE;
}

/* A subrequest (mod_wsgi's PATH_TRANSLATED lookup, SSI, ...) carries the main
 * request's headers: the main request's answer stands when it was reached
 * under the same policy with the same Authorization header. */
static logto_claims_t *main_request_claims(request_rec *r, const compiled_t *c)
{
    const request_state_t *main_st;
    const char *authorization = apr_table_get(r->headers_in, "Authorization");
    request_rec *top = r;

    while (top->main) {
        top = top->main;
    }
    if (top == r || !(main_st = ap_get_module_config(top->request_config, &auth_logto_module))
        || !main_st->claims || main_st->policy != c || !main_st->authorization || !authorization
        || strcmp(main_st->authorization, authorization) != 0) {
        return NULL;
    }
    return (logto_claims_t *)main_st->claims;
}

static int fail(request_state_t *st, failure_e failure, int status)
{
    st->failure = failure;
    return status;
}

static int logto_check_authn(request_rec *r)
{
    const logto_dir_conf_t *conf;
    request_state_t *st;
    compiled_t *c;
    const char *token = NULL;
    apr_size_t len = 0;
    unsigned char key[LOGTO_TCACHE_KEY_LEN];
    logto_claims_t *claims = NULL;
    logto_store_t *store = NULL;
    apr_uint32_t epoch = 0;
    logto_result_t res;
    apr_time_t now;
    const char *source = "verified";
    failure_e failure;

    if (!is_logto(r)) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &auth_logto_module);
    st = state_make(r, conf);
    if (!conf->issuers) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      LOGTO0110 "AuthType Logto without LogtoIssuer for %s", r->uri);
        return fail(st, FAIL_CONFIG, HTTP_INTERNAL_SERVER_ERROR);
    }
    if ((failure = bearer_token(r, &token, &len)) != FAIL_NONE) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LOGTO0101 "request refused: %s",
                      failure == FAIL_NO_HEADER ? "no Authorization header"
                                                : "Authorization is not a Bearer token");
        return fail(st, failure, HTTP_UNAUTHORIZED);
    }
    if (!proc || !(c = compiled_for(r, conf))) {
        return fail(st, FAIL_CONFIG, HTTP_INTERNAL_SERVER_ERROR);
    }
    if ((claims = main_request_claims(r, c))) {
        source = "main request";
        goto accepted;
    }
    now = apr_time_now();
    if (c->tcache || conf->socache) {
        logto_tcache_key(c->policy->fingerprint, token, len, key);
    }
    if (c->tcache && logto_tcache_get(c->tcache, key, now, r->pool, &claims)) {
        source = "cache";
    }
    else if (conf->socache
             && (claims = logto_socache_get(r, conf->socache, c->policy, key, now, &store))) {
        source = "shared cache";
        if (c->tcache) {
            logto_tcache_put(c->tcache, key, claims, store, logto_store_epoch(store), r->pool);
        }
    }
    else if (logto_validate(c->policy, token, len, now, r->pool, &claims, &store, &epoch, &res)
             == APR_SUCCESS) {
        if (c->tcache) {
            logto_tcache_put(c->tcache, key, claims, store, epoch, r->pool);
        }
        if (conf->socache) {
            logto_socache_put(r, conf->socache, key, claims);
        }
    }
    else {
        /* The detail names what failed, never the token. */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LOGTO0101 "token refused: %s (%s)",
                      logto_reason_name(res.reason), res.detail ? res.detail : "-");
        if (res.reason == LOGTO_KEYS_UNAVAILABLE) {
            return fail(st, FAIL_UNAVAILABLE, HTTP_SERVICE_UNAVAILABLE);
        }
        st->reason = res.reason;
        return fail(st, FAIL_INVALID, HTTP_UNAUTHORIZED);
    }
accepted:
    st->claims = claims;
    st->policy = c;
    st->authorization = apr_table_get(r->headers_in, "Authorization");
    r->user = apr_pstrdup(r->pool, claims->sub);
    /* AUTH_TYPE in the environment comes from here, as with mod_auth_basic. */
    r->ap_auth_type = (char *)LOGTO_AUTH_TYPE;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, LOGTO0107 "token of %s accepted (%s)", r->user,
                  source);
    return OK;
}

/* ---- the environment --------------------------------------------------------------------- */

static void set_var(request_rec *r, const char *var, const char *value)
{
    /* Absent claims are unset, so nothing set earlier can stand in for them. */
    if (value) {
        apr_table_setn(r->subprocess_env, var, value);
    }
    else {
        apr_table_unset(r->subprocess_env, var);
    }
}

/* The claims' strings live in r->pool (or longer), NUL-terminated: they are
 * set without copies. */
static void export_claims(request_rec *r, const logto_dir_conf_t *conf, const logto_claims_t *c)
{
    const char *const *var = logto_conf_env_names(conf);

    set_var(r, var[VAR_SUB], c->sub);
    set_var(r, var[VAR_CLIENT_ID], c->client_id);
    set_var(r, var[VAR_ORGANIZATION_ID], c->organization_id);
    set_var(r, var[VAR_SCOPES], c->scope_list);
    set_var(r, var[VAR_AUDIENCE], c->audience_list);
    set_var(r, var[VAR_ISSUER], c->iss);
    set_var(r, var[VAR_EXPIRES_AT], apr_psprintf(r->pool, "%" APR_INT64_T_FMT, c->exp));
    set_var(r, var[VAR_JTI], c->jti);
    set_var(r, var[VAR_CLAIMS], c->payload);
}

/* Runs last among fixups, after authorization passed: the variables are set
 * by us alone, whatever modules or client headers did before. */
static int logto_fixups(request_rec *r)
{
    request_state_t *st;

    if (!is_logto(r) || !(st = state_get(r)) || !st->claims) {
        return DECLINED;
    }
    /* Authorization passed: a denial recorded by one branch of a
     * <RequireAny> must not shape a later error response. */
    st->failure = FAIL_NONE;
    export_claims(r, ap_get_module_config(r->per_dir_config, &auth_logto_module), st->claims);
    if (!r->user) {
        r->user = apr_pstrdup(r->pool, st->claims->sub);
    }
    return DECLINED;
}

/* ---- Require providers ------------------------------------------------------------------------
 */

typedef enum { REQUIRE_SCOPE, REQUIRE_AUDIENCE, REQUIRE_ORGANIZATION } require_e;

static const char *const require_names[] = {"logto-scope", "logto-audience", "logto-organization"};

/* A parsed Require line: a literal line is split once at start-up; one with
 * %{...} is an expression evaluated per request. */
typedef struct require_args {
    const ap_expr_info_t *expr;      /* NULL for a literal line */
    const apr_array_header_t *words; /* the literal line's words */
} require_args_t;

/* The line's words for this request; NULL on an error. */
static const apr_array_header_t *require_words(request_rec *r, const void *parsed, require_e kind)
{
    const require_args_t *args = parsed;
    const char *err = NULL, *line, *word;
    apr_array_header_t *words;

    if (!args->expr) {
        return args->words;
    }
    line = ap_expr_str_exec(r, args->expr, &err);
    if (err) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      LOGTO0106 "Require %s: cannot evaluate its expression: %s",
                      require_names[kind], err);
        return NULL;
    }
    words = apr_array_make(r->pool, 4, sizeof(const char *));
    while (*(word = ap_getword_conf(r->pool, &line))) {
        APR_ARRAY_PUSH(words, const char *) = word;
    }
    return words;
}

static authz_status require_check(request_rec *r, const void *parsed, require_e kind)
{
    request_state_t *st;
    const apr_array_header_t *words;
    int i, pass = 0;

    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    st = state_get(r);
    if (!st || !st->claims) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      LOGTO0102 "Require %s denied: the request was not authenticated by "
                                "AuthType Logto",
                      require_names[kind]);
        return AUTHZ_DENIED;
    }
    if (!(words = require_words(r, parsed, kind))) {
        return AUTHZ_GENERAL_ERROR;
    }
    if (kind == REQUIRE_SCOPE) {
        /* Every listed scope must be granted. */
        for (pass = words->nelts > 0, i = 0; pass && i < words->nelts; i++) {
            pass = logto_claims_has_scope(st->claims, APR_ARRAY_IDX(words, i, const char *));
        }
    }
    else {
        /* Any listed audience or organization will do. */
        for (i = 0; !pass && i < words->nelts; i++) {
            const char *want = APR_ARRAY_IDX(words, i, const char *);

            pass = (kind == REQUIRE_AUDIENCE) ? logto_claims_has_audience(st->claims, want)
                                              : logto_claims_in_organization(st->claims, want);
        }
    }
    if (pass) {
        return AUTHZ_GRANTED;
    }
    st->failure = (kind == REQUIRE_SCOPE)      ? FAIL_SCOPE
                  : (kind == REQUIRE_AUDIENCE) ? FAIL_AUDIENCE
                                               : FAIL_ORGANIZATION;
    st->required = logto_list_join(r->pool, words);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LOGTO0102 "Require %s %s denied for %s%s",
                  require_names[kind], st->required, r->user,
                  words->nelts ? "" : " (the line evaluated to nothing)");
    return AUTHZ_DENIED;
}

static authz_status scope_check(request_rec *r, const char *line, const void *parsed)
{
    (void)line;
    return require_check(r, parsed, REQUIRE_SCOPE);
}

static authz_status audience_check(request_rec *r, const char *line, const void *parsed)
{
    (void)line;
    return require_check(r, parsed, REQUIRE_AUDIENCE);
}

static authz_status organization_check(request_rec *r, const char *line, const void *parsed)
{
    (void)line;
    return require_check(r, parsed, REQUIRE_ORGANIZATION);
}

static int is_require_container(const ap_directive_t *d)
{
    return d
           && (strcasecmp(d->directive, "<RequireAll") == 0
               || strcasecmp(d->directive, "<RequireAny") == 0
               || strcasecmp(d->directive, "<RequireNone") == 0);
}

static int is_logto_line(const ap_directive_t *d)
{
    const char *args = d->args;

    if (strcasecmp(d->directive, "Require") != 0) {
        return 0;
    }
    if (strncasecmp(args, "not", 3) == 0 && apr_isspace(args[3])) {
        for (args += 3; apr_isspace(*args); args++) {
        }
    }
    return strncasecmp(args, "logto-", 6) == 0;
}

/* httpd ORs the Require lines that stand directly in a section. Mixed with
 * other providers that is almost never meant (a token without the scope would
 * pass on "Require ip"), so such a section must say RequireAll or RequireAny. */
static const char *check_siblings(cmd_parms *cmd)
{
    const ap_directive_t *self = cmd->directive, *parent, *d;

    if (!self || !(parent = self->parent) || is_require_container(parent)) {
        return NULL;
    }
    for (d = parent->first_child; d; d = d->next) {
        if (strcasecmp(d->directive, "Require") != 0) {
            continue;
        }
        if (!is_logto_line(d)) {
            return apr_psprintf(cmd->pool,
                                "%s %s (%s:%d) mixes 'Require %s' with 'Require %s': httpd would "
                                "grant access when either passes. Wrap them in <RequireAll> (all "
                                "must pass) or <RequireAny> (one is enough).",
                                parent->directive, parent->args, self->filename, self->line_num,
                                self->args, d->args);
        }
    }
    return NULL;
}

static const char *require_parse(cmd_parms *cmd, const char *line, const void **parsed)
{
    const char *err = check_siblings(cmd), *rest = line, *word;
    require_args_t *args = apr_pcalloc(cmd->pool, sizeof(*args));
    apr_array_header_t *words;

    if (err) {
        return err;
    }
    if (!*line) {
        return apr_pstrcat(cmd->pool, "Require ", cmd->directive ? cmd->directive->args : "",
                           ": needs at least one value", NULL);
    }
    if (strchr(line, '%')) {
        args->expr = ap_expr_parse_cmd(cmd, line, AP_EXPR_FLAG_STRING_RESULT, &err, NULL);
        if (err) {
            return apr_pstrcat(cmd->pool, "Require logto-*: cannot parse '", line, "': ", err,
                               NULL);
        }
    }
    else {
        words = apr_array_make(cmd->pool, 4, sizeof(const char *));
        while (*(word = ap_getword_conf(cmd->pool, &rest))) {
            APR_ARRAY_PUSH(words, const char *) = word;
        }
        args->words = words;
    }
    *parsed = args;
    return NULL;
}

static const authz_provider scope_provider = {&scope_check, &require_parse};
static const authz_provider audience_provider = {&audience_check, &require_parse};
static const authz_provider organization_provider = {&organization_check, &require_parse};

/* ---- error responses --------------------------------------------------------------------------
 * Authentication can only return a status, and a Require provider only
 * "denied", which authz_core turns into 401 or 403. This filter, inserted for
 * the error response, owns what the client gets: status, WWW-Authenticate
 * and a JSON body. */

static const char *quoted(apr_pool_t *p, const char *s)
{
    /* An RFC 7230 quoted-string: escape '"' and '\'. */
    apr_size_t n = 0;
    const char *c;
    char *out, *o;

    for (c = s; *c; c++) {
        n += (*c == '"' || *c == '\\') ? 2 : 1;
    }
    o = out = apr_palloc(p, n + 3);
    *o++ = '"';
    for (c = s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            *o++ = '\\';
        }
        *o++ = *c;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

static const char *json_error(apr_pool_t *p, const char *message)
{
    json_t *obj = json_pack("{s:s}", "error", message);
    char *text = obj ? json_dumps(obj, 0) : NULL;
    const char *body = text ? apr_pstrdup(p, text) : "{\"error\": \"error\"}";

    free(text);
    json_decref(obj);
    return body;
}

typedef struct response {
    int status;
    const char *challenge; /* WWW-Authenticate, or NULL */
    const char *message;
} response_t;

static void describe(request_rec *r, const request_state_t *st, response_t *resp)
{
    const char *realm =
        apr_pstrcat(r->pool, "Bearer realm=", quoted(r->pool, logto_conf_realm(st->conf)), NULL);

    resp->status = r->status;
    resp->challenge = NULL;
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
            apr_pstrcat(r->pool, realm, ", error=\"invalid_token\", error_description=",
                        quoted(r->pool, logto_reason_text(st->reason)), NULL);
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
        resp->status = HTTP_FORBIDDEN;
        resp->challenge = apr_pstrcat(r->pool, realm, ", error=\"insufficient_scope\", scope=",
                                      quoted(r->pool, st->required), NULL);
        resp->message = apr_pstrcat(r->pool, "Insufficient scope: requires ", st->required, NULL);
        break;
    case FAIL_AUDIENCE:
        resp->status = HTTP_FORBIDDEN;
        resp->message = "Token audience is not accepted here";
        break;
    case FAIL_ORGANIZATION:
        resp->status = HTTP_FORBIDDEN;
        resp->message = "Token is not for this organization";
        break;
    case FAIL_NONE:
    default:
        /* Another provider denied an authenticated request. */
        resp->challenge = (r->status == HTTP_UNAUTHORIZED) ? realm : NULL;
        resp->message =
            (r->status == HTTP_UNAUTHORIZED) ? "Authentication required" : "Access denied";
        break;
    }
}

static apr_status_t error_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    apr_bucket_brigade *out;
    apr_bucket *b, *next;

    if (!f->ctx) {
        const request_state_t *st = state_get(r);
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
        body = apr_pstrcat(r->pool, json_error(r->pool, resp.message), "\n", NULL);
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

static void logto_insert_error_filter(request_rec *r)
{
    const request_state_t *st;

    if (!is_logto(r) || !(st = state_get(r))) {
        return;
    }
    /* Our failures, and the 401/403 of a denied Require. */
    if (st->failure != FAIL_NONE || r->status == HTTP_UNAUTHORIZED || r->status == HTTP_FORBIDDEN) {
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
    state_make(r, conf);
    apr_table_setn(
        r->err_headers_out, "WWW-Authenticate",
        apr_pstrcat(r->pool, "Bearer realm=", quoted(r->pool, logto_conf_realm(conf)), NULL));
    return OK;
}

/* ---- SetHandler logto-status ------------------------------------------------------------------
 * This process's counters as JSON, for operators and for the benchmark's
 * soak: token cache fill and the fetches of each key set. */

static void status_add_store(void *baton, logto_store_t *store)
{
    logto_store_stats_t stats;

    logto_store_stats(store, &stats);
    json_array_append_new((json_t *)baton,
                          json_pack("{s:s,s:I,s:I,s:I,s:I}", "source", logto_store_id(store),
                                    "fetches", (json_int_t)stats.fetches, "failures",
                                    (json_int_t)stats.failures, "keys", (json_int_t)stats.keys,
                                    "epoch", (json_int_t)logto_store_epoch(store)));
}

static int logto_status_handler(request_rec *r)
{
    json_t *doc, *caches, *sets;
    apr_hash_index_t *hi;
    char *text;

    if (!r->handler || strcmp(r->handler, "logto-status") != 0) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!proc) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    caches = json_array();
    sets = json_array();
    apr_thread_mutex_lock(proc->mutex);
    for (hi = apr_hash_first(r->pool, proc->tcaches); hi; hi = apr_hash_next(hi)) {
        logto_tcache_t *tc = apr_hash_this_val(hi);

        json_array_append_new(caches,
                              json_pack("{s:I,s:I}", "entries", (json_int_t)logto_tcache_count(tc),
                                        "capacity", (json_int_t)logto_tcache_capacity(tc)));
    }
    apr_thread_mutex_unlock(proc->mutex);
    logto_stores_each(proc->stores, status_add_store, sets);
    doc =
        json_pack("{s:i,s:o,s:o}", "pid", (int)getpid(), "token_caches", caches, "key_sets", sets);
    text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    json_decref(doc);
    if (!text) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!r->header_only) {
        ap_rputs(text, r);
        ap_rputs("\n", r);
    }
    free(text);
    return OK;
}

/* ---- lifecycle ------------------------------------------------------------------------------- */

static int logto_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    logto_socaches_pre_config(pconf);
    return OK;
}

static int logto_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    /* Under apachectl -t there is no post_config: warn here (no network). */
    if (ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_TEST) {
        logto_conf_check_tree(ptemp, s);
    }
    return OK;
}

static int logto_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    log_server = s;
    logto_log_set(core_log, core_log_enabled, NULL);
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    /* The error log is open now: the start-up warnings reach it. */
    logto_conf_check_tree(ptemp, s);
    logto_conf_check_child_files(s);
    if (logto_http_global_init() != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "mod_auth_logto: libcurl failed to initialise");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return logto_socaches_post_config(pconf, ptemp, s) == APR_SUCCESS ? OK
                                                                      : HTTP_INTERNAL_SERVER_ERROR;
}

static void logto_child_init(apr_pool_t *pchild, server_rec *s)
{
    proc_t *pr = apr_pcalloc(pchild, sizeof(*pr));
    apr_status_t rv;

    if ((rv = apr_pool_create(&pr->pool, pchild)) != APR_SUCCESS
        || (rv = apr_thread_mutex_create(&pr->mutex, APR_THREAD_MUTEX_DEFAULT, pchild))
               != APR_SUCCESS
        || (rv = logto_stores_create(&pr->stores, logto_http_curl(), 1, pchild)) != APR_SUCCESS
        || (rv = logto_socaches_child_init(pchild, s)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     LOGTO0109 "cannot set up key handling in this process");
        return;
    }
    pr->tcaches = apr_hash_make(pchild);
    proc = pr;
}

static void logto_register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(logto_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(logto_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(logto_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(logto_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_authn(logto_check_authn, NULL, NULL, APR_HOOK_MIDDLE, AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(logto_note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(logto_fixups, NULL, NULL, APR_HOOK_REALLY_LAST);
    ap_hook_insert_error_filter(logto_insert_error_filter, NULL, NULL, APR_HOOK_LAST);
    ap_register_output_filter(ERROR_FILTER, error_filter, NULL, AP_FTYPE_RESOURCE);
    ap_hook_handler(logto_status_handler, NULL, NULL, APR_HOOK_MIDDLE);

    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "logto-scope", AUTHZ_PROVIDER_VERSION,
                              &scope_provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "logto-audience", AUTHZ_PROVIDER_VERSION,
                              &audience_provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "logto-organization", AUTHZ_PROVIDER_VERSION,
                              &organization_provider, AP_AUTH_INTERNAL_PER_CONF);
}

AP_DECLARE_MODULE(auth_logto) = {
    STANDARD20_MODULE_STUFF,
    logto_create_dir_conf, /* per-directory config */
    logto_merge_dir_conf,  /* merge per-directory */
    NULL,                  /* server config */
    NULL,                  /* merge server config */
    logto_cmds,            /* directives */
    logto_register_hooks,
#ifdef AP_MODULE_FLAG_NONE
    AP_MODULE_FLAG_NONE /* flags */
#endif
};
