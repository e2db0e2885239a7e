"""DESIGN.md "Request contract": the Authorization header, the Bearer scheme,
realms, JSON bodies, and success without a challenge."""
import pytest
import requests

from harness import checks, tokens
from harness.confs import API, AUTHZ_DENIED, location, public

BASIC = 'Basic dXNlcjpwYXNzd29yZA=='


@pytest.fixture(scope='module', autouse=True)
def _conf(httpd, issuer):
    httpd.install(
        location('/api/', issuer.issuer,
                 ['logto-audience ' + API, 'logto-scope read:products'])
        + public('/api/public/')
        # /api/env/ inherits AuthType, issuer and Require lines from /api/
        + '<Location "/api/env/">\n    LogtoRealm "Products API"\n</Location>\n',
        claims=[AUTHZ_DENIED])


class TestAuthorizationHeader:

    def test_missing_header(self, httpd, issuer):
        r = httpd.get('/api/protected/')
        checks.assert_missing(r, issuer.issuer)

    def test_missing_header_realm_override(self, httpd):
        r = httpd.get('/api/env/')
        checks.assert_missing(r, 'Products API')

    @pytest.mark.parametrize('value', [
        BASIC,
        'Digest username="u", realm="r", nonce="n", uri="/", response="x"',
        'Negotiate YIIC',
        'Token abc',
        'Bearerabc.def.ghi',
    ])
    def test_other_scheme(self, httpd, issuer, value):
        r = httpd.get('/api/protected/', headers={'Authorization': value})
        checks.assert_not_bearer(r, issuer.issuer)

    def test_other_scheme_realm_override(self, httpd):
        r = httpd.get('/api/env/', headers={'Authorization': BASIC})
        checks.assert_not_bearer(r, 'Products API')

    @pytest.mark.parametrize('scheme', ['Bearer', 'bearer', 'BEARER', 'bEaReR'])
    def test_scheme_is_case_insensitive(self, httpd, issuer, scheme):
        tok = tokens.global_token(issuer, API)
        body = checks.assert_ok(httpd.get('/api/protected/', token=tok, scheme=scheme))
        assert body['auth']['sub'] == 'user-6bd2kx'

    def test_invalid_token_realm_override(self, httpd):
        r = httpd.get('/api/env/', token=tokens.opaque())
        checks.assert_invalid(r, 'Products API', 'opaque')


class TestSuccess:

    def test_valid_token(self, httpd, issuer):
        tok = tokens.global_token(issuer, API, scope='read:products write:products',
                                  sub='user-42', client_id='app-7')
        r = httpd.get('/api/protected/', token=tok)
        body = checks.assert_ok(r)
        auth = body['auth']
        assert auth['sub'] == 'user-42'
        assert auth['clientId'] == 'app-7'
        assert auth['organizationId'] is None
        assert sorted(auth['scopes']) == ['read:products', 'write:products']
        assert auth['audience'] == [API]

    def test_post_with_body(self, httpd, issuer):
        import requests as rq
        tok = tokens.global_token(issuer, API, sub='user-post')
        r = rq.post(httpd.url('/api/protected/'), data=b'{"a": 1}' * 1000,
                    headers={'Authorization': f'Bearer {tok}', 'Content-Type': 'application/json'}, timeout=30)
        assert checks.assert_ok(r)['auth']['sub'] == 'user-post'
        r = rq.post(httpd.url('/api/protected/'), data=b'x' * 10000, timeout=30)
        checks.assert_missing(r, issuer.issuer)

    def test_same_token_twice(self, httpd, issuer):
        """The second use may come from the validated-token cache: same answer."""
        tok = tokens.global_token(issuer, API, sub='user-twice')
        for _ in range(3):
            assert checks.assert_ok(httpd.get('/api/protected/', token=tok))['auth']['sub'] == 'user-twice'

    def test_public_location_needs_no_token(self, httpd):
        r = httpd.get('/api/public/')
        assert checks.assert_ok(r) == {'ok': True}

    def test_token_never_echoed(self, httpd, issuer):
        """Neither a good nor a bad token comes back in a response."""
        good = tokens.global_token(issuer, API)
        for tok in (good, tokens.bad_signature(good), tokens.expired(issuer, API)):
            r = httpd.get('/api/env/', token=tok)
            sig = tok.split('.')[2]
            everything = r.text + repr(dict(r.headers))
            assert tok not in everything and sig not in everything


class TestKeepAlive:
    """Per-request state never leaks into the next request on a connection."""

    def test_mixed_requests_on_one_connection(self, httpd, issuer):
        good = tokens.global_token(issuer, API, sub='user-ka')
        s = requests.Session()
        url = httpd.url('/api/protected/')
        seq = [
            (good, 200), (None, 401), (good, 200), (tokens.expired(issuer, API), 401),
            (good, 200), (tokens.global_token(issuer, API, scope='other'), 403), (good, 200),
        ]
        for tok, status in seq:
            hdrs = {'Authorization': f'Bearer {tok}'} if tok else {}
            r = s.get(url, headers=hdrs, timeout=30)
            assert r.status_code == status, (tok and tok[:20], r.status_code, r.text)
            if status == 200:
                assert r.json()['auth']['sub'] == 'user-ka'
                assert 'WWW-Authenticate' not in r.headers
            else:
                assert r.headers['Content-Type'].startswith('application/json')
        s.close()
