"""``LogtoTokenCache shmcb:<path>(<size>)``: the children of one httpd share
validations (issue 6, cache correctness).

A token validated by one child is a ``shared cache`` hit in another child,
told apart by the pid in the LOGTO0107 line and in logto-status.

Reaching two children on purpose: under mpm_prefork a child serves one
connection at a time, so while a keep-alive connection holds child A, a new
connection is served by another child. Under mpm_event (ServerLimit 2, both
started) connections are spread by the kernel: new connections are opened
until one lands in the other child.
"""
import time

import pytest

from harness import accepts, checks, tokens
from harness.accepts import Accepts
from harness.confs import API, AUTHZ_DENIED, location

PATH = '/api/protected/'

MPM_TOP = {
    # two children at all times; a held keep-alive connection pins one
    'prefork': 'StartServers 2\nMinSpareServers 2\nMaxSpareServers 4\nKeepAliveTimeout 30\n',
    'event': ('StartServers 2\nServerLimit 2\nThreadsPerChild 16\nMinSpareThreads 8\n'
              'MaxSpareThreads 32\nMaxRequestWorkers 32\nKeepAliveTimeout 30\n'),
}


@pytest.fixture(scope='module', params=['prefork', 'event'])
def shared(request, make_httpd, issuer):
    mpm = request.param
    server = make_httpd(f'shmcb-{mpm}', mpm=mpm)
    spec = f'shmcb:{server.root}/run/logto-tokens({512 * 1024})'
    server.install(accepts.STATUS_LOCATION
                   + location('/api/', issuer.issuer, ['logto-audience ' + API, 'logto-scope read:products'],
                              directives=[f'LogtoTokenCache {spec}']),
                   top=MPM_TOP[mpm], claims=[AUTHZ_DENIED, accepts.SLOW_CACHE_CLAIM])
    return server


def two_children(server, issuer, tries=200):
    """Two keep-alive sessions, each on another child: ((sess, pid), (sess, pid)).

    Each child first serves a token of its own, as a child in service has: a
    child that has not fetched the issuer's keys yet cannot check a shared
    value's key against them and validates anew (LOGTO0302)."""
    a = accepts.session()
    pid_a = accepts.status(server, a)['pid']
    for _ in range(tries):
        b = accepts.session()
        pid_b = accepts.status(server, b)['pid']
        if pid_b != pid_a:
            for sess in (a, b):
                warm = tokens.global_token(issuer, API, sub=unique('warm-up'))
                checks.assert_ok(sess.get(server.url(PATH), headers={'Authorization': f'Bearer {warm}'},
                                          timeout=30))
            assert accepts.status(server, a)['pid'] == pid_a and accepts.status(server, b)['pid'] == pid_b
            return (a, pid_a), (b, pid_b)
        b.close()
        # keep A's connection alive (and, under prefork, its child busy)
        assert accepts.status(server, a)['pid'] == pid_a, "A's keep-alive connection was lost"
    pytest.fail(f'{tries} connections all reached child {pid_a}; children: {server.child_pids()}')


def via(log, sess, tok, sub):
    resp, acc = log.request(PATH, tok, sub, session=sess)
    return resp, acc


def unique(name):
    return f'{name}-{time.monotonic_ns()}'


class TestShmcb:

    def test_hit_in_another_child(self, shared, issuer):
        (a, pid_a), (b, pid_b) = two_children(shared, issuer)
        log = Accepts(shared)

        def step():
            sub = unique('shm')
            tok = tokens.global_token(issuer, API, sub=sub)
            resp, acc = via(log, a, tok, sub)
            assert checks.assert_ok(resp)['auth']['sub'] == sub
            assert (acc.pid, acc.source) == (pid_a, 'verified'), acc.line
            resp, acc = via(log, b, tok, sub)
            assert checks.assert_ok(resp)['auth']['sub'] == sub
            assert (acc.pid, acc.source) == (pid_b, 'shared_cache'), acc.line
            # B keeps its own copy now
            resp, acc = via(log, b, tok, sub)
            checks.assert_ok(resp)
            assert (acc.pid, acc.source) == (pid_b, 'cache'), acc.line
        accepts.unless_cache_skipped(step, [shared])

    def test_both_directions(self, shared, issuer):
        (a, pid_a), (b, pid_b) = two_children(shared, issuer)
        log = Accepts(shared)

        def step():
            sub = unique('back')
            tok = tokens.global_token(issuer, API, sub=sub)
            resp, acc = via(log, b, tok, sub)
            checks.assert_ok(resp)
            assert (acc.pid, acc.source) == (pid_b, 'verified'), acc.line
            resp, acc = via(log, a, tok, sub)
            checks.assert_ok(resp)
            assert (acc.pid, acc.source) == (pid_a, 'shared_cache'), acc.line
        accepts.unless_cache_skipped(step, [shared])

    def test_refusals_are_not_shared(self, shared, issuer):
        """A refused token is refused in every child, and never reported accepted."""
        (a, pid_a), (b, pid_b) = two_children(shared, issuer)
        log = Accepts(shared)
        sub = unique('forged')
        good = tokens.global_token(issuer, API, sub=sub)
        checks.assert_ok(via(log, a, good, sub)[0])
        forged = tokens.tampered_payload(good, sub='admin')
        for sess in (a, b, a, b):
            resp, acc = via(log, sess, forged, 'admin')
            checks.assert_invalid(resp, issuer.issuer, 'bad_signature')
            assert acc is None

        def step():
            # Require is evaluated in the other child too, on the shared hit
            sub2 = unique('noscope')
            weak = tokens.global_token(issuer, API, scope='write:products', sub=sub2)
            checks.assert_insufficient_scope(via(log, a, weak, sub2)[0], issuer.issuer, 'read:products')
            resp, acc = via(log, b, weak, sub2)
            checks.assert_insufficient_scope(resp, issuer.issuer, 'read:products')
            assert (acc.pid, acc.source) == (pid_b, 'shared_cache'), acc.line
        accepts.unless_cache_skipped(step, [shared])
