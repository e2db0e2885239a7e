/* mod_auth_logto: directives, merging and start-up checks. */
#include <string.h>

#include <errno.h>

#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_main.h>
#include <http_core.h>
#include <http_config.h>
#include <http_log.h>
#include <ap_provider.h>
#include <ap_socache.h>
#include <util_mutex.h>
#include <unixd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logto_http.h"
#include "logto_jwk.h"
#include "logto_lognum.h"
#include "mod_auth_logto.h"

APLOG_USE_MODULE(auth_logto);

/* Bounds of the numeric directives, in seconds (entries for the cache). */
#define MAX_CLOCK_SKEW       86400
#define MAX_DURATION         (7L * 86400)
#define MAX_HTTP_TIMEOUT     300
#define MIN_TOKEN_CACHE_SIZE LOGTO_TCACHE_SHARDS
#define MAX_TOKEN_CACHE_SIZE 10000000

/* Bounds of LogtoTokenCacheBytes. Each of the 16 shards gets a 16th: 1 MiB
 * leaves a shard room for a few entries of the largest tokens (16 KiB, an
 * entry of about 13 KiB); 64 GiB is far above any child's memory (1 GiB
 * where addresses have 32 bits). */
#define MIN_TOKEN_CACHE_BYTES ((apr_int64_t)1 << 20)
#define MAX_TOKEN_CACHE_BYTES                                                                      \
    (sizeof(apr_size_t) >= 8 ? ((apr_int64_t)64 << 30) : ((apr_int64_t)1 << 30))

#define UNSET (-1)

void *logto_create_dir_conf(apr_pool_t *p, char *dir)
{
    logto_dir_conf_t *conf = apr_pcalloc(p, sizeof(*conf));

    (void)dir;
    conf->alg_mask = UNSET;         /* every algorithm */
    conf->clock_skew = UNSET;       /* DEFAULT_CLOCK_SKEW */
    conf->jwks_ttl = UNSET;         /* DEFAULT_JWKS_TTL */
    conf->refresh_interval = UNSET; /* DEFAULT_REFRESH_INTERVAL */
    conf->max_stale = UNSET;        /* DEFAULT_MAX_STALE */
    conf->http_timeout = UNSET;     /* DEFAULT_HTTP_TIMEOUT */
    conf->token_cache_size = UNSET; /* DEFAULT_TOKEN_CACHE_SIZE */
    /* DEFAULT_TOKEN_CACHE_BYTES */
    conf->token_cache_bytes = UNSET;
    conf->fast_ecdsa = UNSET; /* DEFAULT_FAST_ECDSA */
    /* issuers, jwks_uri, jwks_file, types, ca_file, realm, claim_prefix,
     * socache: NULL when unset; token_cache: TOKEN_CACHE_UNSET (in memory). */
    return conf;
}

#define MERGE_PTR(field) merged->field = add->field ? add->field : base->field
#define MERGE_INT(field) merged->field = (add->field != UNSET) ? add->field : base->field

void *logto_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const logto_dir_conf_t *base = basev, *add = addv;
    logto_dir_conf_t *merged = apr_palloc(p, sizeof(*merged));

    MERGE_PTR(issuers);
    /* The key source is one setting: a section that names one (a URL or a
     * file) replaces whatever an enclosing section named. */
    if (add->jwks_uri || add->jwks_file) {
        merged->jwks_uri = add->jwks_uri;
        merged->jwks_file = add->jwks_file;
    }
    else {
        merged->jwks_uri = base->jwks_uri;
        merged->jwks_file = base->jwks_file;
    }
    MERGE_INT(alg_mask);
    MERGE_PTR(types);
    MERGE_INT(clock_skew);
    MERGE_INT(jwks_ttl);
    MERGE_INT(refresh_interval);
    MERGE_INT(max_stale);
    MERGE_INT(http_timeout);
    MERGE_PTR(ca_file);
    MERGE_PTR(realm);
    MERGE_PTR(claim_prefix);
    MERGE_PTR(env_names);
    MERGE_INT(token_cache_size);
    MERGE_INT(token_cache_bytes);
    MERGE_INT(fast_ecdsa);
    if (add->token_cache != TOKEN_CACHE_UNSET) {
        merged->token_cache = add->token_cache;
        merged->socache = add->socache;
    }
    else {
        merged->token_cache = base->token_cache;
        merged->socache = base->socache;
    }
    return merged;
}

const char *logto_conf_realm(const logto_dir_conf_t *conf)
{
    if (conf->realm) {
        return conf->realm;
    }
    if (conf->issuers && conf->issuers->nelts > 0) {
        return APR_ARRAY_IDX(conf->issuers, 0, const char *);
    }
    return LOGTO_AUTH_TYPE;
}

const char *logto_conf_prefix(const logto_dir_conf_t *conf)
{
    return conf->claim_prefix ? conf->claim_prefix : DEFAULT_CLAIM_PREFIX;
}

/* Variable names without their prefix, in VAR_* order. */
static const char *const env_suffixes[VAR_COUNT] = {"SUB",        "CLIENT_ID", "ORGANIZATION_ID",
                                                    "SCOPES",     "AUDIENCE",  "ISSUER",
                                                    "EXPIRES_AT", "JTI",       "CLAIMS"};

static const char *const default_env_names[VAR_COUNT] = {DEFAULT_CLAIM_PREFIX "SUB",
                                                         DEFAULT_CLAIM_PREFIX "CLIENT_ID",
                                                         DEFAULT_CLAIM_PREFIX "ORGANIZATION_ID",
                                                         DEFAULT_CLAIM_PREFIX "SCOPES",
                                                         DEFAULT_CLAIM_PREFIX "AUDIENCE",
                                                         DEFAULT_CLAIM_PREFIX "ISSUER",
                                                         DEFAULT_CLAIM_PREFIX "EXPIRES_AT",
                                                         DEFAULT_CLAIM_PREFIX "JTI",
                                                         DEFAULT_CLAIM_PREFIX "CLAIMS"};

/* Computed once, with the prefix, not on every request. */
const char *const *logto_conf_env_names(const logto_dir_conf_t *conf)
{
    return conf->env_names ? conf->env_names : default_env_names;
}

/* ---- directive handlers ------------------------------------------------------ */

static const char *directive_error(cmd_parms *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *directive_error(cmd_parms *cmd, const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(cmd->pool, fmt, ap);
    va_end(ap);
    return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", msg, NULL);
}

static const char *check_url(cmd_parms *cmd, const char *url)
{
    const char *why = NULL;

    if (!logto_url_allowed(url, &why)) {
        return directive_error(cmd, "'%s' refused: %s", url, why);
    }
    return NULL;
}

static const char *set_issuer(cmd_parms *cmd, void *dconf, const char *arg)
{
    logto_dir_conf_t *conf = dconf;
    const char *err = check_url(cmd, arg);
    int i;

    if (err) {
        return err;
    }
    if (!conf->issuers) {
        conf->issuers = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    for (i = 0; i < conf->issuers->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(conf->issuers, i, const char *), arg) == 0) {
            return directive_error(cmd, "'%s' is given twice", arg);
        }
    }
    APR_ARRAY_PUSH(conf->issuers, const char *) = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

/* LogtoJwksUri and LogtoJwksFile name the key source: one per section. */
static const char *check_one_key_source(cmd_parms *cmd, const logto_dir_conf_t *conf)
{
    if (conf->jwks_uri || conf->jwks_file) {
        return directive_error(cmd,
                               "this section already names its keys with %s: LogtoJwksUri and "
                               "LogtoJwksFile are one setting, give one of them once",
                               conf->jwks_uri ? "LogtoJwksUri" : "LogtoJwksFile");
    }
    return NULL;
}

static const char *set_jwks_uri(cmd_parms *cmd, void *dconf, const char *arg)
{
    logto_dir_conf_t *conf = dconf;
    const char *err = check_one_key_source(cmd, conf);

    if (err || (err = check_url(cmd, arg))) {
        return err;
    }
    conf->jwks_uri = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

/* Files the children read (CA bundles, JWK Set files), checked in post_config
 * against the user the children run as. Kept in pconf's user data. */
static const char child_files_key[] = "mod_auth_logto/child-files";

static void child_file_add(cmd_parms *cmd, const char *directive, const char *path)
{
    void *data = NULL;
    apr_array_header_t *files;
    apr_pool_t *pconf = cmd->server->process->pconf;
    const char *entry;
    int i;

    apr_pool_userdata_get(&data, child_files_key, pconf);
    if (!(files = data)) {
        files = apr_array_make(pconf, 4, sizeof(const char *));
        apr_pool_userdata_set(files, child_files_key, apr_pool_cleanup_null, pconf);
    }
    entry = apr_pstrcat(pconf, directive, " ", path, NULL);
    for (i = 0; i < files->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(files, i, const char *), entry) == 0) {
            return;
        }
    }
    APR_ARRAY_PUSH(files, const char *) = entry;
}

/* Whether uid/gid may read the file (by its mode bits; the directories above
 * are not checked). */
static int readable_by(const struct stat *st, uid_t uid, gid_t gid)
{
    if (st->st_uid == uid) {
        return (st->st_mode & S_IRUSR) != 0;
    }
    if (st->st_gid == gid) {
        return (st->st_mode & S_IRGRP) != 0;
    }
    return (st->st_mode & S_IROTH) != 0;
}

void logto_conf_check_child_files(server_rec *s)
{
    void *data = NULL;
    apr_array_header_t *files;
    int i;

    apr_pool_userdata_get(&data, child_files_key, s->process->pconf);
    if (!(files = data) || geteuid() != 0) {
        return; /* not root: the children run as this very user */
    }
    for (i = 0; i < files->nelts; i++) {
        const char *entry = APR_ARRAY_IDX(files, i, const char *);
        const char *path = strchr(entry, ' ') + 1;
        struct stat st;

        if (stat(path, &st) == 0
            && !readable_by(&st, ap_unixd_config.user_id, ap_unixd_config.group_id)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         LOGTO0111 "%s: the child processes (User %s) cannot read it: key "
                                   "fetches that need it will fail",
                         entry, ap_unixd_config.user_name);
        }
    }
}

static const char *readable_file(cmd_parms *cmd, const char *arg, const char **path)
{
    apr_finfo_t info;
    apr_status_t rv;

    *path = ap_server_root_relative(cmd->pool, arg);
    if (!*path) {
        return directive_error(cmd, "invalid path '%s'", arg);
    }
    rv = apr_stat(&info, *path, APR_FINFO_TYPE, cmd->temp_pool);
    if (rv != APR_SUCCESS || info.filetype != APR_REG) {
        return directive_error(cmd, "'%s' is not a readable file", *path);
    }
    return NULL;
}

static const char *set_jwks_file(cmd_parms *cmd, void *dconf, const char *arg)
{
    logto_dir_conf_t *conf = dconf;
    const char *path, *why = NULL;
    const char *err = check_one_key_source(cmd, conf);
    apr_file_t *f;
    apr_finfo_t info;
    apr_size_t len;
    char *json;
    logto_jwks_t *set;

    if (err || (err = readable_file(cmd, arg, &path))) {
        return err;
    }
    /* Read it once now so that a broken key file stops start-up, not requests. */
    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->temp_pool) != APR_SUCCESS
        || apr_file_info_get(&info, APR_FINFO_SIZE, f) != APR_SUCCESS
        || info.size > LOGTO_JWKS_MAX_BYTES) {
        return directive_error(cmd, "cannot read '%s' (or it is over %ld bytes)", path,
                               LOGTO_JWKS_MAX_BYTES);
    }
    len = (apr_size_t)info.size;
    json = apr_palloc(cmd->temp_pool, len + 1);
    if (len && apr_file_read_full(f, json, len, &len) != APR_SUCCESS) {
        return directive_error(cmd, "cannot read '%s'", path);
    }
    json[len] = '\0';
    apr_file_close(f);
    if (logto_jwks_parse(cmd->temp_pool, json, len, &set, &why) != APR_SUCCESS) {
        return directive_error(cmd, "'%s' is not a usable JWK Set: %s", path, why);
    }
    conf->jwks_file = path;
    child_file_add(cmd, cmd->cmd->name, path);
    return NULL;
}

static const char *set_algorithms(cmd_parms *cmd, void *dconf, const char *arg)
{
    logto_dir_conf_t *conf = dconf;
    logto_alg_e alg = logto_alg_from_name(arg);

    if (alg == LOGTO_ALG_UNKNOWN) {
        if (strcasecmp(arg, "none") == 0) {
            return directive_error(cmd, "'none' is never accepted: unsigned tokens prove nothing");
        }
        if (strncasecmp(arg, "HS", 2) == 0) {
            return directive_error(cmd,
                                   "'%s' is never accepted: an HMAC key would have to be "
                                   "shared with every resource server",
                                   arg);
        }
        return directive_error(cmd,
                               "unknown algorithm '%s' (RS256 RS384 RS512 PS256 PS384 "
                               "PS512 ES256 ES384 ES512 EdDSA)",
                               arg);
    }
    if (conf->alg_mask == UNSET) {
        conf->alg_mask = 0;
    }
    conf->alg_mask |= (int)LOGTO_ALG_BIT(alg);
    return NULL;
}

static const char *set_token_type(cmd_parms *cmd, void *dconf, const char *arg)
{
    static const char prefix[] = "application/";
    logto_dir_conf_t *conf = dconf;
    char *typ;

    if (!conf->types) {
        conf->types = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    if (strcasecmp(arg, "any") == 0) {
        /* An empty list means any typ; "any" must stand alone. */
        if (conf->types->nelts > 0) {
            return directive_error(cmd, "'any' cannot be combined with other types");
        }
        APR_ARRAY_PUSH(conf->types, const char *) = NULL;
        return NULL;
    }
    if (conf->types->nelts > 0 && !APR_ARRAY_IDX(conf->types, 0, const char *)) {
        return directive_error(cmd, "'any' cannot be combined with other types");
    }
    if (strncasecmp(arg, prefix, sizeof(prefix) - 1) == 0) {
        arg += sizeof(prefix) - 1;
    }
    if (!*arg) {
        return directive_error(cmd, "empty type");
    }
    typ = apr_pstrdup(cmd->pool, arg);
    ap_str_tolower(typ);
    APR_ARRAY_PUSH(conf->types, const char *) = typ;
    return NULL;
}

static const char *parse_number(cmd_parms *cmd, const char *arg, long min, long max, int *out)
{
    char *end;
    apr_int64_t v;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (errno || end == arg || *end || v < min || v > max) {
        return directive_error(cmd, "'%s' is not a whole number from %ld to %ld", arg, min, max);
    }
    *out = (int)v;
    return NULL;
}

/* The numeric directives, told apart by cmd->info. */
enum { NUM_CLOCK_SKEW, NUM_JWKS_TTL, NUM_REFRESH, NUM_MAX_STALE, NUM_TIMEOUT, NUM_CACHE_SIZE };

static const char *set_number(cmd_parms *cmd, void *dconf, const char *arg)
{
    logto_dir_conf_t *conf = dconf;

    switch ((int)(apr_uintptr_t)cmd->info) {
    case NUM_CLOCK_SKEW:
        return parse_number(cmd, arg, 0, MAX_CLOCK_SKEW, &conf->clock_skew);
    case NUM_JWKS_TTL:
        return parse_number(cmd, arg, 1, MAX_DURATION, &conf->jwks_ttl);
    case NUM_REFRESH:
        return parse_number(cmd, arg, 1, MAX_DURATION, &conf->refresh_interval);
    case NUM_MAX_STALE:
        return parse_number(cmd, arg, 0, MAX_DURATION, &conf->max_stale);
    case NUM_TIMEOUT:
        return parse_number(cmd, arg, 1, MAX_HTTP_TIMEOUT, &conf->http_timeout);
    case NUM_CACHE_SIZE:
        return parse_number(cmd, arg, MIN_TOKEN_CACHE_SIZE, MAX_TOKEN_CACHE_SIZE,
                            &conf->token_cache_size);
    default:
        return directive_error(cmd, "internal error: unknown number");
    }
}

/* LogtoTokenCacheBytes SIZE: bytes, or a whole number of KiB, MiB or GiB
 * (K, M, G; either case). */
static const char *set_cache_bytes(cmd_parms *cmd, void *dconf, const char *arg)
{
    logto_dir_conf_t *conf = dconf;
    char *end;
    apr_int64_t v;
    int shift = 0;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (!errno && end != arg) {
        switch (apr_toupper(*end)) {
        case 'K':
            shift = 10;
            break;
        case 'M':
            shift = 20;
            break;
        case 'G':
            shift = 30;
            break;
        default:
            break;
        }
        end += shift ? 1 : 0;
    }
    if (errno || end == arg || *end || v < 0 || v > (MAX_TOKEN_CACHE_BYTES >> shift)
        || v * ((apr_int64_t)1 << shift) < MIN_TOKEN_CACHE_BYTES) {
        return directive_error(cmd,
                               "'%s' is not a size from 1M to %s: bytes, or a whole number "
                               "with K, M or G",
                               arg, sizeof(apr_size_t) >= 8 ? "64G" : "1G");
    }
    conf->token_cache_bytes = v * ((apr_int64_t)1 << shift);
    return NULL;
}

static const char *set_fast_ecdsa(cmd_parms *cmd, void *dconf, int on)
{
    logto_dir_conf_t *conf = dconf;

    (void)cmd;
    conf->fast_ecdsa = on ? 1 : 0;
    return NULL;
}

static const char *set_ca_file(cmd_parms *cmd, void *dconf, const char *arg)
{
    logto_dir_conf_t *conf = dconf;
    const char *err = readable_file(cmd, arg, &conf->ca_file);

    if (!err) {
        child_file_add(cmd, cmd->cmd->name, conf->ca_file);
    }
    return err;
}

static const char *set_realm(cmd_parms *cmd, void *dconf, const char *arg)
{
    logto_dir_conf_t *conf = dconf;
    const char *c;

    for (c = arg; *c; c++) {
        if (apr_iscntrl(*c)) {
            return directive_error(cmd, "the realm must not hold control characters");
        }
    }
    conf->realm = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

static const char *set_claim_prefix(cmd_parms *cmd, void *dconf, const char *arg)
{
    logto_dir_conf_t *conf = dconf;
    const char *c;
    const char **names;
    int i;

    if (!*arg) {
        return directive_error(cmd, "the prefix must not be empty");
    }
    for (c = arg; *c; c++) {
        if (!apr_isalnum(*c) && *c != '_') {
            return directive_error(cmd, "'%s' must hold only letters, digits and '_'", arg);
        }
    }
    if (strncasecmp(arg, "HTTP_", 5) == 0) {
        return directive_error(cmd, "'%s' would mix the claims with client headers", arg);
    }
    conf->claim_prefix = apr_pstrdup(cmd->pool, arg);
    names = apr_palloc(cmd->pool, sizeof(*names) * VAR_COUNT);
    for (i = 0; i < VAR_COUNT; i++) {
        names[i] = apr_pstrcat(cmd->pool, arg, env_suffixes[i], NULL);
    }
    conf->env_names = names;
    return NULL;
}

/* ---- LogtoTokenCache and its shared caches --------------------------------------- */

static const char *set_token_cache(cmd_parms *cmd, void *dconf, const char *arg)
{
    logto_dir_conf_t *conf = dconf;
    logto_socache_t *sc;
    const char *err;

    if (strcasecmp(arg, "off") == 0) {
        conf->token_cache = TOKEN_CACHE_OFF;
        conf->socache = NULL;
        return NULL;
    }
    if (strcasecmp(arg, "memory") == 0) {
        conf->token_cache = TOKEN_CACHE_MEMORY;
        conf->socache = NULL;
        return NULL;
    }
    if ((err = logto_socache_find(cmd, arg, &sc))) {
        return directive_error(cmd, "%s", err);
    }
    conf->token_cache = TOKEN_CACHE_SOCACHE;
    conf->socache = sc;
    return NULL;
}

/* ---- the directives ----------------------------------------------------------------- */

#define CONTEXT (RSRC_CONF | ACCESS_CONF)

const command_rec logto_cmds[] = {
    AP_INIT_ITERATE("LogtoIssuer", set_issuer, NULL, CONTEXT,
                    "accepted iss values (exact); keys found by OIDC discovery under each"),
    AP_INIT_TAKE1("LogtoJwksUri", set_jwks_uri, NULL, CONTEXT, "JWK Set URL, skipping discovery"),
    AP_INIT_TAKE1("LogtoJwksFile", set_jwks_file, NULL, CONTEXT,
                  "JWK Set file, instead of fetching keys"),
    AP_INIT_ITERATE("LogtoAlgorithms", set_algorithms, NULL, CONTEXT,
                    "allowed JWS algorithms (default: all RS*, PS*, ES* and EdDSA)"),
    AP_INIT_ITERATE("LogtoTokenType", set_token_type, NULL, CONTEXT,
                    "accepted typ header values, or 'any' (default: at+jwt)"),
    AP_INIT_TAKE1("LogtoClockSkew", set_number, (void *)NUM_CLOCK_SKEW, CONTEXT,
                  "leeway in seconds for exp, nbf and iat (default: 60)"),
    AP_INIT_TAKE1("LogtoJwksCacheTTL", set_number, (void *)NUM_JWKS_TTL, CONTEXT,
                  "seconds fetched keys are trusted before a refresh (default: 600)"),
    AP_INIT_TAKE1("LogtoJwksRefreshInterval", set_number, (void *)NUM_REFRESH, CONTEXT,
                  "minimum seconds between fetches caused by an unknown kid (default: 30)"),
    AP_INIT_TAKE1("LogtoJwksMaxStale", set_number, (void *)NUM_MAX_STALE, CONTEXT,
                  "seconds keys stay trusted past their TTL while the issuer is unreachable "
                  "(default: 86400)"),
    AP_INIT_TAKE1("LogtoHttpTimeout", set_number, (void *)NUM_TIMEOUT, CONTEXT,
                  "seconds one discovery and JWKS fetch may take (default: 5)"),
    AP_INIT_TAKE1("LogtoCACertificateFile", set_ca_file, NULL, CONTEXT,
                  "extra trusted CA certificates (PEM) for the issuer's TLS"),
    AP_INIT_TAKE1("LogtoRealm", set_realm, NULL, CONTEXT,
                  "realm in WWW-Authenticate (default: the first LogtoIssuer)"),
    AP_INIT_TAKE1("LogtoClaimPrefix", set_claim_prefix, NULL, CONTEXT,
                  "prefix of the exported variables (default: LOGTO_)"),
    AP_INIT_TAKE1("LogtoTokenCache", set_token_cache, NULL, CONTEXT,
                  "where validated tokens are remembered: 'memory' (default), 'off', or a "
                  "mod_socache provider[:args]"),
    AP_INIT_TAKE1("LogtoTokenCacheSize", set_number, (void *)NUM_CACHE_SIZE, CONTEXT,
                  "entries of the in-process token cache (default: 16384)"),
    AP_INIT_TAKE1("LogtoTokenCacheBytes", set_cache_bytes, NULL, CONTEXT,
                  "bytes of the in-process token cache, e.g. 64M (default: 64M)"),
    AP_INIT_FLAG("LogtoFastECDSA", set_fast_ecdsa, NULL, CONTEXT,
                 "verify ES384/ES512 with tables precomputed per issuer key (default: On)"),
    {NULL}};

/* ---- start-up checks ------------------------------------------------------------------ */

static int is_directive(const ap_directive_t *d, const char *name)
{
    return d->directive && strcasecmp(d->directive, name) == 0;
}

static int is_logto_require(const ap_directive_t *d, const char *provider)
{
    const char *args = d->args;

    if (!is_directive(d, "Require")) {
        return 0;
    }
    if (strncasecmp(args, "not ", 4) == 0) {
        args += 4;
        while (*args == ' ' || *args == '\t') {
            args++;
        }
    }
    if (provider) {
        apr_size_t n = strlen(provider);

        return strncasecmp(args, provider, n) == 0 && (!args[n] || apr_isspace(args[n]));
    }
    return strncasecmp(args, "logto-", 6) == 0;
}

/* Whether a section or its descendants (<RequireAll> and the like) hold a
 * Require line of the provider. */
static int section_requires(const ap_directive_t *section, const char *provider)
{
    const ap_directive_t *d;

    for (d = section->first_child; d; d = d->next) {
        if (is_logto_require(d, provider)) {
            return 1;
        }
        if (d->first_child && d->directive[0] == '<' && section_requires(d, provider)) {
            return 1;
        }
    }
    return 0;
}

static int section_has(const ap_directive_t *section, const char *name, const char *value)
{
    const ap_directive_t *d;

    for (d = section->first_child; d; d = d->next) {
        if (is_directive(d, name) && (!value || strcasecmp(d->args, value) == 0)) {
            return 1;
        }
    }
    return 0;
}

/* Whether LogtoIssuer is set in this section, an enclosing one, or at the top. */
static int issuer_in_scope(const ap_directive_t *section, const ap_directive_t *top)
{
    const ap_directive_t *s, *d;

    for (s = section; s; s = s->parent) {
        if (section_has(s, "LogtoIssuer", NULL)) {
            return 1;
        }
    }
    for (d = top; d; d = d->next) {
        if (is_directive(d, "LogtoIssuer")) {
            return 1;
        }
    }
    return 0;
}

/* Require logto-* lines standing directly in a section (ORed by httpd). */
static int direct_logto_lines(const ap_directive_t *section)
{
    const ap_directive_t *d;
    int n = 0;

    for (d = section->first_child; d; d = d->next) {
        n += is_logto_require(d, NULL);
    }
    return n;
}

static void check_sections(const ap_directive_t *first, const ap_directive_t *top, server_rec *s)
{
    const ap_directive_t *d;
    int logto_lines;

    for (d = first; d; d = d->next) {
        if (!d->first_child || d->directive[0] != '<') {
            continue;
        }
        if (strcasecmp(d->directive, "<RequireAll") != 0
            && strcasecmp(d->directive, "<RequireAny") != 0
            && strcasecmp(d->directive, "<RequireNone") != 0
            && (logto_lines = direct_logto_lines(d)) > 1) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         LOGTO0104 "%s %s (%s:%d) has %d Require logto-* lines directly: httpd "
                                   "grants access when any one passes; wrap them in <RequireAll> "
                                   "if all must",
                         d->directive, d->args, d->filename, d->line_num, logto_lines);
        }
        if (section_has(d, "AuthType", LOGTO_AUTH_TYPE)) {
            if (!section_requires(d, "logto-audience")
                && !section_requires(d, "logto-organization")) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                             LOGTO0105 "%s %s (%s:%d) has AuthType Logto but no Require "
                                       "logto-audience or logto-organization: a token the issuer "
                                       "made for any other API or organization passes here",
                             d->directive, d->args, d->filename, d->line_num);
            }
            if (!issuer_in_scope(d, top)) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                             LOGTO0110 "%s %s (%s:%d) has AuthType Logto but no LogtoIssuer is "
                                       "set for it: its requests will fail with 500",
                             d->directive, d->args, d->filename, d->line_num);
            }
        }
        check_sections(d->first_child, top, s);
    }
}

void logto_conf_check_tree(apr_pool_t *ptemp, server_rec *s)
{
    (void)ptemp;
    check_sections(ap_conftree, ap_conftree, s);
}
