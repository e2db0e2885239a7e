#include <string.h>

#include <apr_strings.h>
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "logto_http.h"

#define MAX_REDIRECTS 3
#define USER_AGENT                                                                                 \
    "mod_auth_logto/"                                                                              \
    "0.1"

typedef struct body {
    apr_pool_t *pool;
    char *data;
    apr_size_t len;
    apr_size_t cap;
    apr_size_t max;
    int too_large;
} body_t;

typedef struct headers {
    int encoded; /* a Content-Encoding other than identity */
} headers_t;

apr_status_t logto_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? APR_SUCCESS : APR_EGENERAL;
}

static int host_is_loopback(const char *host)
{
    return strcmp(host, "127.0.0.1") == 0 || strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0
           || strcasecmp(host, "localhost") == 0;
}

/* Splits url into scheme and host (lower-cased by curl); 0 when unparsable. */
static int url_parts(const char *url, char **scheme, char **host, char **port)
{
    CURLU *u = curl_url();
    int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK
             && curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK
             && curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK
             && (!port || curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK);

    curl_url_cleanup(u);
    return ok;
}

int logto_url_allowed(const char *url, const char **why)
{
    char *scheme = NULL, *host = NULL;
    int ok = 0;

    if (!url_parts(url, &scheme, &host, NULL)) {
        *why = "not a valid URL";
    }
    else if (strcmp(scheme, "https") == 0
             || (strcmp(scheme, "http") == 0 && host_is_loopback(host))) {
        ok = 1;
    }
    else if (strcmp(scheme, "http") == 0) {
        *why = "plain http is allowed only on loopback hosts";
    }
    else {
        *why = "the scheme must be https";
    }
    curl_free(scheme);
    curl_free(host);
    return ok;
}

/* Same scheme, host and port: the only redirects we follow. */
static int same_origin(const char *a, const char *b)
{
    char *sa = NULL, *ha = NULL, *pa = NULL, *sb = NULL, *hb = NULL, *pb = NULL;
    int same = url_parts(a, &sa, &ha, &pa) && url_parts(b, &sb, &hb, &pb) && !strcmp(sa, sb)
               && !strcasecmp(ha, hb) && !strcmp(pa, pb);

    curl_free(sa);
    curl_free(ha);
    curl_free(pa);
    curl_free(sb);
    curl_free(hb);
    curl_free(pb);
    return same;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *baton)
{
    body_t *body = baton;
    apr_size_t n = size * nmemb;

    if (n > body->max - body->len) {
        body->too_large = 1;
        return 0; /* aborts the transfer */
    }
    if (body->len + n + 1 > body->cap) {
        apr_size_t cap = body->cap ? body->cap : 4096;
        char *grown;

        while (cap < body->len + n + 1) {
            cap *= 2;
        }
        grown = apr_palloc(body->pool, cap);
        if (body->len) {
            memcpy(grown, body->data, body->len);
        }
        body->data = grown;
        body->cap = cap;
    }
    memcpy(body->data + body->len, data, n);
    body->len += n;
    body->data[body->len] = '\0';
    return n;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *baton)
{
    headers_t *h = baton;
    size_t n = size * nmemb;
    static const char name[] = "content-encoding:";

    if (n > sizeof(name) - 1 && strncasecmp(line, name, sizeof(name) - 1) == 0) {
        const char *v = line + sizeof(name) - 1;

        while (*v == ' ' || *v == '\t') {
            v++;
        }
        if (strncasecmp(v, "identity", 8) != 0) {
            h->encoded = 1;
        }
    }
    return n;
}

/* Adds the configured CA file to OpenSSL's store, on top of the system's. */
static CURLcode add_ca_file(CURL *curl, void *ssl_ctx, void *baton)
{
    X509_STORE *store = SSL_CTX_get_cert_store((SSL_CTX *)ssl_ctx);

    (void)curl;
    if (X509_STORE_load_file(store, (const char *)baton) != 1) {
        ERR_clear_error();
        return CURLE_SSL_CACERT_BADFILE;
    }
    return CURLE_OK;
}

/* curl's progress callback: non-zero aborts the transfer. */
static int on_progress(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    const logto_http_opts_t *opts = data;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return opts->cancelled(opts->cancel_baton) ? 1 : 0;
}

static apr_status_t get_once(apr_pool_t *p, const char *url, const logto_http_opts_t *opts,
                             apr_time_t deadline, logto_http_resp_t *resp, char **location,
                             const char **error)
{
    CURL *curl = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    body_t body = {p, NULL, 0, 0, opts->max_body, 0};
    headers_t headers = {0};
    apr_interval_time_t left = deadline - apr_time_now();
    long status = 0, ms = (long)apr_time_as_msec(left);
    char *redirect = NULL;
    logto_http_opts_t cancel = *opts; /* what the progress callback reads */
    CURLcode rc;

    if (!curl) {
        *error = "cannot create a curl handle";
        return APR_ENOMEM;
    }
    if (ms <= 0) {
        curl_easy_cleanup(curl);
        *error = "timed out";
        return APR_TIMEUP;
    }
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM */
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, ms);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L); /* redirects are vetted below */
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
    curl_easy_setopt(curl, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)opts->max_body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &headers);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    if (opts->cancelled) {
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &cancel);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    }
    if (opts->ca_file) {
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, add_ca_file);
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, apr_pstrdup(p, opts->ca_file));
    }
    rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK && redirect) {
            *location = apr_pstrdup(p, redirect);
        }
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK) {
        if (body.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
            *error = "response larger than the limit";
        }
        else if (rc == CURLE_ABORTED_BY_CALLBACK) {
            *error = "cancelled";
            return APR_ECONNABORTED;
        }
        else {
            *error = apr_pstrdup(p, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        }
        return APR_EGENERAL;
    }
    if (headers.encoded) {
        *error = "compressed response refused";
        return APR_EGENERAL;
    }
    resp->status = (int)status;
    resp->body = body.data ? body.data : "";
    resp->len = body.len;
    return APR_SUCCESS;
}

static apr_status_t curl_get(void *baton, apr_pool_t *p, const char *url,
                             const logto_http_opts_t *opts, logto_http_resp_t *resp,
                             const char **error)
{
    const apr_time_t deadline = apr_time_now() + opts->timeout;
    int hops;

    (void)baton;
    for (hops = 0;; hops++) {
        char *location = NULL;
        apr_status_t rv;

        if (opts->cancelled && opts->cancelled(opts->cancel_baton)) {
            *error = "cancelled";
            return APR_ECONNABORTED;
        }
        rv = get_once(p, url, opts, deadline, resp, &location, error);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (resp->status < 300 || resp->status > 399 || !location) {
            return APR_SUCCESS;
        }
        if (hops == MAX_REDIRECTS) {
            *error = "too many redirects";
            return APR_EGENERAL;
        }
        if (!same_origin(url, location)) {
            *error = "redirect to another origin refused";
            return APR_EGENERAL;
        }
        url = location;
    }
}

static const logto_http_t curl_http = {curl_get, NULL};

const logto_http_t *logto_http_curl(void)
{
    return &curl_http;
}
