"""A key removed from the issuer's set invalidates the tokens it signed that
the cache holds (issue 6, cache correctness): the next request after the
refresh that saw the key go is validated anew and refused (401, unknown kid).

The issuer publishes two EC P-384 keys; tokens of the second one are cached,
then that key is removed from the JWKS. The key set is refreshed every second
(LogtoJwksCacheTTL 1). One child process, so the cache and key set are the
ones every request meets.

Two ways to reach the refresh:
- other clients keep calling with fresh tokens of the remaining key (a
  request that verifies a signature): the removal is seen and the cached
  token refused;
- only the cached token is sent again (clients reuse one token for up to an
  hour, the case the cache exists for): the TTL refresh must still happen in
  the background, by itself.
"""
import time

import pytest

from harness import accepts, checks, tokens
from harness.accepts import Accepts, single_child, wait_until
from harness.confs import API, AUTHZ_DENIED, location

PATH = '/api/protected/'
LOGTO0208 = 'LOGTO0208'

pytestmark = pytest.mark.slow


@pytest.fixture
def keyset(make_issuer, httpd):
    """A fresh issuer with keys (kept, removed) and a freshly started server."""
    iss = make_issuer(f'keys-{time.monotonic_ns()}', kinds=('EC-P384', 'EC-P384'))
    kept, doomed = iss.keys
    httpd.install(accepts.STATUS_LOCATION
                  + location('/api/', iss.issuer, ['logto-audience ' + API],
                             directives=['LogtoJwksCacheTTL 1', 'LogtoJwksRefreshInterval 1']),
                  top=single_child(httpd.mpm), claims=[AUTHZ_DENIED, accepts.BUSY_CLAIM])
    return iss, kept, doomed


def removal_seen(log):
    return any(LOGTO0208 in line for line in log.lines())


def cached_token_of(log, iss, key, sub):
    tok = tokens.global_token(iss, API, key=key, sub=sub)
    resp, acc = log.request(PATH, tok, sub)
    checks.assert_ok(resp)
    assert acc.source == 'verified', acc.line
    resp, acc = log.request(PATH, tok, sub)
    checks.assert_ok(resp)
    assert acc.source == 'cache', acc.line
    return tok


def test_removed_key_invalidates_cached_tokens(httpd, keyset):
    iss, kept, doomed = keyset
    log = Accepts(httpd)
    doomed_tok = cached_token_of(log, iss, doomed, 'doomed-user')
    kept_tok = cached_token_of(log, iss, kept, 'kept-user')
    epoch = accepts.status(httpd)['key_sets'][0]['epoch']

    iss.remove(doomed)
    log.reset()
    n = 0

    def fresh_traffic():
        nonlocal n
        n += 1
        checks.assert_ok(httpd.get(PATH, token=tokens.global_token(iss, API, key=kept, sub=f'fresh-{n}')))
        return removal_seen(log)
    wait_until(fresh_traffic, timeout=15, interval=0.2, what='LOGTO0208 (a key left the set)')

    log.reset()
    for _ in range(2):
        resp, acc = log.request(PATH, doomed_tok, 'doomed-user')
        checks.assert_invalid(resp, iss.issuer, 'unknown_kid')
        assert acc is None, f'accepted after its key left the set: {acc.line}'
    # the remaining key's cached tokens were invalidated too (the epoch moved),
    # so the next request verifies it again, and passes
    resp, acc = log.request(PATH, kept_tok, 'kept-user')
    checks.assert_ok(resp)
    assert acc.source == 'verified', acc.line
    resp, acc = log.request(PATH, kept_tok, 'kept-user')
    assert acc.source == 'cache', acc.line
    doc = accepts.status(httpd)
    assert doc['key_sets'][0]['keys'] == 1 and doc['key_sets'][0]['epoch'] > epoch


def test_removed_key_invalidates_cached_tokens_without_other_traffic(httpd, keyset):
    """Only the cached token is sent again. Expected: within a few TTLs the
    background refresh sees the key go and the token is refused."""
    iss, kept, doomed = keyset
    log = Accepts(httpd)
    doomed_tok = cached_token_of(log, iss, doomed, 'lonely-user')
    iss.reset_hits()
    iss.remove(doomed)
    log.reset()
    deadline = time.monotonic() + 8         # LogtoJwksCacheTTL 1: several refreshes
    last = None
    while time.monotonic() < deadline:
        resp, acc = log.request(PATH, doomed_tok, 'lonely-user')
        last = (resp.status_code, acc.source if acc else None)
        if resp.status_code != 200:
            break
        time.sleep(0.25)
    assert last[0] == 401, (
        f'the token of a removed key was still accepted after 8 s (last: {last}); '
        f'JWKS fetches since the removal: {iss.hits("jwks")}; '
        f'LOGTO0201 lines: {[f.line for f in log.fetches()]}')
    checks.assert_invalid(resp, iss.issuer, 'unknown_kid')


def test_background_refresh_runs_without_verifications(httpd, keyset):
    """The refresh behind LogtoJwksCacheTTL happens on its own schedule after
    the first fetch, whether or not requests verify signatures (here: only
    cache hits). The bare mechanism behind the previous test."""
    iss, kept, doomed = keyset
    log = Accepts(httpd)
    tok = cached_token_of(log, iss, kept, 'steady-user')
    iss.reset_hits()
    for _ in range(16):                    # 4 s: about four TTLs
        resp, acc = log.request(PATH, tok, 'steady-user')
        checks.assert_ok(resp)
        assert acc.source == 'cache'
        time.sleep(0.25)
    assert iss.hits('jwks') >= 2, (
        f'{iss.hits("jwks")} JWKS fetch(es) in 4 s with LogtoJwksCacheTTL 1 '
        f'while only cached tokens were served; refreshes: {[f.line for f in log.fetches()]}')
