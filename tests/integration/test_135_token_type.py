"""LogtoTokenType: the JWS typ header (RFC 9068 section 2.1, RFC 8725 3.11).
Logto's ID tokens are signed with the same keys but carry typ JWT: an ID
token must never pass as an access token."""
import pytest

from harness import checks, tokens
from harness.confs import API, location


@pytest.fixture(scope='module', autouse=True)
def _conf(httpd, issuer):
    httpd.install(
        location('/api/protected/', issuer.issuer, ['logto-audience ' + API])      # default at+jwt
        + location('/api/env/', issuer.issuer, ['logto-audience ' + API],
                   directives=['LogtoTokenType any'])
        + location('^/orgs/', issuer.issuer, ['logto-audience ' + API],
                   directives=['LogtoTokenType JWT'], match=True))


def tok(issuer, typ):
    return tokens.make(issuer, aud=API, typ=typ)


class TestDefault:

    @pytest.mark.parametrize('typ', ['at+jwt', 'application/at+jwt', 'AT+JWT', 'Application/At+Jwt'])
    def test_accepted(self, httpd, issuer, typ):
        checks.assert_ok(httpd.get('/api/protected/', token=tok(issuer, typ)))

    @pytest.mark.parametrize('typ', ['JWT', 'jwt', 'application/jwt', None, '', 'at+jwt ', 'at+jwtx',
                                     'logout+jwt', 'application/application/at+jwt'])
    def test_refused(self, httpd, issuer, typ):
        checks.assert_invalid(httpd.get('/api/protected/', token=tok(issuer, typ)), issuer.issuer, 'typ')

    def test_typ_not_a_string(self, httpd, issuer):
        t = tokens.make(issuer, aud=API, header_extra={'typ': 7})
        reason = checks.invalid_reason(httpd.get('/api/protected/', token=t), issuer.issuer)
        assert reason in (checks.REASONS['typ'], checks.REASONS['malformed'])


class TestAny:

    @pytest.mark.parametrize('typ', ['at+jwt', 'JWT', None, 'whatever'])
    def test_accepted(self, httpd, issuer, typ):
        checks.assert_ok(httpd.get('/api/env/', token=tok(issuer, typ)))


class TestOtherType:

    def test_jwt_accepted(self, httpd, issuer):
        checks.assert_ok(httpd.get('/orgs/o/members/', token=tok(issuer, 'JWT')))

    def test_at_jwt_refused(self, httpd, issuer):
        checks.assert_invalid(httpd.get('/orgs/o/members/', token=tok(issuer, 'at+jwt')), issuer.issuer, 'typ')
