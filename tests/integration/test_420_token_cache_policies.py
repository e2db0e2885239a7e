"""The cache key includes the validation policy, and the cache stays within
its bound (issue 6, cache correctness).

- Two locations with different policies (LogtoAlgorithms, LogtoTokenType,
  LogtoClockSkew, issuers) never share an entry: a token cached under one is
  refused under the other, or verified there anew, never a cache hit there
  (read from the module's LOGTO0107 line). Locations with the same policy may
  share; their Require lines are still evaluated each time.
- LogtoTokenCacheSize 32 under a flood of 500 distinct valid tokens (sent 8
  at a time): every answer is 200 with the token's own subject, and
  logto-status shows entries <= capacity at every sample.

One child process, so logto-status describes the cache every request meets.
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import accepts, checks, tokens
from harness.accepts import Accepts, single_child
from harness.confs import API, AUTHZ_DENIED, location

BASE = '/api/protected/'            # defaults: every algorithm, at+jwt, 60 s leeway
RSA_ONLY = '/api/public/'           # LogtoAlgorithms RS256 (refusals only)
TYPE_ANY = '^/orgs/'                # LogtoTokenType any + LogtoClockSkew 0
TWO_ISSUERS = '^/org-api/(?<org>[^/]+)/'        # LogtoIssuer <issuer> <other>
FLOOD = '/api/env/'                 # LogtoTokenCacheSize 32; answers REMOTE_USER
FLOOD_SIZE = 32


@pytest.fixture(scope='module')
def other(make_issuer):
    return make_issuer('policy-other')


@pytest.fixture(scope='module', autouse=True)
def _conf(httpd, issuer, other):
    httpd.install(
        accepts.STATUS_LOCATION
        + location(BASE, issuer.issuer, ['logto-audience ' + API])
        + location(RSA_ONLY, issuer.issuer, ['logto-audience ' + API], directives=['LogtoAlgorithms RS256'])
        + location(TYPE_ANY, issuer.issuer, ['logto-audience ' + API, 'logto-scope read:products'],
                   directives=['LogtoTokenType any', 'LogtoClockSkew 0'], match=True)
        + location(TWO_ISSUERS, [issuer.issuer, other.issuer],
                   ['logto-audience ' + API, 'logto-organization %{env:MATCH_ORG}'], match=True)
        + location(FLOOD, issuer.issuer, ['logto-audience ' + API],
                   directives=[f'LogtoTokenCacheSize {FLOOD_SIZE}']),
        top=single_child(httpd.mpm), claims=[AUTHZ_DENIED, accepts.BUSY_CLAIM])


def unique(name):
    return f'{name}-{time.monotonic_ns()}'


class TestPolicies:

    def test_other_algorithms_refuse_a_cached_token(self, httpd, issuer):
        log = Accepts(httpd)
        sub = unique('alg')
        tok = tokens.global_token(issuer, API, sub=sub)          # ES384
        assert [log.request(BASE, tok, sub)[1].source for _ in range(2)] == ['verified', 'cache']
        resp, acc = log.request(RSA_ONLY, tok, sub)
        checks.assert_invalid(resp, issuer.issuer, 'alg')
        assert acc is None, f'accepted under LogtoAlgorithms RS256: {acc.line}'
        # and the refusal did not disturb the entry of the first location
        assert log.request(BASE, tok, sub)[1].source == 'cache'

    def test_other_policy_verifies_anew(self, httpd, issuer):
        log = Accepts(httpd)
        sub = unique('typ')
        tok = tokens.global_token(issuer, API, sub=sub)
        sources = []
        for path in (BASE, BASE, '/orgs/o/members/', '/orgs/o/members/', BASE):
            resp, acc = log.request(path, tok, sub)
            checks.assert_ok(resp)
            sources.append(acc.source)
        assert sources == ['verified', 'cache', 'verified', 'cache', 'cache']

    def test_other_policy_first(self, httpd, issuer):
        """The same, in the other order: an entry of TYPE_ANY is no hit under BASE."""
        log = Accepts(httpd)
        sub = unique('typ2')
        tok = tokens.global_token(issuer, API, sub=sub)
        assert log.request('/orgs/o/members/', tok, sub)[1].source == 'verified'
        assert log.request(BASE, tok, sub)[1].source == 'verified'

    def test_token_type_policy_is_not_bypassed_by_the_cache(self, httpd, issuer):
        """typ JWT passes where any type is accepted and is cached there; at the
        location that requires at+jwt it is still refused."""
        log = Accepts(httpd)
        sub = unique('jwt')
        tok = tokens.wrong_typ(issuer, API, typ='JWT', sub=sub)
        assert [log.request('/orgs/o/members/', tok, sub)[1].source for _ in range(2)] == ['verified', 'cache']
        for _ in range(2):
            resp, acc = log.request(BASE, tok, sub)
            checks.assert_invalid(resp, issuer.issuer, 'typ')
            assert acc is None

    def test_issuer_list_is_part_of_the_policy(self, httpd, issuer, other):
        log = Accepts(httpd)
        sub = unique('iss')
        tok = tokens.org_api_token(issuer, API, 'org-1', sub=sub)
        assert log.request(BASE, tok, sub)[1].source == 'verified'
        resp, acc = log.request('/org-api/org-1/products/', tok, sub)
        checks.assert_ok(resp)
        assert acc.source == 'verified', acc.line
        # a token of the other issuer: good where both are configured, refused at BASE
        sub2 = unique('other')
        tok2 = tokens.org_api_token(other, API, 'org-1', sub=sub2)
        assert [log.request('/org-api/org-1/products/', tok2, sub2)[1].source for _ in range(2)] \
            == ['verified', 'cache']
        resp, acc = log.request(BASE, tok2, sub2)
        checks.assert_invalid(resp, issuer.issuer, 'iss')
        assert acc is None

    def test_require_is_evaluated_on_a_hit(self, httpd, issuer):
        """A cache hit still answers each location's Require lines."""
        log = Accepts(httpd)
        sub = unique('req')
        tok = tokens.org_api_token(issuer, API, 'org-1', scope='write:products', sub=sub)
        assert log.request('/org-api/org-1/products/', tok, sub)[1].source == 'verified'
        resp, acc = log.request('/org-api/org-2/products/', tok, sub)
        checks.assert_organization_denied(resp)
        assert acc.source == 'cache'
        resp, acc = log.request('/orgs/o/members/', tok, sub)
        checks.assert_insufficient_scope(resp, issuer.issuer, 'read:products')


class TestBound:

    def flood_cache(self, httpd):
        caches = [c for c in accepts.status(httpd)['token_caches'] if c['capacity'] == FLOOD_SIZE]
        assert len(caches) == 1, accepts.status(httpd)
        return caches[0]

    def test_bound_holds_under_a_flood(self, httpd, issuer):
        n = 500
        toks = [(f'flood-{i}', tokens.global_token(issuer, API, sub=f'flood-{i}')) for i in range(n)]
        checks.assert_ok(httpd.get(FLOOD, token=toks[0][1]))
        samples, answers, errors = [], {}, []
        done = threading.Event()

        def sampler():
            while not done.is_set():
                try:
                    samples.append(self.flood_cache(httpd))
                except Exception as e:          # reported below
                    errors.append(repr(e))
                time.sleep(0.02)

        def call(item):
            sub, tok = item
            r = httpd.get(FLOOD, token=tok)
            return sub, r.status_code, (r.json().get('REMOTE_USER') if r.status_code == 200 else r.text[:200])

        watcher = threading.Thread(target=sampler)
        watcher.start()
        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                for sub, status, got in pool.map(call, toks):
                    answers[sub] = (status, got)
        finally:
            done.set()
            watcher.join()
        samples.append(self.flood_cache(httpd))
        assert not errors, errors[:3]
        wrong = {s: a for s, a in answers.items() if a != (200, s)}
        assert not wrong, f'{len(wrong)} wrong answers, e.g. {list(wrong.items())[:3]}'
        assert len(samples) >= 5, f'only {len(samples)} samples'
        assert all(s['capacity'] == FLOOD_SIZE for s in samples), samples[:3]
        over = [s for s in samples if s['entries'] > s['capacity']]
        assert not over, f'{len(over)} samples over capacity, e.g. {over[:3]}'
        assert samples[-1]['entries'] == FLOOD_SIZE, 'after 500 distinct tokens the cache should be full'

    def test_evicted_tokens_are_verified_again(self, httpd, issuer):
        log = Accepts(httpd)
        first = [(unique(f'ev{i}'), None) for i in range(3)]
        first = [(s, tokens.global_token(issuer, API, sub=s)) for s, _ in first]
        for s, t in first:
            assert log.request(FLOOD, t, s)[1].source == 'verified'
        for i in range(10 * FLOOD_SIZE):
            checks.assert_ok(httpd.get(FLOOD, token=tokens.global_token(issuer, API, sub=f'push-{i}')))
        for s, t in first:
            resp, acc = log.request(FLOOD, t, s)
            assert resp.status_code == 200 and resp.json()['REMOTE_USER'] == s
            assert acc.source == 'verified', acc.line
        assert self.flood_cache(httpd)['entries'] <= FLOOD_SIZE
