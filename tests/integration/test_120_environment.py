"""DESIGN.md "Environment contract": what Django sees in request.META after
the module accepted a token, with the default and a custom LogtoClaimPrefix;
and that client headers can never set or shadow those variables."""
import json
import time

import pytest

from harness import checks, tokens
from harness.confs import API, OTHER_API, location, public

ORG_AUD = 'urn:logto:organization:org-7'
DOCUMENTED = ('SUB', 'CLIENT_ID', 'ORGANIZATION_ID', 'SCOPES', 'AUDIENCE', 'ISSUER',
              'EXPIRES_AT', 'JTI', 'CLAIMS')


def env_conf(issuer, extra=()):
    return location('/api/env/', issuer.issuer, [f'logto-audience {API} {ORG_AUD}'], directives=extra)


def get_env(server, tok, headers=None):
    r = server.get('/api/env/', token=tok, headers=headers)
    return checks.assert_ok(r)


def payload_of(tok):
    return tokens.decode_unverified(tok)[1]


def assert_no_token_text(env, tok):
    for key, value in env.items():
        for part in (tok, tok.split('.')[1], tok.split('.')[2]):
            assert part not in value, f'{key} carries token text'


class TestVariables:

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, issuer):
        httpd.install(env_conf(issuer))

    def test_global_token(self, httpd, issuer):
        tok = tokens.global_token(issuer, API, scope='read:products write:products',
                                  sub='user-abc', client_id='app-def', jti='jti-0123456789abcdefgh')
        p = payload_of(tok)
        env = get_env(httpd, tok)
        assert env['REMOTE_USER'] == 'user-abc'
        assert env['AUTH_TYPE'] == 'Logto'
        assert env['LOGTO_SUB'] == 'user-abc'
        assert env['LOGTO_CLIENT_ID'] == 'app-def'
        assert env['LOGTO_SCOPES'] == 'read:products write:products'
        assert env['LOGTO_AUDIENCE'] == API
        assert env['LOGTO_ISSUER'] == issuer.issuer
        assert env['LOGTO_EXPIRES_AT'] == str(p['exp'])
        assert env['LOGTO_JTI'] == 'jti-0123456789abcdefgh'
        assert json.loads(env['LOGTO_CLAIMS']) == p
        assert 'LOGTO_ORGANIZATION_ID' not in env
        assert_no_token_text(env, tok)

    def test_organization_token(self, httpd, issuer):
        """Model 2: the org id comes from the urn:logto:organization: audience."""
        tok = tokens.org_token(issuer, 'org-7', scope='invite:member')
        env = get_env(httpd, tok)
        assert env['LOGTO_ORGANIZATION_ID'] == 'org-7'
        assert env['LOGTO_AUDIENCE'] == ORG_AUD
        assert env['LOGTO_SCOPES'] == 'invite:member'

    def test_organization_api_token(self, httpd, issuer):
        """Model 3: the organization_id claim."""
        tok = tokens.org_api_token(issuer, API, 'org-9', scope='read:products')
        env = get_env(httpd, tok)
        assert env['LOGTO_ORGANIZATION_ID'] == 'org-9'
        assert env['LOGTO_AUDIENCE'] == API
        assert json.loads(env['LOGTO_CLAIMS'])['organization_id'] == 'org-9'

    def test_audience_array(self, httpd, issuer):
        tok = tokens.aud_as_array(issuer, API, OTHER_API)
        assert get_env(httpd, tok)['LOGTO_AUDIENCE'] == f'{API} {OTHER_API}'

    def test_m2m_token(self, httpd, issuer):
        tok = tokens.m2m_token(issuer, API, scope='read:products')
        env = get_env(httpd, tok)
        assert env['REMOTE_USER'] == env['LOGTO_SUB'] == env['LOGTO_CLIENT_ID'] == 'm2m-app-4k2j'

    @pytest.mark.parametrize('scope', ['', None])
    def test_no_scopes(self, httpd, issuer, scope):
        env = get_env(httpd, tokens.global_token(issuer, API, scope=scope))
        assert env.get('LOGTO_SCOPES', '') == ''

    def test_expires_at_is_integer_seconds(self, httpd, issuer):
        exp = int(time.time()) + 3600
        env = get_env(httpd, tokens.make(issuer, aud=API, exp=exp + 0.75))
        assert env['LOGTO_EXPIRES_AT'] == str(exp)

    def test_claims_keep_everything(self, httpd, issuer):
        tok = tokens.make(issuer, aud=API, set={'roles': ['admin', 'ed'], 'name': 'Zoë "Z" \\ Ünïcode',
                                                'act': {'sub': 'actor-1'}})
        env = get_env(httpd, tok)
        assert json.loads(env['LOGTO_CLAIMS']) == payload_of(tok)

    def test_sub_with_unusual_characters(self, httpd, issuer):
        """UTF-8 in the environment; WSGI (PEP 3333) hands it to Django as
        latin-1-decoded bytes."""
        sub = 'user with spaces, "quotes" & ünïcode'
        env = get_env(httpd, tokens.make(issuer, aud=API, sub=sub))
        wsgi = sub.encode('utf-8').decode('latin-1')
        assert env['REMOTE_USER'] == env['LOGTO_SUB'] == wsgi


EVIL = {
    'LOGTO-SUB': 'evil-sub',
    'Logto-Client-Id': 'evil-client',
    'LOGTO-ORGANIZATION-ID': 'evil-org',
    'LOGTO-SCOPES': 'evil-admin',
    'LOGTO-AUDIENCE': 'evil-aud',
    'LOGTO-ISSUER': 'evil-iss',
    'LOGTO-EXPIRES-AT': '99999999999',
    'LOGTO-JTI': 'evil-jti',
    'LOGTO-CLAIMS': '{"sub": "evil-claims"}',
    'Logto_Sub': 'evil-underscore',
    'LOGTO_ORGANIZATION_ID': 'evil-underscore-org',
    'Remote-User': 'evil-user',
    'X-Remote-User': 'evil-x-user',
    'REMOTE_USER': 'evil-underscore-user',
    'Auth-Type': 'evil-auth',
    'APP-SUB': 'evil-app-sub',
    'APP_SUB': 'evil-app-underscore',
}


def assert_not_injected(env, prefix='LOGTO_'):
    for key, value in env.items():
        if key.startswith(prefix) or key in ('REMOTE_USER', 'AUTH_TYPE'):
            assert 'evil' not in value and '99999999999' not in value, f'{key}={value!r} came from a header'


class TestHeaderInjection:
    """Client headers named like the exported variables end up as HTTP_*
    (or are dropped by httpd), never as the variables themselves."""

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, issuer):
        httpd.install(env_conf(issuer) + public('/api/public/'))

    def test_headers_cannot_set_variables(self, httpd, issuer):
        tok = tokens.global_token(issuer, API, sub='user-real', client_id='app-real')
        env = get_env(httpd, tok, headers=EVIL)
        assert_not_injected(env)
        assert env['REMOTE_USER'] == env['LOGTO_SUB'] == 'user-real'
        assert env['LOGTO_CLIENT_ID'] == 'app-real'
        assert env['AUTH_TYPE'] == 'Logto'
        assert 'LOGTO_ORGANIZATION_ID' not in env          # the token has no org
        assert json.loads(env['LOGTO_CLAIMS'])['sub'] == 'user-real'
        assert env.get('HTTP_LOGTO_SUB') == 'evil-sub'     # still visible, under its own name

    def test_headers_without_token_do_not_pass(self, httpd, issuer):
        r = httpd.get('/api/env/', headers=EVIL)
        checks.assert_missing(r, issuer.issuer)


class TestUnauthenticatedLocation:
    """A location that lets everyone in (Require all granted) under AuthType
    Logto: no variable appears, whatever the headers say."""

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, issuer):
        httpd.install(location('/api/env/', issuer.issuer, ['all granted']))

    def test_no_variables(self, httpd):
        env = checks.assert_ok(httpd.get('/api/env/', headers=EVIL))
        assert not [k for k in env if k.startswith('LOGTO_')], env
        assert 'REMOTE_USER' not in env


class TestClaimPrefix:
    """LogtoClaimPrefix APP_: APP_SUB etc., no LOGTO_* at all."""

    @pytest.fixture(scope='class')
    def server(self, make_httpd, issuer):
        server = make_httpd('prefix', env={'DJANGOAPP_LOGTO_CLAIM_PREFIX': 'APP_'})
        server.install(env_conf(issuer, extra=['LogtoClaimPrefix APP_']))
        return server

    def test_prefixed_variables(self, server, issuer):
        tok = tokens.org_api_token(issuer, API, 'org-3', scope='read:products',
                                   sub='user-p', client_id='app-p')
        p = payload_of(tok)
        env = get_env(server, tok, headers=EVIL)
        assert env['REMOTE_USER'] == 'user-p'
        assert env['AUTH_TYPE'] == 'Logto'
        assert env['APP_SUB'] == 'user-p'
        assert env['APP_CLIENT_ID'] == 'app-p'
        assert env['APP_ORGANIZATION_ID'] == 'org-3'
        assert env['APP_SCOPES'] == 'read:products'
        assert env['APP_AUDIENCE'] == API
        assert env['APP_ISSUER'] == issuer.issuer
        assert env['APP_EXPIRES_AT'] == str(p['exp'])
        assert env['APP_JTI'] == p['jti']
        assert json.loads(env['APP_CLAIMS']) == p
        assert not [k for k in env if k.startswith('LOGTO_')], env
        assert_not_injected(env, prefix='APP_')
