"""Logto-shaped access tokens, minted with PyJWT's algorithm implementations,
and the forgeries the module must refuse.

Layout (LOGTO.md section 4.3): header ``{"alg", "typ": "at+jwt", "kid"}``;
payload in the order ``[organization_id], jti, sub, iat, exp, scope,
client_id, iss, aud``. The compact serialization is assembled here (so that a
header or payload can be anything, including what PyJWT refuses to produce:
``alg: none``, HS256 keyed with a public key, non-numeric ``exp``), and the
signature comes from ``jwt.algorithms``.

Most functions take ``issuer``: anything with ``.issuer`` (the iss URL) and
``.signing_key`` (a keys.Key), i.e. a FakeIssuer.
"""
import base64
import hashlib
import hmac
import json
import os
import secrets
import time

from jwt.algorithms import get_default_algorithms

from . import keys as keymod

_ALGS = get_default_algorithms()
ORG_AUD_PREFIX = 'urn:logto:organization:'


def b64u(data):
    return keymod.b64u(data)


def _json(obj):
    return json.dumps(obj, separators=(',', ':')).encode()


def new_jti():
    """A nanoid-like 21-character id, as Logto's jti."""
    return secrets.token_urlsafe(16)[:21]


def signature(alg, key, signing_input):
    """Raw JWS signature bytes (ECDSA as r||s) of signing_input by key (keys.Key)."""
    if alg not in keymod.ALL_ALGS:
        raise ValueError(f'not an asymmetric JWS algorithm: {alg}')
    return _ALGS[alg].sign(signing_input, key.private)


def compact(header, payload, key=None, alg=None, sig=None):
    """A compact JWS. header/payload: dicts (serialized compactly, in their
    order) or bytes/str taken as is. The signature is sig when given (bytes),
    else made by key with alg (default header['alg']); with no key: empty."""
    h = header if isinstance(header, (bytes, str)) else _json(header)
    p = payload if isinstance(payload, (bytes, str)) else _json(payload)
    signing_input = f'{b64u(h)}.{b64u(p)}'
    if sig is None:
        if key is None:
            sig = b''
        else:
            sig = signature(alg or header['alg'], key, signing_input.encode('ascii'))
    return f'{signing_input}.{b64u(sig)}'


def logto_payload(iss, aud, sub='user-6bd2kx', client_id='app-9x0y1z', scope='',
                  organization_id=None, iat=None, exp=None, ttl=3600, jti=None):
    """The payload dict in Logto's member order. scope=None leaves it out
    (an M2M token with no scope), aud may be a string or a list."""
    now = int(time.time())
    iat = now if iat is None else iat
    payload = {}
    if organization_id is not None:
        payload['organization_id'] = organization_id
    payload['jti'] = new_jti() if jti is None else jti
    payload['sub'] = sub
    payload['iat'] = iat
    payload['exp'] = iat + ttl if exp is None else exp
    if scope is not None:
        payload['scope'] = scope
    payload['client_id'] = client_id
    payload['iss'] = iss
    payload['aud'] = aud
    return payload


def header_for(key, alg=None, typ='at+jwt', kid='auto', extra=None):
    """Logto's header: alg, typ, kid (typ=None / kid=None leave them out)."""
    h = {'alg': alg or key.alg}
    if typ is not None:
        h['typ'] = typ
    if kid == 'auto':
        kid = key.kid
    if kid is not None:
        h['kid'] = kid
    if extra:
        h.update(extra)
    return h


_MISSING = object()


def make(issuer=None, aud='https://api.example.com', scope='read:products', *, key=None,
         alg=None, iss=None, sub='user-6bd2kx', client_id='app-9x0y1z', organization_id=None,
         typ='at+jwt', kid='auto', header_extra=None, set=None, drop=(), ttl=3600,
         iat=None, exp=None, jti=None):
    """The general minting function. issuer supplies the signing key and iss
    unless key/iss are given. set: claims to add or overwrite (keeping their
    place); drop: claim names to remove."""
    key = key or issuer.signing_key
    iss = iss if iss is not None else issuer.issuer
    payload = logto_payload(iss, aud, sub=sub, client_id=client_id, scope=scope,
                            organization_id=organization_id, iat=iat, exp=exp, ttl=ttl, jti=jti)
    for name, value in (set or {}).items():
        payload[name] = value
    for name in drop:
        payload.pop(name, None)
    header = header_for(key, alg=alg, typ=typ, kid=kid, extra=header_extra)
    return compact(header, payload, key=key, alg=header['alg'])


# ---- the three Logto permission models (DESIGN.md) -------------------------

def global_token(issuer, audience, scope='read:products', **kw):
    """Model 1: aud = the API resource indicator, no organization_id."""
    return make(issuer, aud=audience, scope=scope, **kw)


def org_token(issuer, org_id, scope='invite:member', **kw):
    """Model 2: aud = urn:logto:organization:<org>, no organization_id claim."""
    return make(issuer, aud=ORG_AUD_PREFIX + org_id, scope=scope, **kw)


def org_api_token(issuer, audience, org_id, scope='read:products', **kw):
    """Model 3: aud = the indicator and organization_id = the org (first member)."""
    return make(issuer, aud=audience, scope=scope, organization_id=org_id, **kw)


def m2m_token(issuer, audience, scope=None, client_id='m2m-app-4k2j', **kw):
    """A client-credentials token: sub == client_id, scope absent by default."""
    return make(issuer, aud=audience, scope=scope, sub=client_id, client_id=client_id, **kw)


# ---- forgeries ------------------------------------------------------------

def expired(issuer, audience, seconds_ago=3600, **kw):
    now = int(time.time())
    return make(issuer, aud=audience, iat=now - seconds_ago - 3600, exp=now - seconds_ago, **kw)


def not_yet_valid(issuer, audience, seconds_ahead=3600, **kw):
    """nbf in the future (Logto never sets nbf; other issuers do)."""
    set_ = dict(kw.pop('set', None) or {})
    set_['nbf'] = int(time.time()) + seconds_ahead
    return make(issuer, aud=audience, set=set_, **kw)


def issued_in_future(issuer, audience, seconds_ahead=3600, **kw):
    now = int(time.time())
    return make(issuer, aud=audience, iat=now + seconds_ahead, exp=now + seconds_ahead + 3600, **kw)


def wrong_issuer(issuer, audience, iss='https://evil.example.com/oidc', **kw):
    """Signed by the issuer's own key, but iss names someone else."""
    return make(issuer, aud=audience, iss=iss, **kw)


def wrong_typ(issuer, audience, typ='JWT', **kw):
    return make(issuer, aud=audience, typ=typ, **kw)


def no_expiry(issuer, audience, **kw):
    return make(issuer, aud=audience, drop=('exp',) + tuple(kw.pop('drop', ())), **kw)


def no_subject(issuer, audience, **kw):
    return make(issuer, aud=audience, drop=('sub',) + tuple(kw.pop('drop', ())), **kw)


def non_numeric_exp(issuer, audience, **kw):
    return make(issuer, aud=audience, set={'exp': str(int(time.time()) + 3600)}, **kw)


def scope_as_list(issuer, audience, **kw):
    return make(issuer, aud=audience, set={'scope': ['read:products']}, **kw)


def aud_as_array(issuer, audience, *more, **kw):
    """Valid JWT (RFC 7519 allows an array): must be accepted."""
    return make(issuer, aud=[audience, *more], **kw)


def alg_none(issuer, audience, **kw):
    """alg "none", empty signature (RFC 8725 section 2.1)."""
    key = issuer.signing_key
    payload = logto_payload(issuer.issuer, audience, scope=kw.pop('scope', 'read:products'))
    return compact({'alg': 'none', 'typ': 'at+jwt', 'kid': key.kid}, payload, sig=b'')


def hs256_with_public_key(issuer, audience, form='pem', **kw):
    """Algorithm confusion: HS256 keyed with the issuer's public key (PEM or
    JWK JSON), kid pointing at the real key."""
    key = issuer.signing_key
    secret = key.public_pem() if form == 'pem' else _json(key.jwk())
    header = {'alg': 'HS256', 'typ': 'at+jwt', 'kid': key.kid}
    payload = logto_payload(issuer.issuer, audience, scope=kw.pop('scope', 'read:products'))
    signing_input = f'{b64u(_json(header))}.{b64u(_json(payload))}'
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f'{signing_input}.{b64u(sig)}'


def unknown_kid(issuer, audience, kind=None, **kw):
    """Signed by a key the issuer never published (kid = that key's thumbprint)."""
    rogue = keymod.new_key(kind or issuer.signing_key.kind)
    return make(issuer, aud=audience, key=rogue, **kw)


def foreign_key_same_kid(issuer, audience, **kw):
    """Signed by a rogue key of the same kind, claiming the real key's kid."""
    rogue = keymod.new_key(issuer.signing_key.kind)
    return make(issuer, aud=audience, key=rogue, kid=issuer.signing_key.kid, **kw)


def bad_signature(token):
    """The same token with its signature bytes changed (length kept)."""
    head, payload, sig = token.split('.')
    raw = bytearray(base64.urlsafe_b64decode(sig + '=' * (-len(sig) % 4)))
    raw[len(raw) // 2] ^= 0x5A
    raw[0] ^= 0x01
    return f'{head}.{payload}.{b64u(bytes(raw))}'


def tampered_payload(token, **changes):
    """The payload changed after signing (e.g. a scope added): signature fails."""
    head, payload, sig = token.split('.')
    claims = json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))
    claims.update(changes)
    return f'{head}.{b64u(_json(claims))}.{sig}'


def with_crit(issuer, audience, crit=('x-logto-unknown',), **kw):
    extra = {'crit': list(crit)}
    for name in crit:
        extra.setdefault(name, True)
    return make(issuer, aud=audience, header_extra=extra, **kw)


def opaque():
    """Logto's opaque access token: 43 characters of base64url, no dots."""
    tok = secrets.token_urlsafe(32)
    assert len(tok) == 43 and '.' not in tok
    return tok


def jwe_shaped():
    """Five parts, as an encrypted JWT (RFC 7516 compact serialization)."""
    header = b64u(_json({'alg': 'RSA-OAEP-256', 'enc': 'A256GCM', 'typ': 'at+jwt'}))
    return '.'.join([header, b64u(os.urandom(256)), b64u(os.urandom(12)),
                     b64u(os.urandom(300)), b64u(os.urandom(16))])


def too_large(issuer, audience, size=20000, **kw):
    """A well-formed, correctly signed token longer than the module's 16 KiB bound."""
    filler = 'x' * size
    return make(issuer, aud=audience, set={'x_padding': filler}, **kw)


def malformed_tokens(issuer=None):
    """Tokens that are not a well-formed compact JWS, by name."""
    good_head = b64u(_json({'alg': 'ES384', 'typ': 'at+jwt', 'kid': 'k'}))
    good_payload = b64u(_json({'sub': 'a', 'exp': int(time.time()) + 60}))
    return {
        'garbage-3-parts': 'abc.def.ghi',
        'two-parts': f'{good_head}.{good_payload}',
        'four-parts': f'{good_head}.{good_payload}.AAAA.BBBB',
        'empty-header': f'.{good_payload}.AAAA',
        'header-not-json': f'{b64u(b"not json")}.{good_payload}.AAAA',
        'header-is-array': f'{b64u(b"[1,2,3]")}.{good_payload}.AAAA',
        'bad-base64url': f'{good_head}.{good_payload}.AA+/A=',
        'payload-not-json': f'{good_head}.{b64u(b"{oops")}.AAAA',
    }


def decode_unverified(token):
    """Header and payload dicts of a token, without any check."""
    head, payload = token.split('.')[:2]
    dec = lambda s: json.loads(base64.urlsafe_b64decode(s + '=' * (-len(s) % 4)))
    return dec(head), dec(payload)
