"""The validated-token cache never outlives a token's exp, and
``LogtoTokenCache off`` verifies every time (issue 6, cache correctness).

How a token was accepted is read from the module's own debug line,
``LOGTO0107: token of <sub> accepted (verified|cache|shared_cache)``; the
server keeps one child process, so every request meets the same in-process
cache. Tokens are minted by the harness (harness/tokens.py) with an exp a few
seconds ahead.
"""
import time

import pytest

from harness import accepts, checks, tokens
from harness.accepts import Accepts, single_child
from harness.confs import API, AUTHZ_DENIED, location

STRICT = '/api/protected/'      # LogtoClockSkew 0
LENIENT = '/api/env/'           # the default leeway (60 s)
UNCACHED = '/orgs/'             # LogtoTokenCache off


@pytest.fixture(scope='module', autouse=True)
def _conf(httpd, issuer):
    httpd.install(
        accepts.STATUS_LOCATION
        + location(STRICT, issuer.issuer, ['logto-audience ' + API], directives=['LogtoClockSkew 0'])
        + location(LENIENT, issuer.issuer, ['logto-audience ' + API])
        + location('^/orgs/', issuer.issuer, ['logto-audience ' + API],
                   directives=['LogtoTokenCache off'], match=True),
        top=single_child(httpd.mpm), claims=[AUTHZ_DENIED, accepts.BUSY_CLAIM])


def short_lived(issuer, sub, seconds=4):
    now = int(time.time())
    return tokens.global_token(issuer, API, sub=sub, iat=now, exp=now + seconds), now + seconds


def unique(name):
    return f'{name}-{time.monotonic_ns()}'


def sleep_past(exp, margin=0.3):
    delay = exp + margin - time.time()
    if delay > 0:
        time.sleep(delay)


def cache_entries(httpd):
    """Entries of the child's in-process cache (one size here: one cache;
    none yet if no cached location was used)."""
    caches = accepts.status(httpd)['token_caches']
    assert len(caches) <= 1, caches
    return caches[0]['entries'] if caches else 0


@pytest.mark.slow
class TestExpiry:

    def test_hit_never_outlives_exp(self, httpd, issuer):
        """200 (verified), 200 (cache), and once exp has passed 401 expired
        (LogtoClockSkew 0): the entry is not used at or after exp."""
        log = Accepts(httpd)
        sub = unique('exp')
        tok, exp = short_lived(issuer, sub)
        resp, acc = log.request(STRICT, tok, sub)
        assert checks.assert_ok(resp)['auth']['sub'] == sub and acc.source == 'verified', acc
        resp, acc = log.request(STRICT, tok, sub)
        checks.assert_ok(resp)
        if time.time() < exp - 0.1:        # not so slow that exp came meanwhile
            assert acc.source == 'cache', acc
        entries = cache_entries(httpd)
        sleep_past(exp)
        log.reset()
        resp, acc = log.request(STRICT, tok, sub)
        checks.assert_invalid(resp, issuer.issuer, 'expired')
        assert acc is None, f'an expired token was accepted: {acc.line}'
        # the stale entry was found on the way and dropped
        assert cache_entries(httpd) == entries - 1
        checks.assert_invalid(httpd.get(STRICT, token=tok), issuer.issuer, 'expired')
        assert log.accepts(sub) == [], 'accepted after exp'

    def test_leeway_does_not_extend_a_cache_entry(self, httpd, issuer):
        """With the default 60 s leeway the token is still good after exp, but
        only a fresh verification may say so: the cache entry ended at exp."""
        log = Accepts(httpd)
        sub = unique('leeway')
        tok, exp = short_lived(issuer, sub, seconds=2)
        resp, acc = log.request(LENIENT, tok, sub)
        checks.assert_ok(resp)
        assert acc.source == 'verified'
        sleep_past(exp)
        for _ in range(2):
            resp, acc = log.request(LENIENT, tok, sub)
            checks.assert_ok(resp)
            assert acc.source == 'verified', f'a cache entry outlived exp: {acc.line}'

    def test_already_expired_is_never_cached(self, httpd, issuer):
        sub = unique('dead')
        tok = tokens.expired(issuer, API, seconds_ago=120, sub=sub)
        log = Accepts(httpd)
        for _ in range(3):
            checks.assert_invalid(httpd.get(LENIENT, token=tok), issuer.issuer, 'expired')
        assert log.accepts(sub) == []


class TestCacheOff:

    def test_verifies_every_time(self, httpd, issuer):
        log = Accepts(httpd)
        sub = unique('off')
        tok = tokens.global_token(issuer, API, sub=sub)
        for _ in range(4):
            resp, acc = log.request('/orgs/o/members/', tok, sub)
            assert checks.assert_ok(resp)['auth']['sub'] == sub
            assert acc.source == 'verified', acc.line
        assert {a.source for a in log.accepts(sub)} == {'verified'}, \
            [a.line for a in log.accepts(sub)]

    def test_off_location_does_not_fill_the_cache(self, httpd, issuer):
        before = cache_entries(httpd)
        for i in range(5):
            tok = tokens.global_token(issuer, API, sub=unique(f'off{i}'))
            checks.assert_ok(httpd.get('/orgs/o/members/', token=tok))
        assert cache_entries(httpd) == before

    def test_cache_on_elsewhere_still_caches(self, httpd, issuer):
        """Same token: the cached location remembers it, the 'off' one does not."""
        log = Accepts(httpd)
        sub = unique('mixed')
        tok = tokens.global_token(issuer, API, sub=sub)
        sources = []
        for path in (LENIENT, '/orgs/o/members/', LENIENT, '/orgs/o/members/'):
            resp, acc = log.request(path, tok, sub)
            checks.assert_ok(resp)
            sources.append(acc.source)
        assert sources == ['verified', 'verified', 'cache', 'verified']
