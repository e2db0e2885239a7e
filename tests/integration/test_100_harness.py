"""The harness itself: keys, tokens, the fake issuer, the error-log check and
a plain httpd (without mod_auth_logto) in front of the test app. These run
even when the module is not built."""
import base64
import json
import time

import jwt
import pytest
import requests

from harness import checks, keys, tokens
from harness import httpd as httpd_mod
from harness.fake_issuer import JWKS_CACHE_CONTROL, FakeIssuer
from harness.logcheck import ErrorLog

API = 'https://api.example.com'


def b64d(s):
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


@pytest.fixture(scope='module')
def every_kind():
    iss = FakeIssuer('every', kinds=keys.KINDS).start()
    yield iss
    iss.stop()


class TestKeysAndTokens:

    def test_kid_is_rfc7638_thumbprint(self):
        # RFC 7638 section 3.1 example key and thumbprint.
        jwk = {'kty': 'RSA', 'e': 'AQAB', 'alg': 'RS256', 'kid': '2011-04-29',
               'n': '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw'}
        assert keys.thumbprint(jwk) == 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'

    @pytest.mark.parametrize('kind', keys.KINDS)
    def test_jwk_shape(self, kind):
        key = keys.new_key(kind)
        jwk = key.jwk()
        assert jwk['kid'] == keys.thumbprint(jwk) == key.kid
        assert jwk['use'] == 'sig'
        if key.kty == 'RSA':
            assert 'alg' not in jwk
            assert set(jwk) == {'kty', 'use', 'kid', 'e', 'n'}
            assert len(b64d(jwk['n'])) * 8 == int(kind.split('-')[1])
        else:
            assert jwk['alg'] == key.alg
        jwt.PyJWK(jwk, algorithm=key.alg)      # PyJWT accepts it

    @pytest.mark.parametrize('alg', keys.ALL_ALGS)
    def test_every_algorithm_verifies(self, every_kind, alg):
        key = next(k for k in every_kind.keys if alg in k.algs)
        tok = tokens.global_token(every_kind, API, key=key, alg=alg)
        header = jwt.get_unverified_header(tok)
        assert header == {'alg': alg, 'typ': 'at+jwt', 'kid': key.kid}
        assert list(json.loads(b64d(tok.split('.')[0]))) == ['alg', 'typ', 'kid']
        claims = jwt.decode(tok, key.public, algorithms=[alg], audience=API, issuer=every_kind.issuer)
        assert claims['scope'] == 'read:products'
        # and against the JWKS as served
        served = requests.get(every_kind.jwks_uri, timeout=5).json()
        jwk = next(k for k in served['keys'] if k['kid'] == key.kid)
        jwt.decode(tok, jwt.PyJWK(jwk, algorithm=alg).key, algorithms=[alg], audience=API)

    def test_logto_payload_order(self, every_kind):
        tok = tokens.org_api_token(every_kind, API, 'org-1', scope='read:products')
        payload = json.loads(b64d(tok.split('.')[1]))
        assert list(payload) == ['organization_id', 'jti', 'sub', 'iat', 'exp', 'scope',
                                 'client_id', 'iss', 'aud']
        assert payload['exp'] - payload['iat'] == 3600
        tok = tokens.org_token(every_kind, 'org-1', scope='')
        payload = json.loads(b64d(tok.split('.')[1]))
        assert payload['aud'] == 'urn:logto:organization:org-1' and payload['scope'] == ''
        assert 'organization_id' not in payload
        tok = tokens.m2m_token(every_kind, API)
        payload = json.loads(b64d(tok.split('.')[1]))
        assert 'scope' not in payload and payload['sub'] == payload['client_id']

    def test_forgeries(self, every_kind):
        iss = FakeIssuer('forge', kinds=('EC-P384',))
        key = iss.signing_key
        ok = tokens.global_token(iss, API)
        jwt.decode(ok, key.public, algorithms=['ES384'], audience=API)
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(tokens.bad_signature(ok), key.public, algorithms=['ES384'], audience=API)
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(tokens.tampered_payload(ok, scope='admin'), key.public, algorithms=['ES384'], audience=API)
        with pytest.raises(jwt.ExpiredSignatureError):
            jwt.decode(tokens.expired(iss, API), key.public, algorithms=['ES384'], audience=API)
        assert jwt.get_unverified_header(tokens.alg_none(iss, API))['alg'] == 'none'
        assert tokens.alg_none(iss, API).endswith('.')
        assert jwt.get_unverified_header(tokens.hs256_with_public_key(iss, API))['alg'] == 'HS256'
        assert jwt.get_unverified_header(tokens.unknown_kid(iss, API))['kid'] != key.kid
        assert jwt.get_unverified_header(tokens.wrong_typ(iss, API))['typ'] == 'JWT'
        assert 'typ' not in jwt.get_unverified_header(tokens.make(iss, typ=None))
        assert len(tokens.opaque()) == 43
        assert tokens.jwe_shaped().count('.') == 4
        assert len(tokens.too_large(iss, API)) > 16384
        assert isinstance(tokens.decode_unverified(tokens.non_numeric_exp(iss, API))[1]['exp'], str)
        assert tokens.decode_unverified(tokens.aud_as_array(iss, API, 'x'))[1]['aud'] == [API, 'x']
        assert tokens.decode_unverified(tokens.no_subject(iss, API))[1].get('sub') is None
        hdr = json.loads(b64d(tokens.with_crit(iss, API).split('.')[0]))
        assert hdr['crit'] == ['x-logto-unknown']


class TestFakeIssuer:

    def test_discovery_and_jwks(self):
        iss = FakeIssuer('disc').start()
        try:
            d = requests.get(iss.discovery_url, timeout=5).json()
            assert d['issuer'] == iss.issuer == f'http://127.0.0.1:{iss.port}/oidc'
            assert d['jwks_uri'] == iss.jwks_uri
            r = requests.get(iss.jwks_uri, timeout=5)
            assert r.headers['Cache-Control'] == JWKS_CACHE_CONTROL
            assert r.json() == {'keys': [iss.signing_key.jwk()]}
            assert iss.hits('discovery') == 1 and iss.hits('jwks') == 1
            # key add / switch / remove
            new = iss.add_key('RSA-2048')
            assert [k['kid'] for k in requests.get(iss.jwks_uri).json()['keys']] == [iss.keys[0].kid, new.kid]
            iss.switch(new)
            assert iss.signing_key is new
            iss.remove(iss.keys[0])
            assert [k['kid'] for k in requests.get(iss.jwks_uri).json()['keys']] == [new.kid]
        finally:
            iss.stop()

    def test_modes(self):
        iss = FakeIssuer('modes').start()
        try:
            iss.fail(500)
            assert requests.get(iss.jwks_uri, timeout=5).status_code == 500
            iss.fail(404, paths='discovery')
            assert requests.get(iss.discovery_url, timeout=5).status_code == 404
            assert requests.get(iss.jwks_uri, timeout=5).status_code == 200
            iss.garbage()
            with pytest.raises(ValueError):
                requests.get(iss.jwks_uri, timeout=5).json()
            iss.empty_keys()
            assert requests.get(iss.jwks_uri, timeout=5).json() == {'keys': []}
            iss.junk_keys()
            assert len(requests.get(iss.jwks_uri, timeout=5).json()['keys']) >= 5
            iss.issuer_mismatch()
            assert requests.get(iss.discovery_url, timeout=5).json()['issuer'] == iss.issuer + '/'
            iss.delay(0.5)
            t = time.time()
            requests.get(iss.jwks_uri, timeout=5)
            assert time.time() - t >= 0.5
            iss.stall(30)
            with pytest.raises(requests.exceptions.ReadTimeout):
                requests.get(iss.jwks_uri, timeout=0.5)
            iss.normal()
            assert requests.get(iss.jwks_uri, timeout=5).status_code == 200
        finally:
            iss.stop()

    def test_down_and_up_on_the_same_port(self):
        iss = FakeIssuer('updown').start()
        port = iss.port
        iss.down()
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(iss.jwks_uri, timeout=2)
        iss.up()
        assert iss.port == port
        assert requests.get(iss.jwks_uri, timeout=5).status_code == 200
        iss.stop()


class TestLogCheck:

    def test_classification_and_claims(self, tmp_path):
        log = ErrorLog(str(tmp_path / 'error_log'))
        lines = [
            '[Sun Nov 29 10:51:14.8 2026] [auth_logto:error] [pid 1:tid 2] LOGTO0205: issuer mismatch',
            '[Sun Nov 29 10:51:14.8 2026] [auth_logto:warn] [pid 1:tid 2] LOGTO0105: no audience',
            '[Sun Nov 29 10:51:14.8 2026] [core:notice] [pid 1:tid 1] AH00052: child pid 7 exit signal Segmentation fault (11)',
            '[Sun Nov 29 10:51:14.8 2026] [auth_logto:info] [pid 1:tid 2] LOGTO0101: token rejected',
            '[Sun Nov 29 10:51:14.8 2026] [core:crit] [pid 1:tid 2] AH00000: bad',
        ]
        (tmp_path / 'error_log').write_text('\n'.join(lines) + '\n')
        failing, warnings = log.check()
        assert [f.kind for f in failing] == ['error', 'crash', 'error']
        assert len(warnings) == 1
        assert log.check() == ([], [])           # checked lines are not seen again
        with open(tmp_path / 'error_log', 'a') as f:
            f.write('\n'.join(lines) + '\n')
        log.claim(r'LOGTO0205', r'AH00000')
        log.strict_warnings = True
        failing, warnings = log.check()
        assert [f.kind for f in failing] == ['warn', 'crash']
        assert warnings == []


@pytest.fixture(scope='module')
def plain_httpd():
    """httpd without mod_auth_logto, in front of the test app."""
    which, script, _ = httpd_mod.app_choice()
    if which == 'django' and not script.exists():
        pytest.skip(f'Django test app missing: {script}')
    server = httpd_mod.Httpd('test_100_plain', module=None, load_module=False)
    server.install('<Location "/api/env/">\n    Require all granted\n</Location>\n')
    yield server
    failing, _ = server.close()
    assert not failing, failing


class TestPlainHttpd:

    def test_app_answers(self, plain_httpd):
        r = plain_httpd.get('/api/public/')
        assert r.status_code == 200 and r.json() == {'ok': True}
        assert plain_httpd.pid and plain_httpd.running

    def test_env_view_and_header_names(self, plain_httpd):
        r = plain_httpd.get('/api/env/', headers={'LOGTO-SUB': 'evil', 'Logto_Sub': 'evil2'})
        env = checks.body_of(r)
        assert env.get('HTTP_LOGTO_SUB') == 'evil'
        assert 'LOGTO_SUB' not in env and 'REMOTE_USER' not in env
        assert 'evil2' not in env.values()       # httpd drops header names with '_'

    def test_restart_and_configtest(self, plain_httpd):
        old = plain_httpd.pid
        plain_httpd.restart()
        assert plain_httpd.pid != old
        assert plain_httpd.get('/api/public/').status_code == 200
        rc, out = plain_httpd.configtest()
        assert rc == 0 and 'Syntax OK' in out

    def test_failed_start_reports(self, plain_httpd):
        broken = httpd_mod.Httpd('test_100_broken', module=None, load_module=False)
        broken.install('NoSuchDirective here\n', restart=False)
        rc, out = broken.configtest()
        assert rc != 0 and 'NoSuchDirective' in out
        rc, out = broken.start(expect_fail=True)
        assert rc != 0 and 'NoSuchDirective' in out and not broken.running
        broken.close()
