#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_network_io.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "mini_server.h"
#include "unit.h"

#define MAX_ROUTES  32
#define MAX_PATH    256
#define MAX_REQUEST 8192
#define POLL        apr_time_from_msec(20)

typedef struct mroute {
    char path[MAX_PATH];
    char *raw; /* malloc'd; NULL: stall */
    unsigned hits;
} mroute_t;

struct mini_server {
    apr_socket_t *listener;
    apr_thread_t *thread;
    apr_thread_mutex_t *mutex; /* guards routes, nroutes and hits */
    mroute_t routes[MAX_ROUTES];
    int nroutes;
    unsigned hits;
    volatile apr_uint32_t stop;
    int port;
};

static char *copy_string(const char *text)
{
    size_t len = strlen(text) + 1;
    char *copy = malloc(len);

    if (copy) {
        memcpy(copy, text, len);
    }
    return copy;
}

static const char not_found[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                                "Connection: close\r\n\r\n";

static mroute_t *find_route_locked(mini_server_t *s, const char *path)
{
    int i;

    for (i = 0; i < s->nroutes; i++) {
        if (strcmp(s->routes[i].path, path) == 0) {
            return &s->routes[i];
        }
    }
    return NULL;
}

/* Reads the request head; 0 when the client went away or we are stopping. */
static int read_head(mini_server_t *s, apr_socket_t *conn, char *buf, apr_size_t cap)
{
    apr_size_t have = 0;

    while (!apr_atomic_read32(&s->stop)) {
        apr_size_t n = cap - 1 - have;
        apr_status_t rv = apr_socket_recv(conn, buf + have, &n);

        have += n;
        buf[have] = '\0';
        if (strstr(buf, "\r\n\r\n")) {
            return 1;
        }
        if (have >= cap - 1
            || (rv != APR_SUCCESS && !APR_STATUS_IS_TIMEUP(rv) && !APR_STATUS_IS_EAGAIN(rv))) {
            return 0;
        }
    }
    return 0;
}

/* Waits until the client closes the connection, or we stop. */
static void stall(mini_server_t *s, apr_socket_t *conn)
{
    char buf[512];

    while (!apr_atomic_read32(&s->stop)) {
        apr_size_t n = sizeof(buf);
        apr_status_t rv = apr_socket_recv(conn, buf, &n);

        if (rv != APR_SUCCESS && !APR_STATUS_IS_TIMEUP(rv) && !APR_STATUS_IS_EAGAIN(rv)) {
            return;
        }
    }
}

static void send_all(apr_socket_t *conn, const char *data, apr_size_t len)
{
    while (len > 0) {
        apr_size_t n = len;
        apr_status_t rv = apr_socket_send(conn, data, &n);

        if (rv != APR_SUCCESS && !APR_STATUS_IS_TIMEUP(rv) && !APR_STATUS_IS_EAGAIN(rv)) {
            return;
        }
        data += n;
        len -= n;
    }
}

static void serve(mini_server_t *s, apr_socket_t *conn, apr_pool_t *cp)
{
    char *head = apr_palloc(cp, MAX_REQUEST), *path, *end;
    const char *raw = not_found;
    int stalls = 0;
    mroute_t *r;

    apr_socket_timeout_set(conn, POLL);
    if (!read_head(s, conn, head, MAX_REQUEST) || strncmp(head, "GET ", 4) != 0) {
        return;
    }
    path = head + 4;
    if (!(end = strchr(path, ' '))) {
        return;
    }
    *end = '\0';
    apr_thread_mutex_lock(s->mutex);
    s->hits++;
    if ((r = find_route_locked(s, path)) != NULL) {
        r->hits++;
        stalls = !r->raw;
        raw = r->raw ? apr_pstrdup(cp, r->raw) : NULL;
    }
    apr_thread_mutex_unlock(s->mutex);
    if (stalls) {
        stall(s, conn);
        return;
    }
    send_all(conn, raw, strlen(raw));
    apr_socket_shutdown(conn, APR_SHUTDOWN_WRITE);
}

static void *APR_THREAD_FUNC server_main(apr_thread_t *thread, void *data)
{
    mini_server_t *s = data;
    apr_pool_t *cp;

    /* Test threads return rather than call apr_thread_exit(): the forced
     * unwind of pthread_exit() leaves ASan's use-after-scope poison on the
     * thread's stack, which ASan's own thread teardown then reports. */
    (void)thread;
    if (apr_pool_create_unmanaged_ex(&cp, NULL, NULL) != APR_SUCCESS) {
        return NULL;
    }
    while (!apr_atomic_read32(&s->stop)) {
        apr_socket_t *conn = NULL;

        if (apr_socket_accept(&conn, s->listener, cp) == APR_SUCCESS) {
            serve(s, conn, cp);
            apr_socket_close(conn);
        }
        apr_pool_clear(cp);
    }
    apr_pool_destroy(cp);
    return NULL;
}

static apr_status_t server_stop(void *data)
{
    mini_server_t *s = data;
    apr_status_t rv;
    int i;

    apr_atomic_set32(&s->stop, 1);
    apr_thread_join(&rv, s->thread);
    apr_socket_close(s->listener);
    for (i = 0; i < s->nroutes; i++) {
        free(s->routes[i].raw);
    }
    return APR_SUCCESS;
}

static apr_socket_t *bound_socket(apr_pool_t *p, int *port)
{
    apr_sockaddr_t *sa, *local;
    apr_socket_t *sock;

    assert_int_equal(apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 0, 0, p), APR_SUCCESS);
    assert_int_equal(apr_socket_create(&sock, APR_INET, SOCK_STREAM, APR_PROTO_TCP, p),
                     APR_SUCCESS);
    assert_int_equal(apr_socket_opt_set(sock, APR_SO_REUSEADDR, 1), APR_SUCCESS);
    assert_int_equal(apr_socket_bind(sock, sa), APR_SUCCESS);
    assert_int_equal(apr_socket_addr_get(&local, APR_LOCAL, sock), APR_SUCCESS);
    *port = local->port;
    assert_true(*port > 0);
    return sock;
}

mini_server_t *mini_server_start(apr_pool_t *p)
{
    mini_server_t *s = apr_pcalloc(p, sizeof(*s));

    s->listener = bound_socket(p, &s->port);
    assert_int_equal(apr_socket_listen(s->listener, 16), APR_SUCCESS);
    assert_int_equal(apr_socket_timeout_set(s->listener, POLL), APR_SUCCESS);
    assert_int_equal(apr_thread_mutex_create(&s->mutex, APR_THREAD_MUTEX_DEFAULT, p), APR_SUCCESS);
    assert_int_equal(apr_thread_create(&s->thread, NULL, server_main, s, p), APR_SUCCESS);
    /* before any cleanup of p: the thread uses the listener and the mutex */
    apr_pool_pre_cleanup_register(p, s, server_stop);
    return s;
}

int mini_server_port(mini_server_t *server)
{
    return server->port;
}

const char *mini_server_url(mini_server_t *server, apr_pool_t *p, const char *path)
{
    return apr_psprintf(p, "http://127.0.0.1:%d%s", server->port, path);
}

void mini_server_route(mini_server_t *server, const char *path, const char *raw)
{
    mroute_t *r;

    assert_true(strlen(path) < MAX_PATH);
    apr_thread_mutex_lock(server->mutex);
    r = find_route_locked(server, path);
    if (!r && server->nroutes < MAX_ROUTES) {
        r = &server->routes[server->nroutes++];
        apr_cpystrn(r->path, path, sizeof(r->path));
    }
    if (r) {
        free(r->raw);
        r->raw = raw ? copy_string(raw) : NULL;
    }
    apr_thread_mutex_unlock(server->mutex);
    assert_non_null(r);
}

unsigned mini_server_hits(mini_server_t *server, const char *path)
{
    unsigned n = 0;

    apr_thread_mutex_lock(server->mutex);
    if (!path) {
        n = server->hits;
    }
    else {
        mroute_t *r = find_route_locked(server, path);

        n = r ? r->hits : 0;
    }
    apr_thread_mutex_unlock(server->mutex);
    return n;
}

int mini_server_closed_port(apr_pool_t *p)
{
    int port;
    apr_socket_t *sock = bound_socket(p, &port);

    apr_socket_close(sock);
    return port;
}
