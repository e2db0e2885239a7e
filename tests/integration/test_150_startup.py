"""Start-up checks: configurations that must not run (apache2 -t and start
both fail, with a message that says why), and the LOGTO0105 warning."""
import re

import pytest

from harness.confs import API, location

# Lines a refused start may leave in the error log.
START_FAILURE = r'AH00016|AH00526|Configuration Failed|Syntax error|LOGTO01\d\d'


def assert_refused(httpd, needle):
    """apache2 -t and apache2 -k start both fail and say needle."""
    httpd.claim_log(START_FAILURE)
    rc, out = httpd.configtest()
    assert rc != 0, f'apache2 -t accepted it:\n{out}'
    assert re.search(needle, out), f'apache2 -t output lacks {needle!r}:\n{out}'
    assert 'Invalid command' not in out, f'the directive is unknown to the module:\n{out}'
    rc, out = httpd.start(expect_fail=True)
    assert rc != 0 and not httpd.running, f'httpd started with it:\n{out}'
    assert re.search(needle, out), f'start output lacks {needle!r}:\n{out}'


@pytest.fixture(autouse=True)
def _stopped(httpd):
    httpd.stop()
    yield
    httpd.stop()


class TestRequireMixing:
    """httpd ORs Require lines that stand directly in a section: a logto-*
    line next to another Require line would let either alone suffice."""

    def test_mixed_with_ip(self, httpd, issuer):
        conf = ('<Location "/api/">\n    AuthType Logto\n    LogtoIssuer ' + issuer.issuer + '\n'
                '    Require logto-scope read:products\n    Require ip 127.0.0.1\n</Location>\n')
        httpd.install(conf, restart=False)
        assert_refused(httpd, 'RequireAll')

    def test_mixed_with_valid_user(self, httpd, issuer):
        conf = ('<Location "/api/">\n    AuthType Logto\n    LogtoIssuer ' + issuer.issuer + '\n'
                '    Require valid-user\n    Require logto-audience ' + API + '\n</Location>\n')
        httpd.install(conf, restart=False)
        assert_refused(httpd, 'RequireAll')

    def test_mixed_in_location_match(self, httpd, issuer):
        conf = ('<LocationMatch "^/orgs/(?<org>[^/]+)/">\n    AuthType Logto\n    LogtoIssuer ' + issuer.issuer + '\n'
                '    Require logto-organization %{env:MATCH_ORG}\n    Require all granted\n</LocationMatch>\n')
        httpd.install(conf, restart=False)
        assert_refused(httpd, 'RequireAll')

    @pytest.mark.parametrize('wrap', ['RequireAll', 'RequireAny'])
    def test_wrapped_is_fine(self, httpd, issuer, wrap):
        httpd.install(location('/api/', issuer.issuer,
                               ['logto-audience ' + API, 'ip 127.0.0.1'], wrap=wrap), restart=False)
        rc, out = httpd.configtest()
        assert rc == 0, out
        httpd.start()


BAD_VALUES = {
    'LogtoClockSkew -5': 'LogtoClockSkew',
    'LogtoClockSkew soon': 'LogtoClockSkew',
    'LogtoAlgorithms HS256': 'LogtoAlgorithms',
    'LogtoAlgorithms none': 'LogtoAlgorithms',
    'LogtoAlgorithms ES384 HS512': 'LogtoAlgorithms',
    'LogtoIssuer ftp://x': 'LogtoIssuer',
    'LogtoIssuer http://example.com/oidc': 'LogtoIssuer',
    'LogtoJwksUri http://example.com/jwks': 'LogtoJwksUri',
    'LogtoJwksCacheTTL -1': 'LogtoJwksCacheTTL',
    'LogtoHttpTimeout -3': 'LogtoHttpTimeout',
}

GOOD_VALUES = ['LogtoClockSkew 0', 'LogtoClockSkew 120', 'LogtoAlgorithms ES384',
               'LogtoAlgorithms RS256 PS256 ES256 ES384 ES512 EdDSA',
               'LogtoIssuer https://tenant.logto.app/oidc',
               'LogtoIssuer http://localhost:3001/oidc', 'LogtoIssuer http://[::1]:3001/oidc',
               'LogtoJwksUri https://tenant.logto.app/oidc/jwks', 'LogtoJwksCacheTTL 600',
               'LogtoHttpTimeout 5', 'LogtoTokenType any', 'LogtoTokenType at+jwt application/at+jwt',
               'LogtoRealm "My API"', 'LogtoClaimPrefix APP_', 'LogtoJwksMaxStale 86400',
               'LogtoJwksRefreshInterval 30', 'LogtoTokenCache off', 'LogtoTokenCache shmcb',
               'LogtoTokenCacheSize 1000']


def conf_with(issuer, line):
    return location('/api/', issuer.issuer, ['logto-audience ' + API], directives=[line])


class TestDirectiveValues:

    @pytest.mark.parametrize('line', list(BAD_VALUES))
    def test_bad_value_refused(self, httpd, issuer, line):
        httpd.install(conf_with(issuer, line), restart=False)
        assert_refused(httpd, BAD_VALUES[line])

    @pytest.mark.parametrize('line', GOOD_VALUES)
    def test_good_value_accepted(self, httpd, issuer, line):
        httpd.install(conf_with(issuer, line), restart=False)
        rc, out = httpd.configtest()
        assert rc == 0, f'{line}: {out}'


class TestAudienceWarning:

    NO_AUDIENCE = staticmethod(lambda issuer: location('/api/', issuer.issuer, ['logto-scope read:products']))

    def test_no_audience_or_organization_warns_on_configtest(self, httpd, issuer):
        httpd.install(self.NO_AUDIENCE(issuer), claims=[r'LOGTO0105'], restart=False)
        rc, out = httpd.configtest()
        assert rc == 0 and 'LOGTO0105' in out, out

    def test_no_audience_or_organization_warns_on_start(self, httpd, issuer):
        """The warning reaches the error log of a started server (where an
        operator who never ran apache2 -t sees it)."""
        httpd.install(self.NO_AUDIENCE(issuer), claims=[r'LOGTO0105'])
        assert 'LOGTO0105' in httpd.last_output or httpd.wait_log('LOGTO0105', timeout=2), \
            f'no LOGTO0105 start-up warning in the start output or error log:\n{httpd.last_output}'

    @pytest.mark.parametrize('req', ['logto-audience ' + API, 'logto-organization %{env:MATCH_ORG}'])
    def test_with_audience_or_organization_no_warning(self, httpd, issuer, req):
        httpd.install(location('/api/', issuer.issuer, [req, 'logto-scope read:products']))
        assert 'LOGTO0105' not in httpd.last_output
        assert 'LOGTO0105' not in httpd.configtest()[1]
        assert not httpd.wait_log('LOGTO0105', timeout=0.5)
