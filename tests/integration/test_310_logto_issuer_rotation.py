"""Key rotation done by the real Logto-shaped issuer while httpd keeps running
(issue 5; LOGTO.md 1.2).

The issuer (tests/issuer, oidc-provider) rotates through its admin API the way
Logto does; every token comes from its token endpoint (client_credentials).
httpd runs conf/examples/global-api.conf as written, with one child process,
so that its key set and token cache are the ones each request meets.

- immediate rotation to RSA (Logto's default, grace 0): the first RS256 token
  costs exactly one JWKS refetch (cause "unknown kid"), later ones none; tokens
  of the previous EC key, cached or never seen, still pass;
- staged rotation: the next key is published first, picked up by the TTL
  refresh, so that after the promotion its tokens pass with no unknown-kid
  fetch at all; the old key, now previous, still passes;
- removal of the previous key: once a refresh has seen the key go, its tokens
  are refused (401 unknown kid), the cached one included; the current key's
  tokens pass.
"""
import pytest

from harness import accepts, checks
from harness.accepts import Accepts, single_child, wait_until
from harness.confs import AUTHZ_DENIED
from harness.httpd import REPO_ROOT
from harness.tokens import decode_unverified
from node_issuer import API_RESOURCE as API, IssuerError, NodeIssuer

GLOBAL = '/api/protected/'
EXAMPLE = REPO_ROOT / 'conf' / 'examples' / 'global-api.conf'


@pytest.fixture
def tenant(httpd):
    """A fresh issuer for each test: rotations change its keys for good.
    httpd stops first, so that its refreshes do not meet a stopped issuer."""
    with NodeIssuer() as iss:
        yield iss
        httpd.stop()


def install(httpd, tenant, jwks_ttl):
    server_lines = f'LogtoJwksCacheTTL {jwks_ttl}\nLogtoJwksRefreshInterval 1\n'
    httpd.install(server_lines + accepts.STATUS_LOCATION + f'Include "{EXAMPLE}"\n',
                  defines={'LOGTO_ISSUER': tenant.issuer, 'LOGTO_API_INDICATOR': API},
                  top=single_child(httpd.mpm), claims=[AUTHZ_DENIED, accepts.BUSY_CLAIM])
    return Accepts(httpd)


def token(tenant):
    return tenant.token(resource=API, scope='read:products')


def kid_alg(tok):
    header = decode_unverified(tok)[0]
    return header['kid'], header['alg']


def ok(log, tok, source=None):
    """200 for tok; returns how it was accepted (and checks it when asked)."""
    resp, acc = log.request(GLOBAL, tok, 'm2m-app')
    checks.assert_ok(resp)
    assert acc is not None, 'no LOGTO0107 line for an accepted token'
    if source:
        assert acc.source == source, f'accepted from {acc.source!r}, expected {source!r}: {acc.line}'
    return acc


def with_traffic(log, tenant, predicate, timeout, what):
    """Waits for predicate() while clients go on calling the API with fresh
    tokens of the current key, as a live site does. (Fresh tokens matter: the
    module's TTL refresh is only started by a request that verifies a
    signature; see test_410_token_cache_keys.py for the case without them.)"""
    def step():
        ok(log, token(tenant))
        return predicate()
    return wait_until(step, timeout=timeout, interval=0.2, what=what)


def rotate(tenant, kty, grace=False):
    """tenant.rotate(), patient with a busy machine: an RSA-4096 key can take
    the issuer longer than its client's 10 s timeout to make. The rotation
    goes on regardless (key changes are serialized); wait for its result."""
    before = {k['kid'] for k in tenant.keys()}
    try:
        return tenant.rotate(kty=kty, grace=grace)
    except IssuerError as e:
        if 'timed out' not in str(e).lower():
            raise
    state = 'next' if grace else 'current'

    def made():
        try:
            return [k['kid'] for k in tenant.keys() if k['kid'] not in before and k['state'] == state]
        except IssuerError:         # still busy
            return None
    return wait_until(made, timeout=120, interval=0.5, what=f'the {kty} key of the rotation')[0]


def jwks_fetches(tenant):
    return tenant.stats().get('/oidc/jwks', 0)


def test_immediate_rotation_to_rsa(httpd, tenant):
    log = install(httpd, tenant, jwks_ttl=600)      # no TTL refresh during the test
    ec_seen, ec_unseen = token(tenant), token(tenant)
    ec_kid, alg = kid_alg(ec_seen)
    assert alg == 'ES384'
    first = ok(log, ec_seen, 'verified')
    assert [f.cause for f in log.fetches()] == ['no keys yet']

    rsa_kid = rotate(tenant, 'RSA')
    assert [(k['kid'], k['state']) for k in tenant.keys()] == [(rsa_kid, 'current'), (ec_kid, 'previous')]
    tenant.reset_stats()
    log.reset()

    rsa_tok = token(tenant)
    assert kid_alg(rsa_tok) == (rsa_kid, 'RS256')
    ok(log, rsa_tok, 'verified')
    assert [f.cause for f in log.fetches()] == ['unknown kid'], log.fetches()
    assert jwks_fetches(tenant) == 1

    # known now: no more fetches, for this token or the next RS256 one
    ok(log, rsa_tok, 'cache')
    ok(log, token(tenant), 'verified')
    # the previous key's tokens still pass: the cached one and one never seen
    ok(log, ec_seen, 'cache')
    ok(log, ec_unseen, 'verified')
    assert jwks_fetches(tenant) == 1 and len(log.fetches()) == 1
    assert {a.pid for a in log.accepts()} == {first.pid}, 'requests met another child'
    doc = accepts.status(httpd)
    assert [s['keys'] for s in doc['key_sets']] == [2] and doc['key_sets'][0]['epoch'] == 0


@pytest.mark.slow
def test_staged_rotation_then_promote(httpd, tenant):
    log = install(httpd, tenant, jwks_ttl=2)
    old = token(tenant)
    old_kid, _ = kid_alg(old)
    ok(log, old, 'verified')

    next_kid = rotate(tenant, 'EC', grace=True)
    assert [(k['kid'], k['state']) for k in tenant.keys()] == [(old_kid, 'current'), (next_kid, 'next')]
    assert kid_alg(token(tenant))[0] == old_kid, 'a staged key must not sign yet'
    log.reset()
    # the TTL refresh publishes the next key to httpd before it signs anything
    with_traffic(log, tenant, lambda: [s['keys'] for s in accepts.status(httpd)['key_sets']] == [2],
                 timeout=15, what='a TTL refresh that brings the next key to httpd')
    assert log.fetches('ttl'), 'the next key should have come with a TTL refresh'
    log.reset()

    assert tenant.promote() == next_kid
    assert [(k['kid'], k['state']) for k in tenant.keys()] == [(next_kid, 'current'), (old_kid, 'previous')]
    new = token(tenant)
    assert kid_alg(new) == (next_kid, 'ES384')
    ok(log, new, 'verified')
    ok(log, old, 'cache')
    ok(log, token(tenant), 'verified')
    assert log.fetches('unknown kid') == [], 'a staged key should have been known before it signed'


@pytest.mark.slow
def test_removed_previous_key_is_refused_after_refresh(httpd, tenant):
    log = install(httpd, tenant, jwks_ttl=2)
    old_seen, old_unseen = token(tenant), token(tenant)
    old_kid, _ = kid_alg(old_seen)
    ok(log, old_seen, 'verified')

    new_kid = rotate(tenant, 'EC')
    new = token(tenant)
    ok(log, new, 'verified')
    ok(log, old_seen, 'cache')

    log.reset()
    remaining = tenant.remove(old_kid)
    assert [k['kid'] for k in remaining] == [new_kid]
    with_traffic(log, tenant, lambda: any('LOGTO0208' in line for line in log.lines()), timeout=15,
                 what='LOGTO0208 (a key left the set) after the next refresh')

    checks.assert_invalid(httpd.get(GLOBAL, token=old_seen), tenant.issuer, 'unknown_kid')
    checks.assert_invalid(httpd.get(GLOBAL, token=old_unseen), tenant.issuer, 'unknown_kid')
    # the cache answered for the current key's token before: it still may
    ok(log, new)
    ok(log, token(tenant), 'verified')
    doc = accepts.status(httpd)
    assert [s['keys'] for s in doc['key_sets']] == [1] and doc['key_sets'][0]['epoch'] >= 1
