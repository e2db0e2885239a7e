"""The three Logto permission models (DESIGN.md table), each configured as the
design shows and exercised with the tokens Logto issues for it: valid 200,
missing scope 403, wrong audience 403, wrong organization 403."""
import pytest

from harness import checks, tokens
from harness.confs import API, AUTHZ_DENIED, OTHER_API, location

GLOBAL = '/api/protected/'
ORG_MATCH = '^/orgs/(?<org>[^/]+)/'
ORG_API_MATCH = '^/org-api/(?<org>[^/]+)/'


def org_path(org):
    return f'/orgs/{org}/members/'


def org_api_path(org):
    return f'/org-api/{org}/products/'


@pytest.fixture(scope='module', autouse=True)
def _conf(httpd, issuer):
    httpd.install(
        location('/api/', issuer.issuer, ['logto-audience ' + API, 'logto-scope read:products'])
        + location(ORG_MATCH, issuer.issuer,
                   ['logto-organization %{env:MATCH_ORG}', 'logto-scope invite:member'], match=True)
        + location(ORG_API_MATCH, issuer.issuer,
                   ['logto-audience ' + API, 'logto-organization %{env:MATCH_ORG}',
                    'logto-scope read:products'], match=True),
        claims=[AUTHZ_DENIED])


class TestGlobalApiResource:

    def test_valid(self, httpd, issuer):
        body = checks.assert_ok(httpd.get(GLOBAL, token=tokens.global_token(issuer, API)))
        assert body['auth']['audience'] == [API] and body['auth']['organizationId'] is None

    def test_valid_m2m(self, httpd, issuer):
        tok = tokens.m2m_token(issuer, API, scope='read:products')
        assert checks.assert_ok(httpd.get(GLOBAL, token=tok))['auth']['sub'] == 'm2m-app-4k2j'

    def test_missing_scope(self, httpd, issuer):
        r = httpd.get(GLOBAL, token=tokens.global_token(issuer, API, scope='write:products'))
        checks.assert_insufficient_scope(r, issuer.issuer, 'read:products')

    def test_wrong_audience(self, httpd, issuer):
        r = httpd.get(GLOBAL, token=tokens.global_token(issuer, OTHER_API))
        checks.assert_audience_denied(r)

    def test_organization_token_is_not_an_api_token(self, httpd, issuer):
        """A model-2 token (wrong organization/audience for a global API)."""
        r = httpd.get(GLOBAL, token=tokens.org_token(issuer, 'org-1', scope='read:products'))
        checks.assert_audience_denied(r)


class TestOrganizationPermissions:

    def test_valid(self, httpd, issuer):
        tok = tokens.org_token(issuer, 'org-1', scope='invite:member')
        body = checks.assert_ok(httpd.get(org_path('org-1'), token=tok))
        assert body['org'] == 'org-1' and body['auth']['organizationId'] == 'org-1'

    def test_missing_scope(self, httpd, issuer):
        tok = tokens.org_token(issuer, 'org-1', scope='')      # Logto's empty org scope
        r = httpd.get(org_path('org-1'), token=tok)
        checks.assert_insufficient_scope(r, issuer.issuer, 'invite:member')

    def test_wrong_audience(self, httpd, issuer):
        """A global API token carries no organization: not for this org."""
        tok = tokens.global_token(issuer, API, scope='invite:member')
        checks.assert_organization_denied(httpd.get(org_path('org-1'), token=tok))

    def test_wrong_organization(self, httpd, issuer):
        tok = tokens.org_token(issuer, 'org-2', scope='invite:member')
        checks.assert_organization_denied(httpd.get(org_path('org-1'), token=tok))


class TestOrganizationApiResource:

    def test_valid(self, httpd, issuer):
        tok = tokens.org_api_token(issuer, API, 'org-1', scope='read:products')
        body = checks.assert_ok(httpd.get(org_api_path('org-1'), token=tok))
        assert body['org'] == 'org-1' and body['auth']['organizationId'] == 'org-1'
        assert body['auth']['audience'] == [API]

    def test_missing_scope(self, httpd, issuer):
        tok = tokens.org_api_token(issuer, API, 'org-1', scope='')
        r = httpd.get(org_api_path('org-1'), token=tok)
        checks.assert_insufficient_scope(r, issuer.issuer, 'read:products')

    def test_wrong_audience(self, httpd, issuer):
        tok = tokens.org_api_token(issuer, OTHER_API, 'org-1', scope='read:products')
        checks.assert_audience_denied(httpd.get(org_api_path('org-1'), token=tok))

    def test_wrong_organization(self, httpd, issuer):
        tok = tokens.org_api_token(issuer, API, 'org-2', scope='read:products')
        checks.assert_organization_denied(httpd.get(org_api_path('org-1'), token=tok))

    def test_global_token_with_org_role_scopes(self, httpd, issuer):
        """LOGTO.md 2.4: a model-1 token carries org-role scopes of every org
        but no organization_id; an org-level API must refuse it."""
        tok = tokens.global_token(issuer, API, scope='read:products')
        checks.assert_organization_denied(httpd.get(org_api_path('org-1'), token=tok))

    def test_organization_token_is_not_for_the_api(self, httpd, issuer):
        tok = tokens.org_token(issuer, 'org-1', scope='read:products')
        checks.assert_audience_denied(httpd.get(org_api_path('org-1'), token=tok))
