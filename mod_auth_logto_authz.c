/* mod_auth_logto: the Require logto-* providers.
 *
 * A Require line is split into words once, at start-up. A word is a literal
 * value, or an httpd expression (it holds "%{") evaluated per request into
 * exactly one value: an expression can never add values to the line. A value
 * that holds whitespace, a quote or a control character matches nothing, so
 * that text taken from the request (a URL segment, a header) is compared as
 * one whole value or not at all. */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_request.h>
#include <ap_expr.h>
#include <ap_provider.h>
#include <mod_auth.h>

#include "logto_claims.h"
#include "logto_lognum.h"
#include "mod_auth_logto.h"

APLOG_USE_MODULE(auth_logto);

typedef enum { REQUIRE_SCOPE, REQUIRE_AUDIENCE, REQUIRE_ORGANIZATION } require_e;

static const char *const require_names[] = {"logto-scope", "logto-audience", "logto-organization"};

/* One word of a Require line. */
typedef struct require_word {
    const char *literal;        /* NULL for an expression */
    const ap_expr_info_t *expr; /* evaluated per request to one value */
} require_word_t;

typedef struct require_args {
    apr_array_header_t *words; /* of require_word_t */
    int negated;               /* the line is "Require not ..." */
} require_args_t;

/* Whether a value can be compared at all: not empty, and free of whitespace,
 * quotes and control characters (which no scope, audience or organization id
 * of Logto holds, and which would let one value pose as several). */
int logto_value_usable(const char *value)
{
    const unsigned char *c = (const unsigned char *)value;

    if (!*c) {
        return 0;
    }
    for (; *c; c++) {
        if (apr_isspace(*c) || *c == '"' || *c == '\'' || *c < 0x20 || *c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* The line's values for this request, one per word; a word whose value is
 * not usable yields NULL in its place. NULL on an evaluation error. */
static apr_array_header_t *require_values(request_rec *r, const require_args_t *args,
                                          require_e kind)
{
    apr_array_header_t *values = apr_array_make(r->pool, args->words->nelts, sizeof(const char *));
    int i;

    for (i = 0; i < args->words->nelts; i++) {
        const require_word_t *word = &APR_ARRAY_IDX(args->words, i, require_word_t);
        const char *value = word->literal, *err = NULL;

        if (!value) {
            value = ap_expr_str_exec(r, word->expr, &err);
            if (err) {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                              LOGTO0106 "Require %s: cannot evaluate its expression: %s",
                              require_names[kind], err);
                return NULL;
            }
            if (!logto_value_usable(value)) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                              LOGTO0112 "Require %s: the value '%s' holds whitespace, a quote or "
                                        "a control character (or is empty): it matches nothing",
                              require_names[kind], ap_escape_logitem(r->pool, value));
                value = NULL;
            }
        }
        APR_ARRAY_PUSH(values, const char *) = value;
    }
    return values;
}

/* The usable values joined by single spaces, for the challenge and logs. */
static const char *usable_list(apr_pool_t *p, const apr_array_header_t *values)
{
    apr_array_header_t *usable = apr_array_make(p, values->nelts, sizeof(const char *));
    int i;

    for (i = 0; i < values->nelts; i++) {
        const char *value = APR_ARRAY_IDX(values, i, const char *);

        if (value) {
            APR_ARRAY_PUSH(usable, const char *) = value;
        }
    }
    return logto_list_join(p, usable);
}

static int value_matches(const logto_claims_t *claims, require_e kind, const char *value)
{
    switch (kind) {
    case REQUIRE_SCOPE:
        return logto_claims_has_scope(claims, value);
    case REQUIRE_AUDIENCE:
        return logto_claims_has_audience(claims, value);
    case REQUIRE_ORGANIZATION:
    default:
        return logto_claims_in_organization(claims, value);
    }
}

static authz_status require_check(request_rec *r, const void *parsed, require_e kind)
{
    const require_args_t *args = parsed;
    request_state_t *st;
    const apr_array_header_t *values;
    int i, pass;

    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    st = logto_state_get(r);
    if (!st || !st->claims) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      LOGTO0102 "Require %s denied: the request was not authenticated by "
                                "AuthType Logto",
                      require_names[kind]);
        return AUTHZ_DENIED;
    }
    if (!(values = require_values(r, args, kind))) {
        return AUTHZ_GENERAL_ERROR;
    }
    if (kind == REQUIRE_SCOPE) {
        /* Every listed scope must be granted; an unusable one never is. */
        for (pass = values->nelts > 0, i = 0; pass && i < values->nelts; i++) {
            const char *value = APR_ARRAY_IDX(values, i, const char *);

            pass = value && value_matches(st->claims, kind, value);
        }
    }
    else {
        /* Any listed audience or organization will do. */
        for (pass = 0, i = 0; !pass && i < values->nelts; i++) {
            const char *value = APR_ARRAY_IDX(values, i, const char *);

            pass = value && value_matches(st->claims, kind, value);
        }
    }
    if (pass != args->negated) {
        return pass ? AUTHZ_GRANTED : AUTHZ_DENIED;
    }
    /* This line denies: say why, for the error response. */
    if (args->negated) {
        st->failure = FAIL_NEGATED;
        st->required = apr_pstrcat(r->pool, "not ", require_names[kind], " ",
                                   usable_list(r->pool, values), NULL);
    }
    else {
        st->failure = (kind == REQUIRE_SCOPE)      ? FAIL_SCOPE
                      : (kind == REQUIRE_AUDIENCE) ? FAIL_AUDIENCE
                                                   : FAIL_ORGANIZATION;
        st->required = usable_list(r->pool, values);
    }
    st->status = HTTP_FORBIDDEN;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LOGTO0102 "Require %s%s %s denied for %s",
                  args->negated ? "not " : "", require_names[kind],
                  ap_escape_logitem(r->pool, usable_list(r->pool, values)),
                  ap_escape_logitem(r->pool, r->user));
    return pass ? AUTHZ_GRANTED : AUTHZ_DENIED;
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

/* ---- parsing, at start-up --------------------------------------------------------------- */

static int is_require_container(const ap_directive_t *d)
{
    return d
           && (strcasecmp(d->directive, "<RequireAll") == 0
               || strcasecmp(d->directive, "<RequireAny") == 0
               || strcasecmp(d->directive, "<RequireNone") == 0);
}

/* "not" and the whitespace after it, if the arguments start so. */
static const char *after_not(const char *args)
{
    if (strncasecmp(args, "not", 3) == 0 && apr_isspace(args[3])) {
        for (args += 3; apr_isspace(*args); args++) {
        }
    }
    return args;
}

static int is_logto_line(const ap_directive_t *d)
{
    return strcasecmp(d->directive, "Require") == 0
           && strncasecmp(after_not(d->args), "logto-", 6) == 0;
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
    const char *what = cmd->directive ? cmd->directive->args : line;
    require_args_t *args = apr_pcalloc(cmd->pool, sizeof(*args));

    if (err) {
        return err;
    }
    args->negated = cmd->directive && after_not(cmd->directive->args) != cmd->directive->args;
    args->words = apr_array_make(cmd->pool, 4, sizeof(require_word_t));
    while (*(word = ap_getword_conf(cmd->pool, &rest))) {
        require_word_t *w = apr_array_push(args->words);

        if (strstr(word, "%{")) {
            w->literal = NULL;
            w->expr = ap_expr_parse_cmd(cmd, word, AP_EXPR_FLAG_STRING_RESULT, &err, NULL);
            if (err) {
                return apr_psprintf(cmd->pool, "Require %s: cannot parse '%s': %s", what, word,
                                    err);
            }
        }
        else if (!logto_value_usable(word)) {
            return apr_psprintf(cmd->pool,
                                "Require %s: '%s' holds whitespace, a quote or a control "
                                "character: no token value can match it",
                                what, word);
        }
        else {
            w->literal = word;
            w->expr = NULL;
        }
    }
    if (args->words->nelts == 0) {
        return apr_pstrcat(cmd->pool, "Require ", what, ": needs at least one value", NULL);
    }
    *parsed = args;
    return NULL;
}

static const authz_provider scope_provider = {&scope_check, &require_parse};
static const authz_provider audience_provider = {&audience_check, &require_parse};
static const authz_provider organization_provider = {&organization_check, &require_parse};

void logto_authz_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "logto-scope", AUTHZ_PROVIDER_VERSION,
                              &scope_provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "logto-audience", AUTHZ_PROVIDER_VERSION,
                              &audience_provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "logto-organization", AUTHZ_PROVIDER_VERSION,
                              &organization_provider, AP_AUTH_INTERNAL_PER_CONF);
}
