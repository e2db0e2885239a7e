"""End to end against a real Logto-shaped issuer (issue 5).

Every token here comes from tests/issuer (oidc-provider, configured like
Logto) over HTTP, with grant_type=client_credentials and HTTP Basic client
authentication, as the curl commands of Logto's M2M guide obtain them; each is
sent through httpd (the conf/examples/*.conf files, included verbatim) to the
Django API under mod_wsgi. Nothing is minted by the test itself.

- the three permission models: valid (200 with the guide's ``{"auth": {...}}``
  body, whose fields are the token's), missing scope (403 insufficient_scope),
  wrong audience (403), wrong organization (403);
- an opaque token from the same issuer (no resource requested): 401 with the
  opaque reason;
- a token of the short-TTL resource (2 s) under LogtoClockSkew 0: 200, then
  401 expired once its exp has passed.
"""
import time

import pytest

from harness import checks
from harness.confs import AUTHZ_DENIED
from harness.httpd import REPO_ROOT
from harness.tokens import decode_unverified
from node_issuer import (API_RESOURCE as API, DEFAULT_CLIENT, ORG_AUDIENCE_PREFIX, ORG_RESOURCE,
                         OTHER_CLIENT, OTHER_RESOURCE as OTHER, SHORT_RESOURCE as SHORT, NodeIssuer)

EXAMPLES = REPO_ROOT / 'conf' / 'examples'
GLOBAL = '/api/protected/'


def org_path(org):
    return f'/orgs/{org}/members/'


def org_api_path(org):
    return f'/org-api/{org}/products/'


@pytest.fixture(scope='module')
def tenant():
    """The Logto-shaped issuer (tests/issuer/README.md lists its tenant)."""
    with NodeIssuer() as iss:
        yield iss


def include_examples(*names):
    out = []
    for name in names:
        path = EXAMPLES / name
        assert path.is_file(), f'{path} is missing'
        out.append(f'Include "{path}"\n')
    return ''.join(out)


def expected_auth(token):
    """The guide's auth info, from the token's own claims."""
    header, claims = decode_unverified(token)
    aud = claims['aud'] if isinstance(claims['aud'], list) else [claims['aud']]
    org = claims.get('organization_id')
    if org is None:
        org = next((a[len(ORG_AUDIENCE_PREFIX):] for a in aud if a.startswith(ORG_AUDIENCE_PREFIX)), None)
    return {
        'sub': claims['sub'],
        'clientId': claims['client_id'],
        'organizationId': org,
        'scopes': claims.get('scope', '').split(),
        'audience': aud,
    }


def logto_shaped(token, alg='ES384'):
    """The token is what Logto issues: a JWS with typ at+jwt, signed with alg."""
    assert token.count('.') == 2, 'not a compact JWS'
    header, claims = decode_unverified(token)
    assert header['typ'] == 'at+jwt' and header['alg'] == alg, header
    assert claims['sub'] == claims['client_id'], 'a client_credentials token has sub == client_id'
    return claims


class TestModels:
    """The three examples, together, as a site would include them."""

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, tenant):
        httpd.install(include_examples('global-api.conf', 'organization.conf', 'organization-api.conf'),
                      defines={'LOGTO_ISSUER': tenant.issuer, 'LOGTO_API_INDICATOR': API},
                      claims=[AUTHZ_DENIED])

    # ---- model 1: a global API resource ---------------------------------
    def test_global_valid(self, httpd, tenant):
        tok = tenant.token(resource=API, scope='read:products')
        claims = logto_shaped(tok)
        assert claims['aud'] == API and 'organization_id' not in claims
        body = checks.assert_ok(httpd.get(GLOBAL, token=tok))
        assert body == {'auth': expected_auth(tok)}
        assert body['auth'] == {'sub': 'm2m-app', 'clientId': 'm2m-app', 'organizationId': None,
                                'scopes': ['read:products'], 'audience': [API]}

    def test_global_valid_with_more_scopes(self, httpd, tenant):
        tok = tenant.token(resource=API, scope='read:products write:products')
        body = checks.assert_ok(httpd.get(GLOBAL, token=tok))
        assert body == {'auth': expected_auth(tok)}
        assert sorted(body['auth']['scopes']) == ['read:products', 'write:products']

    def test_global_valid_client_secret_post(self, httpd, tenant):
        tok = tenant.token(resource=API, scope='read:products', auth='post')
        assert checks.assert_ok(httpd.get(GLOBAL, token=tok)) == {'auth': expected_auth(tok)}

    def test_global_missing_scope(self, httpd, tenant):
        tok = tenant.token(resource=API, scope='write:products')
        assert logto_shaped(tok)['scope'] == 'write:products'
        checks.assert_insufficient_scope(httpd.get(GLOBAL, token=tok), tenant.issuer, 'read:products')

    def test_global_no_scope_requested(self, httpd, tenant):
        """Nothing requested: oidc-provider leaves the scope claim out (LOGTO.md 0.7)."""
        tok = tenant.token(resource=API)
        assert 'scope' not in logto_shaped(tok)
        checks.assert_insufficient_scope(httpd.get(GLOBAL, token=tok), tenant.issuer, 'read:products')

    def test_global_permission_not_granted(self, httpd, tenant):
        """other-app's roles do not give write:products: it gets a token without it."""
        tok = tenant.token(resource=API, scope='write:products', client=OTHER_CLIENT)
        assert 'write:products' not in logto_shaped(tok).get('scope', '').split()
        checks.assert_insufficient_scope(httpd.get(GLOBAL, token=tok), tenant.issuer, 'read:products')

    def test_global_wrong_audience(self, httpd, tenant):
        tok = tenant.token(resource=OTHER, scope='read:other')
        assert logto_shaped(tok)['aud'] == OTHER
        checks.assert_audience_denied(httpd.get(GLOBAL, token=tok))

    def test_global_organization_token(self, httpd, tenant):
        """An organization token is not a token for the API."""
        tok = tenant.token(organization_id='org-acme', scope='invite:member')
        checks.assert_audience_denied(httpd.get(GLOBAL, token=tok))

    # ---- model 2: organization permissions ------------------------------
    def test_organization_valid(self, httpd, tenant):
        """Logto's M2M organization flow: organization_id and no resource."""
        tok = tenant.token(organization_id='org-acme', scope='invite:member')
        claims = logto_shaped(tok)
        assert claims['aud'] == ORG_AUDIENCE_PREFIX + 'org-acme' and 'organization_id' not in claims
        body = checks.assert_ok(httpd.get(org_path('org-acme'), token=tok))
        assert body == {'org': 'org-acme', 'auth': expected_auth(tok)}
        assert body['auth']['organizationId'] == 'org-acme'
        assert body['auth']['scopes'] == ['invite:member']

    def test_organization_valid_reserved_resource(self, httpd, tenant):
        tok = tenant.token(resource=ORG_RESOURCE, organization_id='org-globex', scope='invite:member')
        body = checks.assert_ok(httpd.get(org_path('org-globex'), token=tok))
        assert body == {'org': 'org-globex', 'auth': expected_auth(tok)}

    def test_organization_missing_scope(self, httpd, tenant):
        tok = tenant.token(organization_id='org-acme', scope='manage:billing')
        r = httpd.get(org_path('org-acme'), token=tok)
        checks.assert_insufficient_scope(r, tenant.issuer, 'invite:member')

    def test_organization_empty_scope(self, httpd, tenant):
        """other-app has no permission in org-acme: Logto's empty scope string."""
        tok = tenant.token(organization_id='org-acme', scope='invite:member', client=OTHER_CLIENT)
        assert logto_shaped(tok)['scope'] == ''
        r = httpd.get(org_path('org-acme'), token=tok)
        checks.assert_insufficient_scope(r, tenant.issuer, 'invite:member')

    def test_organization_wrong_audience(self, httpd, tenant):
        """A token for the API resource carries no organization."""
        tok = tenant.token(resource=API, scope='read:products')
        checks.assert_organization_denied(httpd.get(org_path('org-acme'), token=tok))

    def test_organization_wrong_organization(self, httpd, tenant):
        tok = tenant.token(organization_id='org-globex', scope='invite:member')
        checks.assert_organization_denied(httpd.get(org_path('org-acme'), token=tok))

    # ---- model 3: an organization-level API resource --------------------
    def test_organization_api_valid(self, httpd, tenant):
        tok = tenant.token(resource=API, organization_id='org-acme', scope='read:products')
        claims = logto_shaped(tok)
        assert claims['organization_id'] == 'org-acme' and claims['aud'] == API
        body = checks.assert_ok(httpd.get(org_api_path('org-acme'), token=tok))
        assert body == {'org': 'org-acme', 'auth': expected_auth(tok)}
        assert body['auth'] == {'sub': 'm2m-app', 'clientId': 'm2m-app', 'organizationId': 'org-acme',
                                'scopes': ['read:products'], 'audience': [API]}

    def test_organization_api_missing_scope(self, httpd, tenant):
        """In org-globex the app's organization role gives read:products only."""
        tok = tenant.token(resource=API, organization_id='org-globex', scope='write:products')
        assert 'write:products' not in logto_shaped(tok).get('scope', '').split()
        r = httpd.get(org_api_path('org-globex'), token=tok)
        checks.assert_insufficient_scope(r, tenant.issuer, 'read:products')

    def test_organization_api_member_without_permissions(self, httpd, tenant):
        tok = tenant.token(resource=API, organization_id='org-acme', scope='read:products',
                           client=OTHER_CLIENT)
        r = httpd.get(org_api_path('org-acme'), token=tok)
        checks.assert_insufficient_scope(r, tenant.issuer, 'read:products')

    def test_organization_api_wrong_audience(self, httpd, tenant):
        tok = tenant.token(resource=OTHER, organization_id='org-acme', scope='read:other')
        assert logto_shaped(tok)['aud'] == OTHER
        checks.assert_audience_denied(httpd.get(org_api_path('org-acme'), token=tok))

    def test_organization_api_wrong_organization(self, httpd, tenant):
        tok = tenant.token(resource=API, organization_id='org-globex', scope='read:products')
        checks.assert_organization_denied(httpd.get(org_api_path('org-acme'), token=tok))

    def test_organization_api_global_token(self, httpd, tenant):
        """A model-1 token for the same API has no organization_id: refused."""
        tok = tenant.token(resource=API, scope='read:products')
        checks.assert_organization_denied(httpd.get(org_api_path('org-acme'), token=tok))

    def test_organization_api_organization_token(self, httpd, tenant):
        tok = tenant.token(organization_id='org-acme', scope='invite:member')
        checks.assert_audience_denied(httpd.get(org_api_path('org-acme'), token=tok))

    # ---- every model ----------------------------------------------------
    @pytest.mark.parametrize('path', [GLOBAL, org_path('org-acme'), org_api_path('org-acme')])
    def test_no_token(self, httpd, tenant, path):
        checks.assert_missing(httpd.get(path), tenant.issuer)

    @pytest.mark.parametrize('path', [GLOBAL, org_path('org-acme'), org_api_path('org-acme')])
    def test_opaque_token(self, httpd, tenant, path):
        """No resource and no organization: oidc-provider's opaque format."""
        resp = tenant.token_response(client=DEFAULT_CLIENT)
        assert resp.status == 200, resp
        tok = resp.body['access_token']
        assert '.' not in tok and len(tok) == 43, 'the issuer did not issue an opaque token'
        checks.assert_invalid(httpd.get(path, token=tok), tenant.issuer, 'opaque')


@pytest.mark.slow
class TestShortLived:
    """https://short.example.test issues tokens for 2 s; with LogtoClockSkew 0
    (set for the server, the example included as written) one is refused as
    expired as soon as its exp has passed, cached or not."""

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, tenant):
        httpd.install('LogtoClockSkew 0\n' + include_examples('global-api.conf'),
                      defines={'LOGTO_ISSUER': tenant.issuer, 'LOGTO_API_INDICATOR': SHORT},
                      claims=[AUTHZ_DENIED])

    def test_expires(self, httpd, tenant):
        # exp = iat + 2 in whole seconds: 1 to 2 s of real life. A very busy
        # machine may spend that before the first request; then try again.
        for _ in range(5):
            tok = tenant.token(resource=SHORT, scope='read:products')
            claims = logto_shaped(tok)
            assert claims['exp'] - claims['iat'] == 2 and claims['aud'] == SHORT
            r = httpd.get(GLOBAL, token=tok)
            if r.status_code == 200 or time.time() < claims['exp'] - 0.2:
                break
        assert checks.assert_ok(r) == {'auth': expected_auth(tok)}
        # seen again while valid: still 200 (the token cache may answer)
        r = httpd.get(GLOBAL, token=tok)
        if time.time() < claims['exp'] - 0.2:
            checks.assert_ok(r)
        delay = claims['exp'] + 0.3 - time.time()
        if delay > 0:
            time.sleep(delay)
        checks.assert_invalid(httpd.get(GLOBAL, token=tok), tenant.issuer, 'expired')
        checks.assert_invalid(httpd.get(GLOBAL, token=tok), tenant.issuer, 'expired')

    def test_long_lived_token_of_another_resource(self, httpd, tenant):
        """The API's 1 h token is for another audience here: 403, not 401."""
        tok = tenant.token(resource=API, scope='read:products')
        assert logto_shaped(tok)['exp'] - logto_shaped(tok)['iat'] == 3600
        checks.assert_audience_denied(httpd.get(GLOBAL, token=tok))
