"""The Require providers logto-scope, logto-audience, logto-organization and
their 403 answers (DESIGN.md "Require providers", "Request contract" rows 4-5).
httpd core alone would answer 401 for a denial; these pin the module's
403 + JSON body, with and without AuthzSendForbiddenOnFailure."""
import pytest

from harness import checks, tokens
from harness.confs import API, AUTHZ_DENIED, OTHER_API, location

SCOPES = 'read:products write:products'
ORG_ROUTE = '^/orgs/(?<org>[^/]+)/'


@pytest.fixture(scope='module', autouse=True)
def _conf(httpd, issuer):
    httpd.install(
        location('/api/protected/', issuer.issuer,
                 ['logto-audience ' + API, 'logto-scope ' + SCOPES])
        + location('/api/env/', issuer.issuer,
                   ['logto-audience ' + API, 'logto-scope ' + SCOPES],
                   directives=['AuthzSendForbiddenOnFailure On'])
        + location(ORG_ROUTE, issuer.issuer,
                   ['logto-organization %{env:MATCH_ORG}', 'logto-scope invite:member'], match=True),
        claims=[AUTHZ_DENIED])


PATHS = ['/api/protected/', '/api/env/']   # without / with AuthzSendForbiddenOnFailure


class TestScope:

    @pytest.mark.parametrize('path', PATHS)
    @pytest.mark.parametrize('scope', [SCOPES, 'write:products read:products',
                                       'openid read:products profile write:products',
                                       'read:products  write:products'])
    def test_all_scopes_present(self, httpd, issuer, path, scope):
        checks.assert_ok(httpd.get(path, token=tokens.global_token(issuer, API, scope=scope)))

    @pytest.mark.parametrize('path', PATHS)
    @pytest.mark.parametrize('scope', ['read:products', 'write:products', '',
                                       'read:productswrite:products', 'READ:PRODUCTS WRITE:PRODUCTS',
                                       'read:products write:product', 'read write', 'read:products,write:products'])
    def test_scope_missing(self, httpd, issuer, path, scope):
        r = httpd.get(path, token=tokens.global_token(issuer, API, scope=scope))
        checks.assert_insufficient_scope(r, issuer.issuer, SCOPES)

    @pytest.mark.parametrize('path', PATHS)
    def test_scope_claim_absent(self, httpd, issuer, path):
        """An M2M token with no scope: no permissions, 403 not 401 (LOGTO.md 0.7)."""
        r = httpd.get(path, token=tokens.m2m_token(issuer, API, scope=None))
        checks.assert_insufficient_scope(r, issuer.issuer, SCOPES)

    def test_global_token_with_org_role_scopes_passes_global_route(self, httpd, issuer):
        """LOGTO.md 2.4: a model-1 token may carry org-role scopes; a global route
        only checks audience and scopes."""
        tok = tokens.global_token(issuer, API, scope='read:products write:products invite:member')
        checks.assert_ok(httpd.get('/api/protected/', token=tok))


class TestAudience:

    @pytest.mark.parametrize('path', PATHS)
    @pytest.mark.parametrize('aud', [OTHER_API, API + '/', API.upper(), 'https://api.example.co',
                                     'urn:logto:organization:org-1', '', [OTHER_API, 'x'], []])
    def test_audience_denied(self, httpd, issuer, path, aud):
        r = httpd.get(path, token=tokens.make(issuer, aud=aud, scope=SCOPES))
        checks.assert_audience_denied(r)

    @pytest.mark.parametrize('path', PATHS)
    def test_audience_in_array(self, httpd, issuer, path):
        tok = tokens.make(issuer, aud=[OTHER_API, API], scope=SCOPES)
        checks.assert_ok(httpd.get(path, token=tok))

    def test_audience_claim_absent(self, httpd, issuer):
        """No aud at all: never a pass (403 audience, or 401 if the module
        requires aud; the contract leaves that open)."""
        tok = tokens.make(issuer, aud=API, scope=SCOPES, drop=('aud',))
        r = httpd.get('/api/protected/', token=tok)
        if r.status_code == 401:
            checks.invalid_reason(r, issuer.issuer)
        else:
            checks.assert_audience_denied(r)


class TestOrganization:
    """Require logto-organization %{env:MATCH_ORG}: the org comes from the URL."""

    def test_organization_token(self, httpd, issuer):
        tok = tokens.org_token(issuer, 'org-1', scope='invite:member')
        body = checks.assert_ok(httpd.get('/orgs/org-1/members/', token=tok))
        assert body['org'] == 'org-1'
        assert body['auth']['organizationId'] == 'org-1'

    def test_organization_api_token(self, httpd, issuer):
        """organization_id claim equal to the org passes too (model 3 shape)."""
        tok = tokens.org_api_token(issuer, API, 'org-1', scope='invite:member')
        checks.assert_ok(httpd.get('/orgs/org-1/members/', token=tok))

    @pytest.mark.parametrize('token_org,url_org', [
        ('org-1', 'org-2'), ('org-1', 'org-10'), ('org-10', 'org-1'), ('ORG-1', 'org-1'),
    ])
    def test_other_organization(self, httpd, issuer, token_org, url_org):
        tok = tokens.org_token(issuer, token_org, scope='invite:member')
        checks.assert_organization_denied(httpd.get(f'/orgs/{url_org}/members/', token=tok))

    def test_organization_id_claim_for_other_org(self, httpd, issuer):
        tok = tokens.org_api_token(issuer, API, 'org-2', scope='invite:member')
        checks.assert_organization_denied(httpd.get('/orgs/org-1/members/', token=tok))

    def test_global_token_has_no_organization(self, httpd, issuer):
        tok = tokens.global_token(issuer, API, scope='invite:member')
        checks.assert_organization_denied(httpd.get('/orgs/org-1/members/', token=tok))

    def test_org_prefix_must_be_exact(self, httpd, issuer):
        for aud in ('urn:logto:organization:org-1/x', 'urn:logto:organizations:org-1',
                    'URN:LOGTO:ORGANIZATION:org-1', 'org-1'):
            tok = tokens.make(issuer, aud=aud, scope='invite:member')
            checks.assert_organization_denied(httpd.get('/orgs/org-1/members/', token=tok))

    def test_scope_missing_in_organization(self, httpd, issuer):
        tok = tokens.org_token(issuer, 'org-1', scope='')
        r = httpd.get('/orgs/org-1/members/', token=tok)
        checks.assert_insufficient_scope(r, issuer.issuer, 'invite:member')


class TestExpressions:
    """Require lines take httpd expressions, evaluated per request."""

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, issuer):
        httpd.install(
            'SetEnvIf Request_URI "^/api/protected/" NEED_AUD=https://api.example.com NEED_SCOPE=read:products\n'
            'SetEnvIf Request_URI "^/api/env/" NEED_AUD=https://other.example.com NEED_SCOPE=write:products\n'
            + location('/api/', issuer.issuer,
                       ['logto-audience %{env:NEED_AUD}', 'logto-scope %{env:NEED_SCOPE} openid']),
            claims=[AUTHZ_DENIED])

    def test_values_from_the_environment(self, httpd, issuer):
        tok = tokens.global_token(issuer, API, scope='openid read:products')
        checks.assert_ok(httpd.get('/api/protected/', token=tok))
        checks.assert_audience_denied(httpd.get('/api/env/', token=tok))
        tok = tokens.global_token(issuer, OTHER_API, scope='openid write:products')
        checks.assert_ok(httpd.get('/api/env/', token=tok))

    def test_scope_challenge_names_the_evaluated_scopes(self, httpd, issuer):
        tok = tokens.global_token(issuer, API, scope='openid')
        r = httpd.get('/api/protected/', token=tok)
        checks.assert_insufficient_scope(r, issuer.issuer, 'read:products openid')
