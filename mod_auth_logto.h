/* mod_auth_logto: shared declarations of the httpd glue. */
#ifndef MOD_AUTH_LOGTO_H
#define MOD_AUTH_LOGTO_H

#include <httpd.h>
#include <http_config.h>
#include <ap_socache.h>
#include <apr_global_mutex.h>

#include "logto_auth.h"
#include "logto_store.h"
#include "logto_tcache.h"
#include "logto_validate.h"

#define LOGTO_AUTH_TYPE "Logto"

/* Defaults of the directives (DESIGN.md, conf/auth_logto.conf). */
#define DEFAULT_CLOCK_SKEW       60
#define DEFAULT_JWKS_TTL         600
#define DEFAULT_REFRESH_INTERVAL 30
#define DEFAULT_MAX_STALE        86400
#define DEFAULT_HTTP_TIMEOUT     5
#define DEFAULT_CLAIM_PREFIX     "LOGTO_"
#define DEFAULT_TOKEN_CACHE_SIZE 16384
#define DEFAULT_FAST_ECDSA       1

/* 64 MiB: more than the default entries of ordinary tokens take (about
 * 500 bytes each), so that only tokens with large scopes meet it. */
#define DEFAULT_TOKEN_CACHE_BYTES ((apr_int64_t)64 << 20)

/* A shared cache from mod_socache, set up once per configuration. */
typedef struct logto_socache {
    const char *spec; /* "shmcb:..." as written */
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
    apr_global_mutex_t *mutex;    /* for providers that are not MP-safe */
    int remote;                   /* across the network: called off-thread */
    server_rec *server;           /* set in post_config */
    logto_shared_cache_t backend; /* what lib/ calls */
} logto_socache_t;

typedef enum {
    TOKEN_CACHE_UNSET = 0,
    TOKEN_CACHE_OFF,
    TOKEN_CACHE_MEMORY,
    TOKEN_CACHE_SOCACHE
} token_cache_e;

/* The exported variables, in the order of logto_conf_env_names(). */
enum {
    VAR_SUB,
    VAR_CLIENT_ID,
    VAR_ORGANIZATION_ID,
    VAR_SCOPES,
    VAR_AUDIENCE,
    VAR_ISSUER,
    VAR_EXPIRES_AT,
    VAR_JTI,
    VAR_CLAIMS,
    VAR_COUNT
};

/* Per-directory configuration. Pointer members are NULL and numbers -1 when
 * unset, so merging can tell "unset" from a value. Read-only at request time. */
typedef struct logto_dir_conf {
    apr_array_header_t *issuers;  /* LogtoIssuer: const char * */
    const char *jwks_uri;         /* LogtoJwksUri */
    const char *jwks_file;        /* LogtoJwksFile, absolute */
    int alg_mask;                 /* LogtoAlgorithms; -1 unset */
    apr_array_header_t *types;    /* LogtoTokenType; empty array: any */
    int clock_skew;               /* LogtoClockSkew */
    int jwks_ttl;                 /* LogtoJwksCacheTTL */
    int refresh_interval;         /* LogtoJwksRefreshInterval */
    int max_stale;                /* LogtoJwksMaxStale */
    int http_timeout;             /* LogtoHttpTimeout */
    const char *ca_file;          /* LogtoCACertificateFile, absolute */
    const char *realm;            /* LogtoRealm */
    const char *claim_prefix;     /* LogtoClaimPrefix */
    const char *const *env_names; /* the variables under claim_prefix, VAR_COUNT of them */
    token_cache_e token_cache;    /* LogtoTokenCache */
    logto_socache_t *socache;     /* LogtoTokenCache <provider> */
    int token_cache_size;         /* LogtoTokenCacheSize */

    apr_int64_t token_cache_bytes; /* LogtoTokenCacheBytes */
    int fast_ecdsa;                /* LogtoFastECDSA: 1 On, 0 Off */
} logto_dir_conf_t;

extern module AP_MODULE_DECLARE_DATA auth_logto_module;

/* ---- per-request state ------------------------------------------------------------
 * Authentication, the Require providers and the error response share it through
 * r->request_config (mod_auth_logto.c owns it). */

typedef enum {
    FAIL_NONE = 0,
    FAIL_NO_HEADER,
    FAIL_SCHEME,
    FAIL_INVALID,
    FAIL_UNAVAILABLE,
    FAIL_CONFIG,
    FAIL_SCOPE,
    FAIL_AUDIENCE,
    FAIL_ORGANIZATION,
    FAIL_NEGATED /* a "Require not logto-..." line matched */
} failure_e;

typedef struct request_state {
    const logto_dir_conf_t *conf;
    const logto_claims_t *claims; /* set once the token is valid */
    const void *policy;           /* the compiled policy that accepted them */
    const char *authorization;    /* the header that carried the token */
    failure_e failure;            /* why the module refused, FAIL_NONE if it did not */
    int status;                   /* the status the module answered with its failure */
    int authz_passed;             /* authorization granted the request */
    logto_reason_e reason;        /* FAIL_INVALID */
    const char *required;         /* the values of the line that denied (FAIL_SCOPE: the scopes) */
} request_state_t;

/* The state of r, or of the request it was made for (subrequests, internal
 * redirects); NULL when AuthType Logto never ran. */
request_state_t *logto_state_get(request_rec *r);

/* Records a failure of the module and returns its status. */
int logto_fail(request_state_t *st, failure_e failure, int status);

/* mod_auth_logto_authz.c: the Require providers. */
void logto_authz_register(apr_pool_t *p);

/* Whether a value from a Require line can match anything: not empty, and no
 * whitespace, quote or control character. */
int logto_value_usable(const char *value);

/* mod_auth_logto_response.c: the error responses (status, challenge, JSON body). */
void logto_response_register(void);

/* Whether r is under AuthType Logto. */
int logto_is_ours(request_rec *r);

extern const command_rec logto_cmds[];
void *logto_create_dir_conf(apr_pool_t *p, char *dir);
void *logto_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);

/* The effective values of a merged configuration. */
const char *logto_conf_realm(const logto_dir_conf_t *conf);
const char *logto_conf_prefix(const logto_dir_conf_t *conf);
const char *const *logto_conf_env_names(const logto_dir_conf_t *conf);

/* Warns about LogtoCACertificateFile / LogtoJwksFile files that the child
 * processes, running as User, cannot read (post_config, as root). */
void logto_conf_check_child_files(server_rec *s);

/* Start-up checks over the whole configuration tree (warnings only). */
void logto_conf_check_tree(apr_pool_t *ptemp, server_rec *s);

/* mod_auth_logto_socache.c: LogtoTokenCache <provider>[:args]. */

/* The shared cache for a spec, created on its first mention in the
 * configuration; an error message otherwise. */
const char *logto_socache_find(cmd_parms *cmd, const char *spec, logto_socache_t **sc);

void logto_socaches_pre_config(apr_pool_t *pconf);
apr_status_t logto_socaches_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);
apr_status_t logto_socaches_child_init(apr_pool_t *pchild, server_rec *s);

/* The shared cache as lib/ uses it. */
const logto_shared_cache_t *logto_socache_backend(logto_socache_t *sc);

#endif /* MOD_AUTH_LOGTO_H */
