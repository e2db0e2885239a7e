/* Fetching (issue 4): which URLs may be fetched at all, and the libcurl
 * fetcher against a real server on 127.0.0.1 (mini_server.c): size cap, no
 * compressed bodies, redirects only within the origin and at most 3, and a
 * stalled or absent server bounded in time. */
#include <string.h>

#include <apr_strings.h>

#include "logto_http.h"
#include "mini_server.h"
#include "unit.h"

#define JSON_BODY "{\"keys\":[]}"

/* ---- logto_url_allowed ------------------------------------------------------------- */

static void url_allowed_https_and_loopback_http(void **state)
{
    static const char *const ok[] = {
        "https://tenant.logto.app/oidc",
        "https://tenant.logto.app/oidc/jwks",
        "https://auth.example.com:8443/oidc",
        "https://127.0.0.1/oidc",
        "http://127.0.0.1/oidc",
        "http://127.0.0.1:3001/oidc/jwks",
        "http://localhost:3001/oidc",
        "http://LOCALHOST/oidc",
        "http://[::1]:3001/oidc",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        const char *why = NULL;

        if (!logto_url_allowed(ok[i], &why)) {
            fail_msg("%s refused: %s", ok[i], why ? why : "?");
        }
    }
}

static void url_allowed_refuses(void **state)
{
    static const char *const refused[] = {
        /* plain http off loopback, however it is dressed */
        "http://tenant.logto.app/oidc",
        "http://127.0.0.1.evil.com/oidc",
        "http://localhost.evil.com/oidc",
        "http://127.0.0.1@evil.com/oidc",
        "http://127.0.0.1:80@evil.com/oidc",
        "http://localhost:pw@evil.com/oidc",
        "http://evil.com/127.0.0.1",
        "http://evil.com/?h=127.0.0.1",
        "http://evil.com#@127.0.0.1/",
        "http://10.0.0.1/oidc",
        /* other schemes */
        "ftp://127.0.0.1/jwks",
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "gopher://127.0.0.1/",
        "ws://127.0.0.1/",
        "javascript:alert(1)",
        /* not URLs */
        "",
        "garbage",
        "127.0.0.1/oidc",
        "//127.0.0.1/oidc",
        "https://",
        "http://[::1/oidc",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        const char *why = NULL;

        if (logto_url_allowed(refused[i], &why)) {
            fail_msg("%s allowed", refused[i]);
        }
        assert_non_null(why);
    }
}

/* ---- the libcurl fetcher ------------------------------------------------------------ */

typedef struct fetch {
    apr_status_t rv;
    logto_http_resp_t resp;
    const char *error;
    apr_interval_time_t took;
} fetch_t;

static fetch_t fetch(apr_pool_t *p, const char *url, apr_size_t max_body,
                     apr_interval_time_t timeout)
{
    logto_http_opts_t opts;
    fetch_t f;
    apr_time_t start = apr_time_now();

    memset(&opts, 0, sizeof(opts));
    opts.timeout = timeout;
    opts.max_body = max_body;
    assert_int_equal(logto_http_global_init(), APR_SUCCESS);
    memset(&f, 0, sizeof(f));
    f.rv = logto_http_curl()->get(logto_http_curl()->baton, p, url, &opts, &f.resp, &f.error);
    f.took = apr_time_now() - start;
    return f;
}

#define fetch_url(p, s, path)                                                                      \
    fetch((p), mini_server_url((s), (p), (path)), 4096, apr_time_from_sec(5))

static void assert_fetch_failed(const fetch_t *f)
{
    assert_int_not_equal(f->rv, APR_SUCCESS);
    assert_non_null(f->error);
    assert_true(f->error[0] != '\0');
}

static const char *answer(apr_pool_t *p, const char *status, const char *headers, const char *body)
{
    return apr_psprintf(p,
                        "HTTP/1.1 %s\r\nContent-Type: application/json\r\n%sContent-Length: "
                        "%lu\r\nConnection: close\r\n\r\n%s",
                        status, headers, (unsigned long)strlen(body), body);
}

static const char *redirect(apr_pool_t *p, const char *location)
{
    return apr_psprintf(p,
                        "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n"
                        "Connection: close\r\n\r\n",
                        location);
}

static void curl_returns_any_answer(void **state)
{
    apr_pool_t *p = *state;
    mini_server_t *s = mini_server_start(p);
    fetch_t f;

    mini_server_route(s, "/jwks", answer(p, "200 OK", "", JSON_BODY));
    mini_server_route(s, "/missing", answer(p, "404 Not Found", "", "no"));
    mini_server_route(s, "/empty", answer(p, "200 OK", "", ""));

    f = fetch_url(p, s, "/jwks");
    assert_int_equal(f.rv, APR_SUCCESS);
    assert_int_equal(f.resp.status, 200);
    assert_int_equal(f.resp.len, strlen(JSON_BODY));
    assert_string_equal(f.resp.body, JSON_BODY);

    f = fetch_url(p, s, "/missing");
    assert_int_equal(f.rv, APR_SUCCESS);
    assert_int_equal(f.resp.status, 404);

    f = fetch_url(p, s, "/empty");
    assert_int_equal(f.rv, APR_SUCCESS);
    assert_int_equal(f.resp.status, 200);
    assert_int_equal(f.resp.len, 0);
    assert_string_equal(f.resp.body, "");
    assert_int_equal(mini_server_hits(s, NULL), 3);
}

static void curl_body_over_max_refused(void **state)
{
    apr_pool_t *p = *state;
    mini_server_t *s = mini_server_start(p);
    char *big = apr_palloc(p, 2001);
    fetch_t f;

    memset(big, 'a', 2000);
    big[2000] = '\0';
    /* announced with Content-Length */
    mini_server_route(s, "/big", answer(p, "200 OK", "", big));
    /* not announced: delimited by the close */
    mini_server_route(s, "/big-close",
                      apr_pstrcat(p, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", big, NULL));
    /* chunked */
    mini_server_route(s, "/big-chunked",
                      apr_pstrcat(p,
                                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                                  "Connection: close\r\n\r\n7d0\r\n",
                                  big, "\r\n0\r\n\r\n", NULL));

    f = fetch(p, mini_server_url(s, p, "/big"), 1000, apr_time_from_sec(5));
    assert_fetch_failed(&f);
    f = fetch(p, mini_server_url(s, p, "/big-close"), 1000, apr_time_from_sec(5));
    assert_fetch_failed(&f);
    f = fetch(p, mini_server_url(s, p, "/big-chunked"), 1000, apr_time_from_sec(5));
    assert_fetch_failed(&f);

    /* exactly at the cap is fine, whichever way it is delimited */
    f = fetch(p, mini_server_url(s, p, "/big"), 2000, apr_time_from_sec(5));
    assert_int_equal(f.rv, APR_SUCCESS);
    assert_int_equal(f.resp.len, 2000);
    f = fetch(p, mini_server_url(s, p, "/big-close"), 2000, apr_time_from_sec(5));
    assert_int_equal(f.rv, APR_SUCCESS);
    assert_int_equal(f.resp.len, 2000);
    f = fetch(p, mini_server_url(s, p, "/big-chunked"), 2000, apr_time_from_sec(5));
    assert_int_equal(f.rv, APR_SUCCESS);
    assert_int_equal(f.resp.len, 2000);
}

static void curl_truncated_body_fails(void **state)
{
    apr_pool_t *p = *state;
    mini_server_t *s = mini_server_start(p);
    fetch_t f;

    mini_server_route(s, "/short",
                      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n"
                      "{\"keys\":");
    f = fetch_url(p, s, "/short");
    assert_fetch_failed(&f);
}

static void curl_compressed_body_refused(void **state)
{
    apr_pool_t *p = *state;
    mini_server_t *s = mini_server_start(p);
    fetch_t f;

    mini_server_route(s, "/gzip", answer(p, "200 OK", "Content-Encoding: gzip\r\n", JSON_BODY));
    mini_server_route(s, "/br", answer(p, "200 OK", "content-encoding:  BR\r\n", JSON_BODY));
    mini_server_route(s, "/identity",
                      answer(p, "200 OK", "Content-Encoding: identity\r\n", JSON_BODY));

    f = fetch_url(p, s, "/gzip");
    assert_fetch_failed(&f);
    f = fetch_url(p, s, "/br");
    assert_fetch_failed(&f);
    f = fetch_url(p, s, "/identity");
    assert_int_equal(f.rv, APR_SUCCESS);
    assert_string_equal(f.resp.body, JSON_BODY);
}

static void curl_follows_same_origin_redirects(void **state)
{
    apr_pool_t *p = *state;
    mini_server_t *s = mini_server_start(p);
    fetch_t f;

    mini_server_route(s, "/jwks", answer(p, "200 OK", "", JSON_BODY));
    mini_server_route(s, "/relative", redirect(p, "/jwks"));
    mini_server_route(s, "/absolute", redirect(p, mini_server_url(s, p, "/jwks")));

    f = fetch_url(p, s, "/relative");
    assert_int_equal(f.rv, APR_SUCCESS);
    assert_int_equal(f.resp.status, 200);
    assert_string_equal(f.resp.body, JSON_BODY);
    f = fetch_url(p, s, "/absolute");
    assert_int_equal(f.rv, APR_SUCCESS);
    assert_string_equal(f.resp.body, JSON_BODY);
    assert_int_equal(mini_server_hits(s, "/jwks"), 2);
}

static void curl_refuses_redirect_to_another_origin(void **state)
{
    apr_pool_t *p = *state;
    mini_server_t *s = mini_server_start(p), *other = mini_server_start(p);
    fetch_t f;

    mini_server_route(other, "/jwks", answer(p, "200 OK", "", JSON_BODY));
    mini_server_route(s, "/jwks", answer(p, "200 OK", "", JSON_BODY));
    /* another port */
    mini_server_route(s, "/port", redirect(p, mini_server_url(other, p, "/jwks")));
    /* the same port under another host name */
    mini_server_route(
        s, "/host", redirect(p, apr_psprintf(p, "http://localhost:%d/jwks", mini_server_port(s))));
    /* another scheme */
    mini_server_route(
        s, "/scheme",
        redirect(p, apr_psprintf(p, "https://127.0.0.1:%d/jwks", mini_server_port(s))));

    f = fetch_url(p, s, "/port");
    assert_fetch_failed(&f);
    assert_int_equal(mini_server_hits(other, NULL), 0);
    f = fetch_url(p, s, "/host");
    assert_fetch_failed(&f);
    f = fetch_url(p, s, "/scheme");
    assert_fetch_failed(&f);
    assert_int_equal(mini_server_hits(s, "/jwks"), 0);
}

static void curl_at_most_three_redirects(void **state)
{
    apr_pool_t *p = *state;
    mini_server_t *s = mini_server_start(p);
    fetch_t f;
    int i;

    mini_server_route(s, "/hop/0", answer(p, "200 OK", "", JSON_BODY));
    for (i = 1; i <= 4; i++) {
        mini_server_route(s, apr_psprintf(p, "/hop/%d", i),
                          redirect(p, apr_psprintf(p, "/hop/%d", i - 1)));
    }
    mini_server_route(s, "/loop", redirect(p, "/loop"));

    f = fetch_url(p, s, "/hop/3");
    assert_int_equal(f.rv, APR_SUCCESS);
    assert_string_equal(f.resp.body, JSON_BODY);
    assert_int_equal(mini_server_hits(s, "/hop/0"), 1);

    f = fetch_url(p, s, "/hop/4");
    assert_fetch_failed(&f);
    assert_int_equal(mini_server_hits(s, "/hop/0"), 1); /* never reached */
    assert_int_equal(mini_server_hits(s, "/hop/4"), 1);

    f = fetch_url(p, s, "/loop");
    assert_fetch_failed(&f);
    assert_int_equal(mini_server_hits(s, "/loop"), 4);
}

static void curl_stalled_server_times_out(void **state)
{
    apr_pool_t *p = *state;
    mini_server_t *s = mini_server_start(p);
    fetch_t f;

    mini_server_route(s, "/stall", NULL);
    f = fetch(p, mini_server_url(s, p, "/stall"), 4096, apr_time_from_sec(1));
    assert_fetch_failed(&f);
    assert_int_equal(mini_server_hits(s, "/stall"), 1);
    assert_true(f.took >= apr_time_from_msec(900));
    assert_true(f.took < apr_time_from_sec(3));
}

/* The timeout bounds the whole fetch, redirects included. */
static void curl_timeout_covers_redirects(void **state)
{
    apr_pool_t *p = *state;
    mini_server_t *s = mini_server_start(p);
    fetch_t f;

    mini_server_route(s, "/stall", NULL);
    mini_server_route(s, "/to-stall", redirect(p, "/stall"));
    f = fetch(p, mini_server_url(s, p, "/to-stall"), 4096, apr_time_from_sec(1));
    assert_fetch_failed(&f);
    assert_int_equal(mini_server_hits(s, "/stall"), 1);
    assert_true(f.took < apr_time_from_sec(3));
}

static void curl_connection_refused_fails_fast(void **state)
{
    apr_pool_t *p = *state;
    int port = mini_server_closed_port(p);
    fetch_t f =
        fetch(p, apr_psprintf(p, "http://127.0.0.1:%d/jwks", port), 4096, apr_time_from_sec(5));

    assert_fetch_failed(&f);
    assert_true(f.took < apr_time_from_sec(1));
}

static const struct CMUnitTest tests[] = {
    unit_test(url_allowed_https_and_loopback_http),
    unit_test(url_allowed_refuses),
    unit_test(curl_returns_any_answer),
    unit_test(curl_body_over_max_refused),
    unit_test(curl_truncated_body_fails),
    unit_test(curl_compressed_body_refused),
    unit_test(curl_follows_same_origin_redirects),
    unit_test(curl_refuses_redirect_to_another_origin),
    unit_test(curl_at_most_three_redirects),
    unit_test(curl_stalled_server_times_out),
    unit_test(curl_timeout_covers_redirects),
    unit_test(curl_connection_refused_fails_fast),
};

LOGTO_TEST_GROUP(http, tests);
