/* logto-jwt: decode or verify a Logto access token with the module's own core,
 * so a token refused by httpd can be examined with the same rules.
 *
 *   logto-jwt decode [TOKEN|-]
 *   logto-jwt verify --issuer URL [--jwks FILE | --jwks-uri URL] [--alg ALG]...
 *                    [--typ TYP|any]... [--leeway SECONDS] [--at UNIXTIME] [TOKEN|-]
 *   logto-jwt thumbprint [JWK-FILE|-]
 *
 * Tokens are read from standard input when not given (or given as "-"): a
 * token on the command line is visible to every user of the machine. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_getopt.h>
#include <apr_strings.h>
#include <jansson.h>

#include "logto_http.h"
#include "logto_jws.h"
#include "logto_log.h"
#include "logto_validate.h"

#define EXIT_INVALID     1
#define EXIT_USAGE       2
#define EXIT_UNAVAILABLE 3
#define INPUT_MAX        (LOGTO_JWKS_MAX_BYTES + 1)

static void usage(void)
{
    fputs("usage: logto-jwt decode [TOKEN|-]\n"
          "       logto-jwt verify --issuer URL [--jwks FILE | --jwks-uri URL] [--alg ALG]...\n"
          "                        [--typ TYP|any]... [--leeway SECONDS] [--at UNIXTIME] "
          "[TOKEN|-]\n"
          "       logto-jwt thumbprint [JWK-FILE|-]\n"
          "Without TOKEN (or with -) the token is read from standard input.\n"
          "Exit status: 0 valid, 1 invalid, 2 usage, 3 keys unavailable.\n",
          stderr);
}

static void to_stderr(void *baton, logto_log_level_e level, apr_status_t rv, const char *file,
                      int line, const char *fmt, va_list ap)
{
    (void)baton;
    (void)rv;
    (void)file;
    (void)line;
    fprintf(stderr, "logto-jwt: %s: ", level <= LOGTO_LOG_WARNING ? "warning" : "info");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static int info_and_up(void *baton, logto_log_level_e level)
{
    (void)baton;
    return level <= LOGTO_LOG_INFO;
}

/* Reads a whole file ("-": standard input), trailing whitespace removed. */
static char *read_input(apr_pool_t *p, const char *path, apr_size_t *len)
{
    apr_file_t *f;
    char *buf = apr_palloc(p, INPUT_MAX + 1);
    apr_size_t n = INPUT_MAX;
    apr_status_t rv;

    rv = (!path || strcmp(path, "-") == 0) ? apr_file_open_stdin(&f, p)
                                           : apr_file_open(&f, path, APR_FOPEN_READ, 0, p);
    if (rv != APR_SUCCESS) {
        return NULL;
    }
    rv = apr_file_read_full(f, buf, n, &n);
    if ((rv != APR_SUCCESS && rv != APR_EOF) || n == INPUT_MAX) {
        return NULL;
    }
    while (n > 0 && strchr(" \t\r\n", buf[n - 1])) {
        n--;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void print_json(const char *label, json_t *json)
{
    char *text = json ? json_dumps(json, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

    printf("%s:\n%s\n", label, text ? text : "(not JSON)");
    free(text);
}

static int cmd_decode(apr_pool_t *p, const char *input)
{
    apr_size_t len = 0;
    const char *token = read_input(p, input, &len);
    logto_jws_t *jws;
    logto_result_t res;

    if (!token) {
        fputs("logto-jwt: cannot read the token\n", stderr);
        return EXIT_USAGE;
    }
    if (logto_jws_parse(p, token, len, LOGTO_JWS_PAYLOAD_ANY, &jws, &res) != APR_SUCCESS) {
        printf("not a usable JWS: %s (%s)\n", logto_reason_name(res.reason),
               res.detail ? res.detail : logto_reason_text(res.reason));
        return EXIT_INVALID;
    }
    printf("UNVERIFIED: decoding checks the structure only, not the signature.\n");
    print_json("header", jws->header);
    print_json("payload", jws->payload);
    return 0;
}

static int cmd_thumbprint(apr_pool_t *p, const char *input)
{
    apr_size_t len = 0;
    const char *json = read_input(p, input, &len), *thumbprint;

    if (!json || logto_jwk_thumbprint(p, json, len, &thumbprint) != APR_SUCCESS) {
        fputs("logto-jwt: not a public JWK of kty RSA, EC or OKP\n", stderr);
        return EXIT_USAGE;
    }
    printf("%s\n", thumbprint);
    return 0;
}

static void print_list(const char *label, const apr_array_header_t *list)
{
    int i;

    printf("%-16s", label);
    for (i = 0; i < list->nelts; i++) {
        printf("%s%s", i ? " " : "", APR_ARRAY_IDX(list, i, const char *));
    }
    printf("\n");
}

/* A non-negative whole number of seconds, as apr_time_t. */
static int parse_seconds(const char *arg, apr_time_t *out)
{
    char *end;
    apr_int64_t v;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (errno || end == arg || *end || v < 0 || v > 253402300799LL) {
        return 0;
    }
    *out = apr_time_from_sec(v);
    return 1;
}

static int cmd_verify(apr_pool_t *p, int argc, const char *const *argv)
{
    static const apr_getopt_option_t options[] = {
        {"issuer", 'i', 1, "accepted iss"},  {"jwks", 'f', 1, "JWK Set file"},
        {"jwks-uri", 'u', 1, "JWK Set URL"}, {"alg", 'a', 1, "allowed algorithm"},
        {"typ", 't', 1, "accepted typ"},     {"leeway", 'l', 1, "seconds"},
        {"at", 'n', 1, "time to check at"},  {NULL, 0, 0, NULL}};
    apr_getopt_t *opt;
    const char *arg, *issuer = NULL, *token;
    logto_store_conf_t sconf;
    logto_policy_t *policy = logto_policy_make(p);
    logto_store_t *store;
    logto_claims_t *claims;
    logto_store_t *used;
    apr_uint32_t epoch;
    logto_result_t res;
    apr_time_t now = apr_time_now();
    apr_size_t len = 0;
    int ch, algs = 0, types = 0;

    memset(&sconf, 0, sizeof(sconf));
    sconf.ttl = apr_time_from_sec(600);
    sconf.refresh_interval = apr_time_from_sec(30);
    sconf.max_stale = 0;
    sconf.http_timeout = apr_time_from_sec(5);
    apr_getopt_init(&opt, p, argc, argv);
    while (apr_getopt_long(opt, options, &ch, &arg) == APR_SUCCESS) {
        switch (ch) {
        case 'i':
            issuer = arg;
            break;
        case 'f':
            sconf.jwks_file = arg;
            break;
        case 'u':
            sconf.jwks_uri = arg;
            break;
        case 'a':
            if (logto_alg_from_name(arg) == LOGTO_ALG_UNKNOWN) {
                fprintf(stderr, "logto-jwt: algorithm '%s' is never accepted\n", arg);
                return EXIT_USAGE;
            }
            policy->alg_mask =
                (algs++ ? policy->alg_mask : 0) | LOGTO_ALG_BIT(logto_alg_from_name(arg));
            break;
        case 't':
            if (strcasecmp(arg, "any") == 0) {
                policy->types = NULL;
            }
            else {
                if (types++ == 0 || !policy->types) {
                    policy->types = apr_array_make(p, 2, sizeof(const char *));
                }
                APR_ARRAY_PUSH(policy->types, const char *) = apr_pstrdup(p, arg);
            }
            break;
        case 'l':
            if (!parse_seconds(arg, &policy->leeway)) {
                fprintf(stderr, "logto-jwt: --leeway wants seconds, not '%s'\n", arg);
                return EXIT_USAGE;
            }
            break;
        case 'n':
            if (!parse_seconds(arg, &now)) {
                fprintf(stderr, "logto-jwt: --at wants a Unix time, not '%s'\n", arg);
                return EXIT_USAGE;
            }
            break;
        default:
            usage();
            return EXIT_USAGE;
        }
    }
    if (!issuer || (sconf.jwks_file && sconf.jwks_uri)) {
        usage();
        return EXIT_USAGE;
    }
    sconf.issuer = issuer;
    if (logto_http_global_init() != APR_SUCCESS
        || logto_store_create(&store, &sconf, logto_http_curl(), p) != APR_SUCCESS) {
        fputs("logto-jwt: cannot set up\n", stderr);
        return EXIT_USAGE;
    }
    logto_policy_add_issuer(policy, issuer, store);
    logto_policy_seal(policy);
    if (!(token = read_input(p, opt->ind < argc ? argv[opt->ind] : NULL, &len))) {
        fputs("logto-jwt: cannot read the token\n", stderr);
        return EXIT_USAGE;
    }
    if (logto_validate(policy, token, len, now, p, &claims, &used, &epoch, &res) != APR_SUCCESS) {
        printf("invalid: %s: %s (%s)\n", logto_reason_name(res.reason),
               logto_reason_text(res.reason), res.detail ? res.detail : "-");
        return res.reason == LOGTO_KEYS_UNAVAILABLE ? EXIT_UNAVAILABLE : EXIT_INVALID;
    }
    printf("valid\n");
    printf("%-16s%s\n", "sub", claims->sub);
    printf("%-16s%s\n", "client_id", claims->client_id ? claims->client_id : "-");
    printf("%-16s%s\n", "organization", claims->organization_id ? claims->organization_id : "-");
    print_list("scopes", claims->scopes);
    print_list("audience", claims->audiences);
    printf("%-16s%s\n", "issuer", claims->iss);
    printf("%-16s%" APR_INT64_T_FMT "\n", "expires_at", claims->exp);
    printf("%-16s%s\n", "kid", claims->kid ? claims->kid : "-");
    return 0;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    int rc;

    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS
        || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return EXIT_USAGE;
    }
    logto_log_set(to_stderr, info_and_up, NULL);
    if (argc >= 2 && strcmp(argv[1], "decode") == 0) {
        rc = cmd_decode(p, argc > 2 ? argv[2] : NULL);
    }
    else if (argc >= 2 && strcmp(argv[1], "thumbprint") == 0) {
        rc = cmd_thumbprint(p, argc > 2 ? argv[2] : NULL);
    }
    else if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
        rc = cmd_verify(p, argc - 1, argv + 1);
    }
    else {
        usage();
        rc = EXIT_USAGE;
    }
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
