"""Assertions on the module's answers (DESIGN.md "Request contract")."""
import json
import re

MISSING = 'Authorization header is missing'
NOT_BEARER = 'Authorization header is not of type Bearer'
KEYS_UNAVAILABLE = 'Signing keys of the issuer are unavailable'
AUDIENCE_DENIED = 'Token audience is not accepted here'
ORGANIZATION_DENIED = 'Token is not for this organization'

# reason -> error_description (and the text after "Invalid token: ")
REASONS = {
    'malformed': 'token is malformed',
    'opaque': 'token is opaque, not a JWT (request it with a resource indicator)',
    'jwe': 'token is encrypted (JWE), not a signed JWT',
    'too_large': 'token is too large',
    'bad_signature': 'signature verification failed',
    'unknown_kid': 'no signing key of the issuer matches the token',
    'alg': 'signing algorithm is not allowed',
    'typ': 'token type is not allowed',
    'crit': 'token has an unsupported critical header',
    'iss': 'token issuer is not accepted',
    'expired': 'token has expired',
    'nbf': 'token is not valid yet',
    'iat': 'token is issued in the future',
    'no_exp': 'token has no expiry',
    'claim_type': 'token has a claim of the wrong type',
    'no_sub': 'token has no subject',
}

_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_-]+)="((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def parse_challenge(value):
    """'Bearer realm="x", error="y"' -> ('Bearer', [('realm', 'x'), ('error', 'y')]).
    Fails on anything that is not one challenge of quoted auth-params."""
    assert value is not None, 'no WWW-Authenticate header'
    scheme, _, rest = value.strip().partition(' ')
    params = []
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        m = _PARAM_RE.match(rest, pos)
        assert m, f'unparsable WWW-Authenticate: {value!r} (at {rest[pos:]!r})'
        params.append((m.group(1), re.sub(r'\\(.)', r'\1', m.group(2))))
        pos = m.end()
    return scheme, params


def www_authenticate(resp):
    """The single WWW-Authenticate header of resp, or None (fails on several)."""
    values = resp.raw.headers.getlist('WWW-Authenticate') if resp.raw is not None else []
    assert len(values) <= 1, f'several WWW-Authenticate headers: {values}'
    return values[0] if values else None


def body_of(resp):
    ctype = resp.headers.get('Content-Type', '')
    assert ctype.split(';')[0].strip().lower() == 'application/json', \
        f'Content-Type is {ctype!r}, not application/json; body {resp.text[:300]!r}'
    try:
        return json.loads(resp.text)
    except ValueError:
        raise AssertionError(f'body is not JSON: {resp.text[:300]!r}')


def _status(resp, status):
    assert resp.status_code == status, \
        f'expected {status}, got {resp.status_code}: {resp.headers.get("WWW-Authenticate")!r} {resp.text[:400]!r}'


def assert_ok(resp):
    """200 from the application, no challenge."""
    _status(resp, 200)
    assert www_authenticate(resp) is None, f'WWW-Authenticate on a 200: {www_authenticate(resp)!r}'
    return body_of(resp)


def assert_challenge(resp, realm, **params):
    """The WWW-Authenticate header is exactly Bearer realm="realm"[, params...] in this order."""
    scheme, got = parse_challenge(www_authenticate(resp))
    assert scheme == 'Bearer', f'scheme {scheme!r}'
    expected = [('realm', realm)] + list(params.items())
    assert got == expected, f'WWW-Authenticate {www_authenticate(resp)!r}, expected params {expected}'


def assert_error_body(resp, message):
    body = body_of(resp)
    assert body == {'error': message}, f'body {body!r}, expected {{"error": {message!r}}}'


def assert_missing(resp, realm):
    _status(resp, 401)
    assert_challenge(resp, realm)
    assert_error_body(resp, MISSING)


def assert_not_bearer(resp, realm):
    _status(resp, 401)
    assert_challenge(resp, realm)
    assert_error_body(resp, NOT_BEARER)


def assert_invalid(resp, realm, reason):
    """401 invalid_token with the reason's text (a key of REASONS or the text)."""
    text = REASONS.get(reason, reason)
    _status(resp, 401)
    assert_challenge(resp, realm, error='invalid_token', error_description=text)
    assert_error_body(resp, f'Invalid token: {text}')


def invalid_reason(resp, realm):
    """For cases where the contract allows several reasons: checks the 401
    invalid_token shape and returns the error_description."""
    _status(resp, 401)
    scheme, got = parse_challenge(www_authenticate(resp))
    assert scheme == 'Bearer'
    names = [n for n, _ in got]
    assert names == ['realm', 'error', 'error_description'], got
    d = dict(got)
    assert d['realm'] == realm and d['error'] == 'invalid_token', got
    assert_error_body(resp, f'Invalid token: {d["error_description"]}')
    return d['error_description']


def assert_insufficient_scope(resp, realm, scopes):
    """403 insufficient_scope; scopes: the Require line's scopes (str or list)."""
    required = scopes if isinstance(scopes, str) else ' '.join(scopes)
    _status(resp, 403)
    assert_challenge(resp, realm, error='insufficient_scope', scope=required)
    assert_error_body(resp, f'Insufficient scope: requires {required}')


def assert_audience_denied(resp):
    _status(resp, 403)
    assert www_authenticate(resp) is None, f'WWW-Authenticate on an audience 403: {www_authenticate(resp)!r}'
    assert_error_body(resp, AUDIENCE_DENIED)


def assert_organization_denied(resp):
    _status(resp, 403)
    assert www_authenticate(resp) is None, f'WWW-Authenticate on an organization 403: {www_authenticate(resp)!r}'
    assert_error_body(resp, ORGANIZATION_DENIED)


def assert_keys_unavailable(resp):
    _status(resp, 503)
    assert www_authenticate(resp) is None, f'WWW-Authenticate on a 503: {www_authenticate(resp)!r}'
    assert_error_body(resp, KEYS_UNAVAILABLE)
