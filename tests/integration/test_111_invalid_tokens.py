"""Every reason a token is refused (401 invalid_token), each with its exact
error_description and JSON body (DESIGN.md "Request contract" row 3).
Attacks are named after what they try."""
import re
import time

import pytest

from harness import checks, tokens
from harness.confs import API, location


@pytest.fixture(scope='module', autouse=True)
def _conf(httpd, issuer):
    # A 20 KB token must reach the module rather than httpd's 8 KB field limit.
    httpd.install(location('/api/', issuer.issuer, ['logto-audience ' + API]),
                  top='LimitRequestFieldSize 65536\n')


def _now():
    return int(time.time())


# reason key -> the stable reason code (STYLE.md: md_result_t-like codes)
CODES = {
    'malformed': 'malformed', 'opaque': 'opaque_token', 'jwe': 'jwe_token',
    'too_large': 'token_too_large', 'bad_signature': 'bad_signature', 'unknown_kid': 'unknown_kid',
    'alg': 'alg_not_allowed', 'typ': 'typ_not_allowed', 'crit': 'crit_unsupported',
    'iss': 'iss_mismatch', 'expired': 'expired', 'nbf': 'not_yet_valid', 'iat': 'iat_future',
    'no_exp': 'exp_missing', 'claim_type': 'claim_type', 'no_sub': 'claim_missing',
}

# name -> (token builder(issuer), reason key of checks.REASONS)
CASES = {
    'opaque-logto-token': (lambda i: tokens.opaque(), 'opaque'),
    'jwe-five-parts': (lambda i: tokens.jwe_shaped(), 'jwe'),
    'too-large': (lambda i: tokens.too_large(i, API), 'too_large'),
    'bad-signature': (lambda i: tokens.bad_signature(tokens.global_token(i, API)), 'bad_signature'),
    'payload-tampered-after-signing': (
        lambda i: tokens.tampered_payload(tokens.global_token(i, API, scope='read:products'),
                                          scope='read:products admin'), 'bad_signature'),
    'rogue-key-claims-real-kid': (lambda i: tokens.foreign_key_same_kid(i, API), 'bad_signature'),
    'unknown-kid': (lambda i: tokens.unknown_kid(i, API), 'unknown_kid'),
    'alg-none': (lambda i: tokens.alg_none(i, API), 'alg'),
    'hs256-keyed-with-public-pem': (lambda i: tokens.hs256_with_public_key(i, API, form='pem'), 'alg'),
    'hs256-keyed-with-public-jwk': (lambda i: tokens.hs256_with_public_key(i, API, form='jwk'), 'alg'),
    'alg-unknown-name': (lambda i: tokens.compact(
        {'alg': 'XX384', 'typ': 'at+jwt', 'kid': i.signing_key.kid},
        tokens.logto_payload(i.issuer, API), key=i.signing_key, alg='ES384'), 'alg'),
    'typ-JWT-id-token-style': (lambda i: tokens.wrong_typ(i, API, typ='JWT'), 'typ'),
    'typ-missing': (lambda i: tokens.make(i, aud=API, typ=None), 'typ'),
    'typ-dpop': (lambda i: tokens.wrong_typ(i, API, typ='dpop+jwt'), 'typ'),
    'crit-unknown-extension': (lambda i: tokens.with_crit(i, API), 'crit'),
    'iss-other-tenant': (lambda i: tokens.wrong_issuer(i, API), 'iss'),
    'iss-trailing-slash': (lambda i: tokens.wrong_issuer(i, API, iss=i.issuer + '/'), 'iss'),
    'iss-missing': (lambda i: tokens.make(i, aud=API, drop=('iss',)), 'iss'),
    'expired-an-hour-ago': (lambda i: tokens.expired(i, API, seconds_ago=3600), 'expired'),
    'expired-two-minutes-ago': (lambda i: tokens.expired(i, API, seconds_ago=120), 'expired'),
    'nbf-in-an-hour': (lambda i: tokens.not_yet_valid(i, API, seconds_ahead=3600), 'nbf'),
    'iat-in-an-hour': (lambda i: tokens.issued_in_future(i, API, seconds_ahead=3600), 'iat'),
    'exp-missing': (lambda i: tokens.no_expiry(i, API), 'no_exp'),
    'exp-string': (lambda i: tokens.non_numeric_exp(i, API), 'claim_type'),
    'exp-boolean': (lambda i: tokens.make(i, aud=API, set={'exp': True}), 'claim_type'),
    'exp-beyond-year-9999': (lambda i: tokens.make(i, aud=API, set={'exp': 10 ** 13}), 'claim_type'),
    'iat-string': (lambda i: tokens.make(i, aud=API, set={'iat': str(_now())}), 'claim_type'),
    'nbf-string': (lambda i: tokens.make(i, aud=API, set={'nbf': 'now'}), 'claim_type'),
    'scope-as-list': (lambda i: tokens.scope_as_list(i, API), 'claim_type'),
    'sub-number': (lambda i: tokens.make(i, aud=API, set={'sub': 42}), 'claim_type'),
    'aud-number': (lambda i: tokens.make(i, aud=42), 'claim_type'),
    'aud-array-with-number': (lambda i: tokens.make(i, aud=[API, 7]), 'claim_type'),
    'organization-id-number': (lambda i: tokens.make(i, aud=API, organization_id=12), 'claim_type'),
    'sub-missing': (lambda i: tokens.no_subject(i, API), 'no_sub'),
}
for _name, _tok in tokens.malformed_tokens().items():
    CASES[f'malformed-{_name}'] = ((lambda t: lambda i: t)(_tok), 'malformed')


class TestInvalidTokens:

    @pytest.mark.parametrize('case', list(CASES))
    def test_refused(self, httpd, issuer, case):
        build, reason = CASES[case]
        r = httpd.get('/api/protected/', token=build(issuer))
        checks.assert_invalid(r, issuer.issuer, reason)
        # DESIGN.md: every rejection is logged once, with its reason, at info or debug
        lines = [l for l in httpd.log_lines() if 'LOGTO0101' in l]
        assert len(lines) == 1, lines
        assert re.search(r'\[auth_logto:(info|debug)\]', lines[0]), lines[0]
        assert CODES[reason] in lines[0] or checks.REASONS[reason] in lines[0], lines[0]

    def test_wrong_issuer_is_not_fetched(self, httpd, issuer, make_issuer):
        """iss is checked against LogtoIssuer before any key is looked up: a
        token naming another (live) issuer costs that issuer nothing."""
        other = make_issuer('other')
        tok = tokens.make(other, aud=API)
        checks.assert_invalid(httpd.get('/api/protected/', token=tok), issuer.issuer, 'iss')
        assert other.hits() == 0


class TestOddHeaders:

    def test_two_authorization_headers(self, httpd, issuer):
        """httpd joins repeated headers with ', ': never a pass."""
        tok = tokens.global_token(issuer, API)
        req = (f'GET /api/protected/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n'
               f'Authorization: Bearer {tok}\r\nAuthorization: Bearer {tok}\r\n\r\n').encode()
        answer = httpd.raw_request(req)
        assert answer.startswith(b'HTTP/1.1 401 '), answer[:300]

    def test_token_with_surrounding_junk(self, httpd, issuer):
        tok = tokens.global_token(issuer, API)
        for value in (f'Bearer {tok}.', f'Bearer {tok} x', f'Bearer "{tok}"', f'Bearer {tok};'):
            r = httpd.get('/api/protected/', headers={'Authorization': value})
            assert r.status_code == 401, (value[-12:], r.status_code)
            checks.invalid_reason(r, issuer.issuer)


class TestValidEdgeCases:
    """What looks unusual but is a valid Logto (or RFC 9068) token."""

    @pytest.mark.parametrize('case', [
        'aud-array', 'scope-absent-m2m', 'scope-empty', 'extra-claims', 'nbf-past',
        'typ-application-at+jwt', 'iat-absent', 'jti-absent', 'client-id-url',
    ])
    def test_accepted(self, httpd, issuer, case):
        build = {
            'aud-array': lambda: tokens.aud_as_array(issuer, API, 'https://other.example.com'),
            'scope-absent-m2m': lambda: tokens.m2m_token(issuer, API),
            'scope-empty': lambda: tokens.global_token(issuer, API, scope=''),
            'extra-claims': lambda: tokens.make(issuer, aud=API, set={
                'roles': ['admin'], 'act': {'sub': 'actor-1'}, 'custom': {'a': [1, 2]}}),
            'nbf-past': lambda: tokens.make(issuer, aud=API, set={'nbf': _now() - 10}),
            'typ-application-at+jwt': lambda: tokens.make(issuer, aud=API, typ='application/at+jwt'),
            'iat-absent': lambda: tokens.make(issuer, aud=API, drop=('iat',)),
            'jti-absent': lambda: tokens.make(issuer, aud=API, drop=('jti',)),
            'client-id-url': lambda: tokens.make(issuer, aud=API,
                                                 client_id='https://app.example.com/cimd.json'),
        }[case]
        checks.assert_ok(httpd.get('/api/protected/', token=build()))
