"""Issue 4, bad answers from the issuer: 500, 404, garbage, an empty set, junk
keys only, a 5 s delay, a 30 s stall, a slow body, a redirect to another origin,
a redirect loop, a compressed body, an oversized body.

With keys cached (TestBadAnswerKeepsKeys): a token of a key the issuer has just
added triggers a refetch that gets the bad answer. It must cost a bounded time
(LogtoHttpTimeout 2 when the issuer is slow), give 401 unknown kid, never 200
(even when the bad answer holds that key: delayed, compressed, oversized or
redirected elsewhere), keep the good keys (a token of a known key stays 200),
and remember the kid as unknown for the interval (no second fetch).

With nothing cached (TestBadAnswerCold): 503 with the JSON body, bounded, never
200; a stalled issuer costs concurrent requests one fetch and at most
LogtoHttpTimeout each, and never delays another issuer. Same-origin redirects
are followed and a large (under the cap) set is accepted.

Every issuer has its own location (/orgs/<case>/members/) and so its own key
set and rate limit; one child process (key sets are per child).
"""
import re
import threading
import time

import pytest

from harness import checks, tokens
from harness.keylog import FETCH_TROUBLE, ONE_CHILD_BUSY, STATUS_LOCATION, key_set, one_child, path_of, timed_get
from harness.confs import API, location

TTL, INTERVAL, HTTP_TIMEOUT = 600, 4, 2
SLOW = ('delay-5s', 'stall-30s', 'drip-30s')
TIMED_OUT = r'[Tt]imed? ?out'

# case -> (set the issuer's mode (issuer, other origin), reason in LOGTO0202, JWKS hits of the refetch)
BAD = {
    'status-500': (lambda i, o: i.fail(500, paths='jwks'), r'HTTP status 500', (1, 1)),
    'status-404': (lambda i, o: i.fail(404, paths='jwks'), r'HTTP status 404', (1, 1)),
    'garbage': (lambda i, o: i.garbage(paths='jwks'), r'.', (1, 1)),
    'empty-set': (lambda i, o: i.empty_keys(), r'no usable key', (1, 1)),
    'junk-keys': (lambda i, o: i.junk_keys(), r'no usable key', (1, 1)),
    'delay-5s': (lambda i, o: i.delay(5, paths='jwks'), TIMED_OUT, (1, 1)),
    'stall-30s': (lambda i, o: i.stall(30, paths='jwks'), TIMED_OUT, (1, 1)),
    'drip-30s': (lambda i, o: i.drip(30, paths='jwks'), TIMED_OUT, (1, 1)),
    'redirect-other-origin': (lambda i, o: i.redirect(o.jwks_uri), r'redirect to another origin', (1, 1)),
    'redirect-loop': (lambda i, o: i.redirect(i.jwks_uri), r'too many redirects', (2, 5)),
    'gzip': (lambda i, o: i.gzip(), r'compressed', (1, 1)),
    'deflate': (lambda i, o: i.gzip(encoding='deflate'), r'compressed', (1, 1)),
    'oversized': (lambda i, o: i.oversized(600 * 1024), r'larger than the limit|too large', (1, 1)),
    'oversized-chunked': (lambda i, o: i.oversized(600 * 1024, chunked=True), r'larger than the limit|too large',
                          (1, 1)),
}

# one_child() under prefork is one process with one worker: httpd notes when it is busy


def directives(ttl=TTL, interval=INTERVAL, timeout=HTTP_TIMEOUT):
    return [f'LogtoJwksCacheTTL {ttl}', f'LogtoJwksRefreshInterval {interval}', f'LogtoHttpTimeout {timeout}']


def org_location(case, iss, timeout=HTTP_TIMEOUT, interval=INTERVAL):
    return location(f'/orgs/{case}/', iss.issuer, ['logto-audience ' + API],
                    directives=directives(timeout=timeout, interval=interval))


def fetch_warning(httpd, issuer, reason, timeout=3):
    """The LOGTO0202 line of a failed fetch of issuer's keys with reason."""
    return httpd.wait_log(r'\[auth_logto:warn\] .*LOGTO0202: fetching keys of ' + re.escape(issuer.issuer)
                          + r' from \S+ \([^)]*\) failed after \d+ ms: .*(' + reason + ')', timeout=timeout)


@pytest.fixture(scope='module')
def elsewhere(make_issuer):
    """Another origin (another port) that would serve every key."""
    return make_issuer('elsewhere')


class TestBadAnswerKeepsKeys:

    @pytest.fixture(scope='class')
    def issuers(self, make_issuer):
        return {case: make_issuer(f'bad-{case}') for case in BAD}

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, issuers):
        httpd.install(''.join(org_location(case, iss) for case, iss in issuers.items()) + STATUS_LOCATION,
                      top=one_child(httpd), claims=[FETCH_TROUBLE, ONE_CHILD_BUSY])
        # good keys cached everywhere, and the rate limit of that first fetch over
        for case, iss in issuers.items():
            checks.assert_ok(httpd.get(path_of(case), token=tokens.global_token(iss, API)))
        time.sleep(INTERVAL + 0.3)

    @pytest.mark.parametrize('case', list(BAD))
    def test_bad_answer(self, httpd, issuers, elsewhere, case):
        iss = issuers[case]
        setup, reason, (min_hits, max_hits) = BAD[case]
        path = path_of(case)
        new = iss.add_key('EC-P384')            # published: the bad answer may hold it
        elsewhere.set_keys(list(iss.keys))
        setup(iss, elsewhere)
        jwks0, other0 = iss.hits('jwks'), elsewhere.hits()
        before = key_set(httpd, iss)
        try:
            # the unknown kid triggers one refetch, which gets the bad answer
            r, dt = timed_get(httpd, path, tokens.global_token(iss, API, key=new))
            checks.assert_invalid(r, iss.issuer, 'unknown_kid')
            if case in SLOW:
                assert 1.5 <= dt < HTTP_TIMEOUT + 1.5, f'{dt:.2f} s: the fetch must cost about LogtoHttpTimeout'
            else:
                assert dt < HTTP_TIMEOUT, f'{dt:.2f} s for an answer that fails at once'
            fetched = iss.hits('jwks') - jwks0
            assert min_hits <= fetched <= max_hits, f'{fetched} JWKS requests for one refetch'
            assert elsewhere.hits() == other0, f'a redirect to another origin was followed: {elsewhere.requests()}'
            assert fetch_warning(httpd, iss, reason), f'no LOGTO0202 warning with /{reason}/'

            # the good keys are kept
            r, dt = timed_get(httpd, path, tokens.global_token(iss, API))
            checks.assert_ok(r)
            assert dt < HTTP_TIMEOUT
            after = key_set(httpd, iss)
            assert after['keys'] == 1 and after['epoch'] == before['epoch'], (before, after)
            assert after['failures'] == before['failures'] + 1, (before, after)

            # the kid stays unknown for the interval: no second fetch
            hits1 = iss.hits()
            r, dt = timed_get(httpd, path, tokens.global_token(iss, API, key=new))
            checks.assert_invalid(r, iss.issuer, 'unknown_kid')
            assert dt < HTTP_TIMEOUT
            assert iss.hits() == hits1, f'refetched within the interval: {iss.requests()}'
        finally:
            iss.release()
            iss.normal()

    def test_recovery_after_bad_answers(self, httpd, issuers):
        """Back to normal: each issuer's new key is fetched (after the interval)."""
        deadline = time.monotonic() + INTERVAL + 3
        pending = dict(issuers)
        while pending:
            for case, iss in list(pending.items()):
                new = iss.keys[-1]
                assert new is not iss.signing_key
                r = httpd.get(path_of(case), token=tokens.global_token(iss, API, key=new), timeout=10)
                if r.status_code == 200:
                    del pending[case]
                else:
                    checks.assert_invalid(r, iss.issuer, 'unknown_kid')
            if pending:
                assert time.monotonic() < deadline, f'new keys not fetched after the interval: {sorted(pending)}'
                time.sleep(0.3)
        for case, iss in issuers.items():
            checks.assert_ok(httpd.get(path_of(case), token=tokens.global_token(iss, API)))


# case -> (mode, reason) with nothing cached; the token's key is in the answer
COLD = {
    'gzip-jwks': (lambda i, o: i.gzip(), r'compressed'),
    'gzip-discovery': (lambda i, o: i.gzip(paths='discovery'), r'compressed'),
    'oversized-jwks': (lambda i, o: i.oversized(600 * 1024), r'larger than the limit|too large'),
    'oversized-discovery': (lambda i, o: i.oversized(80 * 1024, paths='discovery'), r'larger than the limit|too large'),
    'oversized-chunked-discovery': (lambda i, o: i.oversized(80 * 1024, chunked=True, paths='discovery'),
                                    r'larger than the limit|too large'),
    'redirect-jwks-other-origin': (lambda i, o: i.redirect(o.jwks_uri), r'redirect to another origin'),
    'redirect-discovery-other-origin': (lambda i, o: i.redirect(o.discovery_url, status=301, paths='discovery'),
                                        r'redirect to another origin'),
    'delay-5s': (lambda i, o: i.delay(5, paths='jwks'), TIMED_OUT),
    'delay-1.5s-each': (lambda i, o: i.delay(1.5), TIMED_OUT),
    'drip-discovery': (lambda i, o: i.drip(30, paths='discovery'), TIMED_OUT),
    'stall-jwks': (lambda i, o: i.stall(30, paths='jwks'), TIMED_OUT),
}
COLD_SLOW = ('delay-5s', 'delay-1.5s-each', 'drip-discovery', 'stall-jwks')
# /orgs/stall-many/: a LogtoHttpTimeout long enough to see any blocking, and an
# interval longer than it (the interval counts from the start of a fetch)
STALL_MANY_TIMEOUT = 4
STALL_MANY = dict(timeout=STALL_MANY_TIMEOUT, interval=2 * STALL_MANY_TIMEOUT)


class TestBadAnswerCold:

    @pytest.fixture(scope='class')
    def issuers(self, make_issuer):
        names = list(COLD) + ['stall-many', 'healthy', 'redirect-302-same-origin', 'redirect-308-same-origin',
                              'large-under-cap']
        return {case: make_issuer(f'cold-{case}') for case in names}

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, issuers):
        httpd.install(''.join(org_location(case, iss, **(STALL_MANY if case == 'stall-many' else {}))
                              for case, iss in issuers.items()) + STATUS_LOCATION,
                      top=one_child(httpd), claims=[FETCH_TROUBLE, ONE_CHILD_BUSY])

    @pytest.mark.parametrize('case', list(COLD))
    def test_cold_bad_answer(self, httpd, issuers, elsewhere, case):
        iss = issuers[case]
        setup, reason = COLD[case]
        elsewhere.set_keys(list(iss.keys))
        setup(iss, elsewhere)
        other0 = elsewhere.hits()
        try:
            r, dt = timed_get(httpd, path_of(case), tokens.global_token(iss, API))
            checks.assert_keys_unavailable(r)
            if case in COLD_SLOW:
                assert 1.5 <= dt < HTTP_TIMEOUT + 1.5, f'{dt:.2f} s: the fetch must cost about LogtoHttpTimeout'
            else:
                assert dt < HTTP_TIMEOUT, f'{dt:.2f} s'
            assert elsewhere.hits() == other0, f'a redirect to another origin was followed: {elsewhere.requests()}'
            assert fetch_warning(httpd, iss, reason), f'no LOGTO0202 warning with /{reason}/'
            hits = iss.hits()
            # within the interval: 503 at once, no new fetch
            r, dt = timed_get(httpd, path_of(case), tokens.global_token(iss, API))
            checks.assert_keys_unavailable(r)
            assert dt < HTTP_TIMEOUT and iss.hits() == hits, iss.requests()
        finally:
            iss.release()
            iss.normal()

    def test_stalled_issuer_concurrent_requests(self, httpd, issuers):
        """8 requests at once against a stalled issuer (nothing cached,
        LogtoHttpTimeout 4, LogtoJwksRefreshInterval 8): one fetch for all, each answered 503 within
        LogtoHttpTimeout (+ margin); meanwhile another issuer's tokens answer
        at once."""
        iss, healthy = issuers['stall-many'], issuers['healthy']
        checks.assert_ok(httpd.get(path_of('healthy'), token=tokens.global_token(healthy, API)))
        iss.stall(30)
        results = []
        barrier = threading.Barrier(8)

        def one():
            tok = tokens.global_token(iss, API)
            barrier.wait()
            results.append(timed_get(httpd, path_of('stall-many'), tok))
        threads = [threading.Thread(target=one) for _ in range(8)]
        try:
            for t in threads:
                t.start()
            time.sleep(0.5)
            r, dt = timed_get(httpd, path_of('healthy'), tokens.global_token(healthy, API))
            checks.assert_ok(r)
            if httpd.mpm != 'prefork':      # (one prefork child has one worker: it queues)
                assert dt < STALL_MANY_TIMEOUT / 2, f'another issuer waited {dt:.2f} s for the stalled one'
            for t in threads:
                t.join(30)
            assert len(results) == 8
            for r, dt in results:
                checks.assert_keys_unavailable(r)
                assert dt < STALL_MANY_TIMEOUT + 1.5, f'a request waited {dt:.2f} s'
            assert iss.hits('discovery') == 1 and iss.hits('jwks') == 0, \
                f'one fetch for all waiting requests, got {iss.requests()}'
        finally:
            iss.release()
            iss.normal()

    @pytest.mark.parametrize('status', [302, 308])
    def test_same_origin_redirect_is_followed(self, httpd, issuers, status):
        iss = issuers[f'redirect-{status}-same-origin']
        iss.serve_jwks_alias(f'{iss.path}/jwks-moved').redirect(f'{iss.path}/jwks-moved', status=status)
        checks.assert_ok(httpd.get(path_of(f'redirect-{status}-same-origin'), token=tokens.global_token(iss, API)))
        assert iss.hits('jwks') == 1 and iss.hits('jwks-alias') == 1, iss.requests()

    def test_large_set_under_the_cap(self, httpd, issuers):
        """A 400 KiB key set (under the 512 KiB cap) is accepted."""
        iss = issuers['large-under-cap']
        iss.oversized(400 * 1024)
        checks.assert_ok(httpd.get(path_of('large-under-cap'), token=tokens.global_token(iss, API)))
