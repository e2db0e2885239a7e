"""conf/examples/*.conf, included verbatim (with Define LOGTO_ISSUER and
LOGTO_API_INDICATOR), answer as their permission model says."""
import pytest

from harness import checks, tokens
from harness.confs import API, AUTHZ_DENIED, OTHER_API
from harness.httpd import REPO_ROOT

EXAMPLES = REPO_ROOT / 'conf' / 'examples'


def install_example(httpd, issuer, name):
    path = EXAMPLES / name
    assert path.is_file(), f'{path} is missing'
    httpd.install(f'Include "{path}"\n',
                  defines={'LOGTO_ISSUER': issuer.issuer, 'LOGTO_API_INDICATOR': API},
                  claims=[AUTHZ_DENIED])


class TestGlobalApi:

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, issuer):
        install_example(httpd, issuer, 'global-api.conf')

    def test_valid(self, httpd, issuer):
        checks.assert_ok(httpd.get('/api/protected/', token=tokens.global_token(issuer, API)))

    def test_no_token(self, httpd, issuer):
        checks.assert_missing(httpd.get('/api/protected/'), issuer.issuer)

    def test_missing_scope(self, httpd, issuer):
        r = httpd.get('/api/protected/', token=tokens.global_token(issuer, API, scope='write:products'))
        checks.assert_insufficient_scope(r, issuer.issuer, 'read:products')

    def test_wrong_audience(self, httpd, issuer):
        checks.assert_audience_denied(httpd.get('/api/protected/', token=tokens.global_token(issuer, OTHER_API)))

    def test_organization_token(self, httpd, issuer):
        tok = tokens.org_token(issuer, 'org-1', scope='read:products')
        checks.assert_audience_denied(httpd.get('/api/protected/', token=tok))


class TestOrganization:

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, issuer):
        install_example(httpd, issuer, 'organization.conf')

    def test_valid(self, httpd, issuer):
        tok = tokens.org_token(issuer, 'org-1', scope='invite:member')
        assert checks.assert_ok(httpd.get('/orgs/org-1/members/', token=tok))['org'] == 'org-1'

    def test_no_token(self, httpd, issuer):
        checks.assert_missing(httpd.get('/orgs/org-1/members/'), issuer.issuer)

    def test_missing_scope(self, httpd, issuer):
        r = httpd.get('/orgs/org-1/members/', token=tokens.org_token(issuer, 'org-1', scope=''))
        checks.assert_insufficient_scope(r, issuer.issuer, 'invite:member')

    def test_wrong_organization(self, httpd, issuer):
        tok = tokens.org_token(issuer, 'org-2', scope='invite:member')
        checks.assert_organization_denied(httpd.get('/orgs/org-1/members/', token=tok))

    def test_api_token_is_not_an_organization_token(self, httpd, issuer):
        tok = tokens.global_token(issuer, API, scope='invite:member')
        checks.assert_organization_denied(httpd.get('/orgs/org-1/members/', token=tok))


class TestOrganizationApi:

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, issuer):
        install_example(httpd, issuer, 'organization-api.conf')

    def test_valid(self, httpd, issuer):
        tok = tokens.org_api_token(issuer, API, 'org-1', scope='read:products')
        assert checks.assert_ok(httpd.get('/org-api/org-1/products/', token=tok))['org'] == 'org-1'

    def test_no_token(self, httpd, issuer):
        checks.assert_missing(httpd.get('/org-api/org-1/products/'), issuer.issuer)

    def test_missing_scope(self, httpd, issuer):
        tok = tokens.org_api_token(issuer, API, 'org-1', scope='invite:member')
        r = httpd.get('/org-api/org-1/products/', token=tok)
        checks.assert_insufficient_scope(r, issuer.issuer, 'read:products')

    def test_wrong_audience(self, httpd, issuer):
        tok = tokens.org_api_token(issuer, OTHER_API, 'org-1', scope='read:products')
        checks.assert_audience_denied(httpd.get('/org-api/org-1/products/', token=tok))

    def test_wrong_organization(self, httpd, issuer):
        tok = tokens.org_api_token(issuer, API, 'org-2', scope='read:products')
        checks.assert_organization_denied(httpd.get('/org-api/org-1/products/', token=tok))

    def test_global_token_without_organization(self, httpd, issuer):
        tok = tokens.global_token(issuer, API, scope='read:products')
        checks.assert_organization_denied(httpd.get('/org-api/org-1/products/', token=tok))
