"""Issue 4, availability: the issuer down or slow, at start and with keys cached.

- ``apache2 -t`` never touches the network; httpd starts with the issuer down;
- issuer down at the first request: a quick 503 (JSON), then 200 once the
  issuer is back on the same port, without a restart, after at most
  LogtoJwksRefreshInterval;
- issuer down with keys cached: 200 (stale keys, LOGTO0203), 503 after
  LogtoJwksCacheTTL + LogtoJwksMaxStale (LOGTO0204), 200 again once it is back;
- a TTL refresh against a stalled issuer is made in the background: requests
  with a known key never wait for it.

Key sets are per child process, so these tests run httpd with exactly one
child (the MPM lines of ``one_child``): "keys cached" then means cached in
the process that answers. Timing bounds have wide margins (a loaded machine).
"""
import re
import time

import pytest

from harness import checks, tokens
from harness.keylog import FETCH_TROUBLE, ONE_CHILD_BUSY, STATUS_LOCATION, key_set, logto_lines, one_child, timed_get
from harness.confs import API, location, public

TTL, INTERVAL, MAX_STALE, HTTP_TIMEOUT = 1, 1, 3, 2

# one_child() under prefork is one process with one worker: httpd notes when it is busy


def warm_app(httpd):
    """Load the application (its first request is slow), without a token."""
    checks.assert_ok(httpd.get('/api/public/', timeout=30))


def directives(ttl=TTL, interval=INTERVAL, max_stale=MAX_STALE, timeout=HTTP_TIMEOUT):
    return [f'LogtoJwksCacheTTL {ttl}', f'LogtoJwksRefreshInterval {interval}',
            f'LogtoJwksMaxStale {max_stale}', f'LogtoHttpTimeout {timeout}']


def poll_until_ok(httpd, path, issuer, deadline_s):
    """Fresh valid tokens every 0.1 s until a 200; (response, seconds from
    the call to the start of the request that got the 200, statuses seen)."""
    t0 = time.monotonic()
    seen = []
    while True:
        sent = time.monotonic()
        r = httpd.get(path, token=tokens.global_token(issuer, API), timeout=10)
        seen.append(r.status_code)
        if r.status_code == 200 or time.monotonic() - t0 > deadline_s:
            return r, sent - t0, seen
        assert r.status_code == 503, f'only 503 or 200 are expected while keys are missing, got {r.status_code}: {r.text}'
        time.sleep(0.1)


class TestConfigTest:
    """apache2 -t reads the configuration and nothing else."""

    def test_configtest_never_fetches(self, httpd, make_issuer):
        iss = make_issuer('configtest-up')
        other = make_issuer('configtest-jwks-uri')
        conf = (location('/api/', iss.issuer, ['logto-audience ' + API], directives=directives())
                + location('/api/env/', other.issuer, ['logto-audience ' + API],
                           directives=[f'LogtoJwksUri {other.jwks_uri}']))
        httpd.install(conf, restart=False)
        rc, out = httpd.configtest()
        assert rc == 0 and 'Syntax OK' in out, out
        time.sleep(0.3)
        assert iss.hits() == 0 and other.hits() == 0, (iss.requests(), other.requests())

    def test_configtest_with_issuer_down(self, httpd, make_issuer):
        iss = make_issuer('configtest-down')
        iss.down()
        httpd.install(location('/api/', iss.issuer, ['logto-audience ' + API], directives=directives()),
                      restart=False)
        t = time.monotonic()
        rc, out = httpd.configtest()
        assert rc == 0 and 'Syntax OK' in out, out
        assert time.monotonic() - t < 10
        iss.up()
        assert iss.hits() == 0


class TestIssuerDownAtFirstRequest:
    """httpd starts while the issuer is down, answers 503 at once, and serves
    as soon as the issuer is back (same port), without a restart."""

    @pytest.fixture(scope='class')
    def iss(self, make_issuer):
        return make_issuer('down-at-start')

    def test_start_503_then_recover(self, httpd, iss):
        iss.down()
        httpd.install(location('/api/', iss.issuer, ['logto-audience ' + API], directives=directives(interval=2))
                      + public('/api/public/') + STATUS_LOCATION, top=one_child(httpd),
                      claims=[FETCH_TROUBLE, ONE_CHILD_BUSY])
        assert httpd.running
        warm_app(httpd)
        assert iss.hits() == 0
        pid = httpd.pid
        r, dt = timed_get(httpd, '/api/protected/', tokens.global_token(iss, API))
        checks.assert_keys_unavailable(r)
        assert dt < HTTP_TIMEOUT, f'a refused connection took {dt:.2f} s'
        # the second request, within the interval, does not try again
        r, dt = timed_get(httpd, '/api/protected/', tokens.global_token(iss, API))
        checks.assert_keys_unavailable(r)
        assert dt < HTTP_TIMEOUT
        ks = key_set(httpd, iss)
        assert ks is not None and ks['keys'] == 0, ks
        assert ks['fetches'] == 1 and ks['failures'] == 1, f'one fetch per interval with nothing cached: {ks}'
        # a request without a token is still a plain 401
        checks.assert_missing(httpd.get('/api/protected/'), iss.issuer)

        iss.up()        # same port
        r, waited, seen = poll_until_ok(httpd, '/api/protected/', iss, deadline_s=2 + 3)
        checks.assert_ok(r)
        assert waited <= 2 + 1.5, f'200 only after {waited:.1f} s (interval 2 s); statuses {seen}'
        for _ in range(5):
            checks.assert_ok(httpd.get('/api/protected/', token=tokens.global_token(iss, API)))
        assert httpd.pid == pid, 'httpd was restarted'
        ks = key_set(httpd, iss)
        assert ks['keys'] == 1 and ks['failures'] >= 1, ks
        warn = [l for l in logto_lines(httpd, iss, 'LOGTO0202')]
        assert warn and all(l['level'] == 'warn' for l in warn), warn


class TestOutageWithKeysCached:
    """LogtoJwksCacheTTL 1, LogtoJwksMaxStale 3: the keys outlive a failed
    refresh by at most 3 s, with warnings; then 503; then 200 when back.
    /orgs/bg/ (another issuer, LogtoJwksMaxStale 30): TTL refreshes against a
    stalled issuer happen in the background."""

    @pytest.fixture(scope='class')
    def iss(self, make_issuer):
        return make_issuer('outage-cached')

    @pytest.fixture(scope='class')
    def bg(self, make_issuer):
        return make_issuer('outage-background')

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, iss, bg):
        httpd.install(location('/api/', iss.issuer, ['logto-audience ' + API], directives=directives())
                      + location('/orgs/bg/', bg.issuer, ['logto-audience ' + API],
                                 directives=directives(max_stale=30))
                      + public('/api/public/') + STATUS_LOCATION, top=one_child(httpd),
                      claims=[FETCH_TROUBLE, ONE_CHILD_BUSY])
        warm_app(httpd)

    def test_stale_keys_then_503_then_back(self, httpd, iss):
        remembered = tokens.global_token(iss, API, sub='remembered')
        t0 = time.monotonic()
        checks.assert_ok(httpd.get('/api/protected/', token=remembered))
        t1 = time.monotonic()           # the keys were fetched in [t0, t1]
        assert iss.hits('jwks') >= 1
        checks.assert_ok(httpd.get('/api/protected/', token=remembered))    # (from the token cache)
        iss.down()

        # past the TTL, inside TTL + max stale: the stale keys still answer 200
        statuses = []
        while time.monotonic() < t0 + TTL + 1.2:
            r, dt = timed_get(httpd, '/api/protected/', tokens.global_token(iss, API))
            if time.monotonic() < t0 + TTL + MAX_STALE - 0.5:
                statuses.append(r.status_code)
                assert r.status_code == 200, \
                    f'{r.status_code} {r.text} at +{time.monotonic() - t0:.2f} s (stale keys must serve)'
            time.sleep(0.15)
        assert len(statuses) >= 3, statuses
        line = httpd.wait_log(r'LOGTO0203', timeout=3)
        assert line and '[auth_logto:warn]' in line, f'no LOGTO0203 warning for the stale keys: {line}'
        line = httpd.wait_log(r'LOGTO0202', timeout=1)
        assert line and '[auth_logto:warn]' in line and '(ttl)' in line, \
            f'no LOGTO0202 warning for the failed TTL refresh: {line}'

        # past TTL + max stale: 503
        time.sleep(max(0.0, t1 + TTL + MAX_STALE + 0.5 - time.monotonic()))
        r, dt = timed_get(httpd, '/api/protected/', tokens.global_token(iss, API))
        checks.assert_keys_unavailable(r)
        assert dt < HTTP_TIMEOUT
        line = httpd.wait_log(r'LOGTO0204', timeout=3)
        assert line and '[auth_logto:warn]' in line, f'no LOGTO0204 warning when the keys were dropped: {line}'
        # a token validated while the keys were trusted is not served from the cache
        checks.assert_keys_unavailable(httpd.get('/api/protected/', token=remembered))
        ks = key_set(httpd, iss)
        assert ks['keys'] == 0 and ks['epoch'] >= 1, ks

        # back on the same port: 200 within the refresh interval
        iss.up()
        r, waited, seen = poll_until_ok(httpd, '/api/protected/', iss, deadline_s=INTERVAL + 3)
        checks.assert_ok(r)
        assert waited <= INTERVAL + 1.5, f'200 only after {waited:.1f} s; statuses {seen}'

    def test_background_refresh_never_blocks_requests(self, httpd, bg):
        """The issuer stalls (30 s) when a TTL refresh is due: requests with a
        known key keep answering at once from the cached keys, while the
        refresh (LogtoHttpTimeout 2) is tried in the background."""
        path = '/orgs/bg/members/'
        checks.assert_ok(httpd.get(path, token=tokens.global_token(bg, API)))
        assert bg.hits('jwks') >= 1
        bg.stall(30)
        try:
            start = time.monotonic()
            slowest, n = 0.0, 0
            while time.monotonic() < start + TTL + HTTP_TIMEOUT + 0.5:
                r, dt = timed_get(httpd, path, tokens.global_token(bg, API))
                checks.assert_ok(r)
                slowest = max(slowest, dt)
                n += 1
                time.sleep(0.1)
            assert n >= 6, n
            # (a request that waited for the stalled refresh would take about LogtoHttpTimeout, 2 s)
            assert slowest < 1.5, f'a request with a cached key waited {slowest:.2f} s (a refresh must not block it)'
            assert bg.hits() >= 2, f'no refresh was tried past the TTL: {bg.requests()}'
            line = httpd.wait_log(r'LOGTO0202: fetching keys of ' + re.escape(bg.issuer) + r' .*\(ttl\).*timed? ?out',
                                  timeout=3)
            assert line, 'no LOGTO0202 for the timed-out background refresh'
        finally:
            bg.release()
            bg.normal()
