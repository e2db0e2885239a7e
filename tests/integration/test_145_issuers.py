"""Where keys come from: several LogtoIssuer values each with its own keys,
LogtoJwksUri, LogtoJwksFile; and the 503 answer when an issuer's keys
cannot be obtained at all (DESIGN.md "Request contract", last row)."""
import pytest

from harness import checks, tokens
from harness.confs import API, location
from harness.fake_issuer import free_port

# Lines the module may log when a fetch fails or keys are unavailable.
FETCH_TROUBLE = r'LOGTO020[2-9]|LOGTO0103'


class TestSeveralIssuers:
    """LogtoIssuer A B: a tenant under two domains, or two tenants. Each has
    its own key set; a third issuer is refused without a fetch to it."""

    @pytest.fixture(scope='class')
    def trio(self, make_issuer):
        return (make_issuer('iss-a', kinds=('EC-P384',)), make_issuer('iss-b', kinds=('RSA-2048',)),
                make_issuer('iss-c', kinds=('EC-P384',)))

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, trio):
        a, b, _ = trio
        httpd.install(location('/api/', [a.issuer, b.issuer], ['logto-audience ' + API]))

    def test_first_issuer(self, httpd, trio):
        a, _, _ = trio
        checks.assert_ok(httpd.get('/api/protected/', token=tokens.global_token(a, API, sub='from-a')))

    def test_second_issuer(self, httpd, trio):
        _, b, _ = trio
        body = checks.assert_ok(httpd.get('/api/protected/', token=tokens.global_token(b, API, sub='from-b')))
        assert body['auth']['sub'] == 'from-b'

    def test_keys_are_per_issuer(self, httpd, trio):
        """iss A signed with B's key: B's key does not speak for A."""
        a, b, _ = trio
        tok = tokens.make(a, aud=API, key=b.signing_key)
        checks.assert_invalid(httpd.get('/api/protected/', token=tok), a.issuer, 'unknown_kid')

    def test_third_issuer_refused_without_fetch(self, httpd, trio):
        a, _, c = trio
        c.reset_hits()
        r = httpd.get('/api/protected/', token=tokens.global_token(c, API))
        checks.assert_invalid(r, a.issuer, 'iss')       # realm: the first LogtoIssuer
        assert c.hits() == 0, c.requests()

    def test_issuer_variable(self, httpd, trio):
        a, b, _ = trio
        for iss in (a, b):
            env = checks.assert_ok(httpd.get('/api/env/', token=tokens.global_token(iss, API)))
            assert env['LOGTO_ISSUER'] == iss.issuer


class TestJwksUri:
    """LogtoJwksUri skips discovery: a broken discovery document does not matter."""

    @pytest.fixture(scope='class')
    def iss(self, make_issuer):
        i = make_issuer('jwks-uri')
        i.fail(404, paths='discovery')
        return i

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, iss):
        httpd.install(location('/api/', iss.issuer, ['logto-audience ' + API],
                               directives=[f'LogtoJwksUri {iss.jwks_uri}']))

    def test_keys_from_jwks_uri(self, httpd, iss):
        iss.reset_hits()
        checks.assert_ok(httpd.get('/api/protected/', token=tokens.global_token(iss, API)))
        assert iss.hits('discovery') == 0
        assert iss.hits('jwks') >= 1


class TestJwksFile:
    """LogtoJwksFile: keys from a file, nothing fetched (the issuer URL points
    at a closed port)."""

    @pytest.fixture(scope='class')
    def iss(self, make_issuer):
        i = make_issuer('jwks-file', kinds=('EC-P384', 'RSA-2048'))
        i.down()
        return i

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, iss):
        path = httpd.write_file('conf/jwks.json', iss.jwks_json())
        httpd.install(location('/api/', iss.issuer, ['logto-audience ' + API],
                               directives=[f'LogtoJwksFile "{path}"']))

    def test_keys_from_file(self, httpd, iss):
        checks.assert_ok(httpd.get('/api/protected/', token=tokens.global_token(iss, API)))
        rsa = iss.keys[1]
        checks.assert_ok(httpd.get('/api/protected/', token=tokens.global_token(iss, API, key=rsa)))
        assert iss.hits() == 0

    def test_key_not_in_file(self, httpd, iss):
        r = httpd.get('/api/protected/', token=tokens.unknown_kid(iss, API))
        checks.assert_invalid(r, iss.issuer, 'unknown_kid')


class TestKeysUnavailable:
    """503 with no challenge when the keys cannot be obtained at all. Each case
    starts the server afresh, so that nothing is cached."""

    CASES = {
        'issuer-down': lambda i: i.down(),
        'discovery-500': lambda i: i.fail(500),
        'jwks-500': lambda i: i.fail(500, paths='jwks'),
        'discovery-404': lambda i: i.fail(404, paths='discovery'),
        'jwks-garbage': lambda i: i.garbage(paths='jwks'),
        'discovery-garbage': lambda i: i.garbage(paths='discovery'),
        'discovery-issuer-mismatch': lambda i: i.issuer_mismatch(),
        'jwks-empty': lambda i: i.empty_keys(),
        'jwks-junk-only': lambda i: i.junk_keys(),
    }

    @pytest.mark.parametrize('case', list(CASES))
    def test_503(self, httpd, make_issuer, case):
        iss = make_issuer(f'unavail-{case}')
        self.CASES[case](iss)
        httpd.install(location('/api/', iss.issuer, ['logto-audience ' + API]),
                      claims=[FETCH_TROUBLE])
        r = httpd.get('/api/protected/', token=tokens.global_token(iss, API))
        checks.assert_keys_unavailable(r)
        # the same again (now from the "nothing trusted, do not refetch yet" state)
        checks.assert_keys_unavailable(httpd.get('/api/protected/', token=tokens.global_token(iss, API)))
        # a request without a token is still a 401, keys or not
        checks.assert_missing(httpd.get('/api/protected/'), iss.issuer)

    def test_mismatch_is_logged(self, httpd, make_issuer):
        iss = make_issuer('unavail-mismatch-log')
        iss.issuer_mismatch()
        httpd.install(location('/api/', iss.issuer, ['logto-audience ' + API]), claims=[FETCH_TROUBLE])
        checks.assert_keys_unavailable(httpd.get('/api/protected/', token=tokens.global_token(iss, API)))
        assert httpd.wait_log(r'LOGTO0205'), 'no LOGTO0205 line for a discovery issuer mismatch'

    @pytest.mark.slow
    def test_http_timeout_on_stalled_issuer(self, httpd, make_issuer):
        """LogtoHttpTimeout 2 against an issuer that accepts and never answers:
        a 503 after about 2 s, not after the 30 s stall."""
        import time
        iss = make_issuer('unavail-stall')
        iss.stall(30)
        httpd.install(location('/api/', iss.issuer, ['logto-audience ' + API],
                               directives=['LogtoHttpTimeout 2']), claims=[FETCH_TROUBLE])
        t = time.time()
        checks.assert_keys_unavailable(httpd.get('/api/protected/', token=tokens.global_token(iss, API)))
        assert time.time() - t < 8, f'took {time.time() - t:.1f} s'
        iss.normal()

    def test_unreachable_port(self, httpd, issuer):
        """An issuer URL where nothing listens at all."""
        url = f'http://127.0.0.1:{free_port()}/oidc'
        httpd.install(location('/api/', url, ['logto-audience ' + API]), claims=[FETCH_TROUBLE])
        tok = tokens.make(issuer, aud=API, iss=url)
        checks.assert_keys_unavailable(httpd.get('/api/protected/', token=tok))
