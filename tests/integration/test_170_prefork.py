"""The module under mpm_prefork (one thread per process, several processes)."""
import pytest

from harness import checks, tokens
from harness.confs import API, AUTHZ_DENIED, location


@pytest.fixture(scope='module')
def prefork_httpd(make_httpd, issuer):
    server = make_httpd('prefork', mpm='prefork')
    server.install(location('/api/', issuer.issuer, ['logto-audience ' + API, 'logto-scope read:products']),
                   claims=[AUTHZ_DENIED])
    return server


class TestPrefork:

    def test_answers(self, prefork_httpd, issuer):
        s = prefork_httpd
        assert s.mpm == 'prefork'
        good = tokens.global_token(issuer, API, sub='user-prefork')
        for _ in range(6):      # spread over the children
            assert checks.assert_ok(s.get('/api/protected/', token=good))['auth']['sub'] == 'user-prefork'
        checks.assert_missing(s.get('/api/protected/'), issuer.issuer)
        checks.assert_invalid(s.get('/api/protected/', token=tokens.expired(issuer, API)), issuer.issuer, 'expired')
        r = s.get('/api/protected/', token=tokens.global_token(issuer, API, scope='other'))
        checks.assert_insufficient_scope(r, issuer.issuer, 'read:products')
        env = checks.assert_ok(s.get('/api/env/', token=good))
        assert env['REMOTE_USER'] == 'user-prefork' and env['AUTH_TYPE'] == 'Logto'
