"""The validated-token cache (LogtoTokenCache: in-process by default, off,
or a mod_socache provider) never changes an answer: the key is the whole
token (signature included) under the location's policy, and Require lines
are evaluated on every request."""
import pytest

from harness import checks, tokens
from harness.confs import API, AUTHZ_DENIED, location

CACHES = {'default': None, 'off': 'LogtoTokenCache off', 'shmcb': 'LogtoTokenCache shmcb'}


@pytest.fixture(scope='module')
def other(make_issuer):
    return make_issuer('cache-other')


@pytest.fixture(scope='module', params=list(CACHES))
def cached(request, httpd, issuer, other):
    line = CACHES[request.param]
    extra = [line] if line else []
    httpd.install(
        location('/api/protected/', issuer.issuer, ['logto-audience ' + API, 'logto-scope read:products'],
                 directives=extra)
        + location('/api/env/', other.issuer, ['logto-audience ' + API], directives=extra)
        + location('^/orgs/', issuer.issuer, ['logto-audience ' + API, 'logto-scope write:products'],
                   directives=extra, match=True),
        claims=[AUTHZ_DENIED])
    return request.param


class TestTokenCache:

    def test_repeated_token(self, httpd, issuer, cached):
        tok = tokens.global_token(issuer, API, sub=f'user-{cached}')
        for _ in range(5):
            assert checks.assert_ok(httpd.get('/api/protected/', token=tok))['auth']['sub'] == f'user-{cached}'

    def test_altered_signature_of_a_cached_token(self, httpd, issuer, cached):
        tok = tokens.global_token(issuer, API)
        checks.assert_ok(httpd.get('/api/protected/', token=tok))
        checks.assert_invalid(httpd.get('/api/protected/', token=tokens.bad_signature(tok)),
                              issuer.issuer, 'bad_signature')
        checks.assert_invalid(httpd.get('/api/protected/', token=tokens.tampered_payload(tok, sub='admin')),
                              issuer.issuer, 'bad_signature')
        checks.assert_ok(httpd.get('/api/protected/', token=tok))

    def test_require_is_evaluated_each_time(self, httpd, issuer, cached):
        tok = tokens.global_token(issuer, API, scope='read:products')
        checks.assert_ok(httpd.get('/api/protected/', token=tok))
        r = httpd.get('/orgs/o/members/', token=tok)
        checks.assert_insufficient_scope(r, issuer.issuer, 'write:products')

    def test_policy_is_part_of_the_key(self, httpd, issuer, other, cached):
        """Accepted where its issuer is configured; refused where only another one is."""
        tok = tokens.global_token(issuer, API)
        checks.assert_ok(httpd.get('/api/protected/', token=tok))
        checks.assert_invalid(httpd.get('/api/env/', token=tok), other.issuer, 'iss')
        tok2 = tokens.global_token(other, API)
        checks.assert_ok(httpd.get('/api/env/', token=tok2))
        checks.assert_invalid(httpd.get('/api/protected/', token=tok2), issuer.issuer, 'iss')

    def test_many_tokens(self, httpd, issuer, cached):
        """More distinct tokens than a small cache holds, each answered right."""
        toks = [tokens.global_token(issuer, API, sub=f'u{i}') for i in range(60)]
        for _ in range(2):
            for i, tok in enumerate(toks):
                assert checks.assert_ok(httpd.get('/api/protected/', token=tok))['auth']['sub'] == f'u{i}'
