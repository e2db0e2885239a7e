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
    apr_int64_t token_cache_bytes;
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
    apr_hash_t *tcaches;     /* in-process caches by "entries:bytes" */
    volatile void *compiled; /* compiled_t list, published with CAS */
} proc_t;

static proc_t *proc;

/* ---- per-request state ---------------------------------------------------------- */

request_state_t *logto_state_get(request_rec *r)
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
    key->token_cache_bytes =
        conf->token_cache_bytes >= 0 ? conf->token_cache_bytes : DEFAULT_TOKEN_CACHE_BYTES;
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
    if ((rv = logto_policy_seal(c->policy)) != APR_SUCCESS) {
        return rv;
    }
    if (key->token_cache) {
        /* Locations with the same bounds share one cache. */
        const char *size = apr_psprintf(proc->pool, "%d:%" APR_INT64_T_FMT, key->token_cache_size,
                                        key->token_cache_bytes);

        c->tcache = apr_hash_get(proc->tcaches, size, APR_HASH_KEY_STRING);
        if (!c->tcache) {
            rv = logto_tcache_create(&c->tcache, (apr_size_t)key->token_cache_size,
                                     (apr_size_t)key->token_cache_bytes, proc->pool);
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

int logto_is_ours(request_rec *r)
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

int logto_fail(request_state_t *st, failure_e failure, int status)
{
    st->failure = failure;
    st->status = status;
    return status;
}

static int logto_check_authn(request_rec *r)
{
    const logto_dir_conf_t *conf;
    request_state_t *st;
    compiled_t *c;
    const char *token = NULL;
    apr_size_t len = 0;
    logto_claims_t *claims = NULL;
    logto_check_t check;
    logto_from_e from = LOGTO_FROM_VERIFIED;
    logto_result_t res;
    const char *source;
    failure_e failure;

    if (!logto_is_ours(r)) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &auth_logto_module);
    st = state_make(r, conf);
    if (!conf->issuers) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      LOGTO0110 "AuthType Logto without LogtoIssuer for %s", r->uri);
        return logto_fail(st, FAIL_CONFIG, HTTP_INTERNAL_SERVER_ERROR);
    }
    if ((failure = bearer_token(r, &token, &len)) != FAIL_NONE) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LOGTO0101 "request refused: %s",
                      failure == FAIL_NO_HEADER ? "no Authorization header"
                                                : "Authorization is not a Bearer token");
        return logto_fail(st, failure, HTTP_UNAUTHORIZED);
    }
    if (!proc || !(c = compiled_for(r, conf))) {
        return logto_fail(st, FAIL_CONFIG, HTTP_INTERNAL_SERVER_ERROR);
    }
    if ((claims = main_request_claims(r, c))) {
        source = "main request";
        goto accepted;
    }
    check.policy = c->policy;
    check.tcache = c->tcache;
    check.shared = conf->socache ? logto_socache_backend(conf->socache) : NULL;
    if (logto_authenticate(&check, token, len, apr_time_now(), r->pool, &claims, &from, &res)
        != APR_SUCCESS) {
        /* The detail names what failed, never the token. */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LOGTO0101 "token refused: %s (%s)",
                      logto_reason_name(res.reason), res.detail ? res.detail : "-");
        if (res.reason == LOGTO_KEYS_UNAVAILABLE) {
            return logto_fail(st, FAIL_UNAVAILABLE, HTTP_SERVICE_UNAVAILABLE);
        }
        st->reason = res.reason;
        return logto_fail(st, FAIL_INVALID, HTTP_UNAUTHORIZED);
    }
    source = logto_from_name(from);
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

/* The first hook after authorization granted the request: a denial recorded
 * by one branch of a <RequireAny> is void now, and no later answer (a
 * redirect, DirectorySlash's 301, a handler's error) is the module's to
 * reshape. Only the request's own state is marked: a subrequest that passes
 * says nothing about its main request. */
static int logto_type_checker(request_rec *r)
{
    request_state_t *st = ap_get_module_config(r->request_config, &auth_logto_module);

    if (st) {
        st->authz_passed = 1;
        st->failure = FAIL_NONE;
    }
    return DECLINED;
}

/* Runs last among fixups, after authorization passed: the variables are set
 * by us alone, whatever modules or client headers did before. */
static int logto_fixups(request_rec *r)
{
    request_state_t *st;

    if (!logto_is_ours(r) || !(st = logto_state_get(r)) || !st->claims) {
        return DECLINED;
    }
    export_claims(r, ap_get_module_config(r->per_dir_config, &auth_logto_module), st->claims);
    if (!r->user) {
        r->user = apr_pstrdup(r->pool, st->claims->sub);
    }
    return DECLINED;
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

        json_array_append_new(caches, json_pack("{s:I,s:I,s:I,s:I}", "entries",
                                                (json_int_t)logto_tcache_count(tc), "capacity",
                                                (json_int_t)logto_tcache_capacity(tc), "bytes",
                                                (json_int_t)logto_tcache_bytes(tc), "max_bytes",
                                                (json_int_t)logto_tcache_max_bytes(tc)));
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
    ap_hook_type_checker(logto_type_checker, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_fixups(logto_fixups, NULL, NULL, APR_HOOK_REALLY_LAST);
    ap_hook_handler(logto_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    logto_response_register();
    logto_authz_register(p);
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
