"""Security review, findings 1 and 4: a value taken from the request is one
value, checked as a whole.

Finding 1 (HIGH): `Require logto-organization %{env:MATCH_ORG}` under
`<LocationMatch "^/orgs/(?<org>[^/]+)/">` split the evaluated text into words
and passed when any word matched, so `/orgs/VICTIM%20MYORG/` was served to a
token of MYORG while Django saw the organization "VICTIM MYORG". An expression
now yields exactly one value, and a value with whitespace, quotes or control
characters matches nothing (403). The same holds for logto-audience and
logto-scope.

Finding 4: a `%{...}` value with CR/LF went into the insufficient_scope
challenge unescaped and httpd aborted the response (no body). A header value
never carries a control character now, and the 403 stays complete.
"""
import pytest

from harness import checks, tokens
from harness.confs import API, AUTHZ_DENIED, OTHER_API, location

ORG_ROUTE = '^/orgs/(?<org>[^/]+)/'
SCOPES = 'read:products write:products'


@pytest.fixture(scope='module', autouse=True)
def _conf(httpd, issuer):
    httpd.install(
        location(ORG_ROUTE, issuer.issuer,
                 ['logto-organization %{env:MATCH_ORG}', 'logto-scope invite:member'], match=True)
        # One variable carrying two values: it must not become two values.
        + 'SetEnvIf Request_URI "^/api/protected/" TWO_AUDS="https://other.example.com https://api.example.com" TWO_SCOPES="read:products write:products"\n'
        + location('/api/protected/', issuer.issuer,
                   ['logto-audience %{env:TWO_AUDS}', 'logto-scope read:products'])
        + location('/api/env/', issuer.issuer,
                   ['logto-audience ' + API, 'logto-scope %{env:TWO_SCOPES}'])
        # A scope taken from the URL: CR/LF must never reach a header.
        + location('^/org-api/(?<scope>[^/]+)/', issuer.issuer,
                   ['logto-audience ' + API, 'logto-scope %{env:MATCH_SCOPE} read:products'],
                   match=True),
        claims=[AUTHZ_DENIED])


@pytest.mark.parametrize('segment', [
    'VICTIM%20MYORG', 'MYORG%20VICTIM', 'VICTIM%09MYORG', 'VICTIM%3F%20MYORG',
    '%22MYORG%22', "'MYORG'", 'MYORG%0a', '%0dMYORG', 'VICTIM%0bMYORG', 'VICTIM%0cMYORG',
    'MYORG%7f',
])
def test_one_url_segment_is_one_organization(httpd, issuer, segment):
    tok = tokens.org_token(issuer, 'MYORG', scope='invite:member')
    r = httpd.get(f'/orgs/{segment}/members/', token=tok)
    checks.assert_organization_denied(r)


def test_the_organization_itself_still_passes(httpd, issuer):
    tok = tokens.org_token(issuer, 'MYORG', scope='invite:member')
    body = checks.assert_ok(httpd.get('/orgs/MYORG/members/', token=tok))
    assert body['org'] == 'MYORG'


def test_model_3_token_with_spaced_segment(httpd, issuer):
    tok = tokens.org_api_token(issuer, API, 'MYORG', scope='invite:member')
    checks.assert_organization_denied(httpd.get('/orgs/VICTIM%20MYORG/members/', token=tok))


def test_expression_audience_is_one_value(httpd, issuer):
    """TWO_AUDS holds 'other api': as one value it matches no audience."""
    for aud in (API, OTHER_API):
        tok = tokens.global_token(issuer, aud, scope=SCOPES)
        checks.assert_audience_denied(httpd.get('/api/protected/', token=tok))


def test_expression_scope_is_one_value(httpd, issuer):
    """TWO_SCOPES holds two scopes separated by a space: as one value it can
    never be granted, even to a token holding both; the challenge names no
    such scope."""
    tok = tokens.global_token(issuer, API, scope=SCOPES)
    r = httpd.get('/api/env/', token=tok)
    assert r.status_code == 403
    _, params = checks.parse_challenge(checks.www_authenticate(r))
    assert params == [('realm', issuer.issuer), ('error', 'insufficient_scope')], params
    checks.assert_error_body(r, 'Insufficient scope')


@pytest.mark.parametrize('segment', ['a%0d%0aX-Injected:%20yes', 'a%0aX-Injected:%20yes',
                                     'a%0d', 'x%00y'])
def test_control_characters_never_reach_a_header(httpd, issuer, segment):
    tok = tokens.global_token(issuer, API, scope='openid')
    r = httpd.get(f'/org-api/{segment}/products/', token=tok)
    if segment == 'x%00y':
        # httpd itself refuses an encoded NUL in a path.
        assert r.status_code == 404
        return
    assert 'X-Injected' not in r.headers
    # Complete: the JSON body arrived, the challenge names the usable scope.
    checks.assert_insufficient_scope(r, issuer.issuer, 'read:products')


def test_usable_expression_value_still_matches(httpd, issuer):
    tok = tokens.global_token(issuer, API, scope='read:products admin:x')
    checks.assert_ok(httpd.get('/org-api/admin:x/products/', token=tok))
    tok = tokens.global_token(issuer, API, scope='read:products')
    checks.assert_insufficient_scope(httpd.get('/org-api/admin:x/products/', token=tok),
                                     issuer.issuer, 'admin:x read:products')


class TestLiteralValues:
    """A literal value that no token can match is a start-up error."""

    @pytest.mark.parametrize('line', ['logto-scope "read products"',
                                      'logto-audience "https://a.example https://b.example"',
                                      'logto-organization "org 1"'])
    def test_refused_at_start_up(self, make_httpd, issuer, line):
        server = make_httpd('literal_values')
        server.install(location('/api/protected/', issuer.issuer, [line]), restart=False)
        rc, out = server.configtest()
        assert rc != 0
        assert 'holds whitespace, a quote or a control character' in out, out
