"""Signing keys of every kind the module verifies, as Logto publishes them.

A key knows its kind (``EC-P256``, ``EC-P384``, ``EC-P521``, ``RSA-2048``,
``RSA-3072``, ``RSA-4096``, ``Ed25519``), the algorithms it can sign with, its
RFC 7638 thumbprint (Logto's ``kid``) and its public JWK in Logto's member set:
``alg`` on EC and OKP keys, none on RSA keys (LOGTO.md section 1.3).
"""
import base64
import hashlib
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

KINDS = ('EC-P256', 'EC-P384', 'EC-P521', 'RSA-2048', 'RSA-3072', 'RSA-4096', 'Ed25519')

# Algorithm -> the key kind that signs it in these tests (RSA algorithms work
# with every RSA size; 2048 is the cheap default).
ALG_KIND = {
    'RS256': 'RSA-2048', 'RS384': 'RSA-2048', 'RS512': 'RSA-2048',
    'PS256': 'RSA-2048', 'PS384': 'RSA-2048', 'PS512': 'RSA-2048',
    'ES256': 'EC-P256', 'ES384': 'EC-P384', 'ES512': 'EC-P521',
    'EdDSA': 'Ed25519',
}
ALL_ALGS = tuple(ALG_KIND)

_RSA_ALGS = ('RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512')
_EC = {'EC-P256': (ec.SECP256R1, 'P-256', 'ES256', 32),
       'EC-P384': (ec.SECP384R1, 'P-384', 'ES384', 48),
       'EC-P521': (ec.SECP521R1, 'P-521', 'ES512', 66)}


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def _int_b64u(value, length=None):
    if length is None:
        length = max(1, (value.bit_length() + 7) // 8)
    return b64u(value.to_bytes(length, 'big'))


def thumbprint(jwk):
    """RFC 7638 SHA-256 thumbprint of a public JWK (base64url)."""
    required = {'EC': ('crv', 'kty', 'x', 'y'), 'RSA': ('e', 'kty', 'n'),
                'OKP': ('crv', 'kty', 'x')}[jwk['kty']]
    canon = json.dumps({k: jwk[k] for k in required}, separators=(',', ':'), sort_keys=True)
    return b64u(hashlib.sha256(canon.encode()).digest())


class Key:
    """One key pair; ``private`` and ``public`` are cryptography objects."""

    def __init__(self, kind, private):
        if kind not in KINDS:
            raise ValueError(f'unknown key kind {kind}')
        self.kind = kind
        self.private = private
        self.public = private.public_key()
        if kind.startswith('RSA'):
            self.kty, self.crv, self.algs = 'RSA', None, _RSA_ALGS
            nums = self.public.public_numbers()
            self._members = {'e': _int_b64u(nums.e), 'n': _int_b64u(nums.n)}
        elif kind.startswith('EC'):
            _, crv, alg, size = _EC[kind]
            self.kty, self.crv, self.algs = 'EC', crv, (alg,)
            nums = self.public.public_numbers()
            self._members = {'crv': crv, 'x': _int_b64u(nums.x, size), 'y': _int_b64u(nums.y, size)}
        else:
            self.kty, self.crv, self.algs = 'OKP', 'Ed25519', ('EdDSA',)
            raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self._members = {'crv': 'Ed25519', 'x': b64u(raw)}
        self.kid = thumbprint(dict(self._members, kty=self.kty))

    @property
    def alg(self):
        """The algorithm Logto would sign with (RS256 for RSA keys)."""
        return self.algs[0]

    def jwk(self, kid=None, alg='auto', use='sig'):
        """The public JWK as Logto/oidc-provider publishes it: kty, use, kid,
        alg (only when one algorithm fits: EC/OKP), then the key members."""
        out = {'kty': self.kty}
        if use:
            out['use'] = use
        out['kid'] = self.kid if kid is None else kid
        if alg == 'auto':
            if self.kty != 'RSA':
                out['alg'] = self.alg
        elif alg:
            out['alg'] = alg
        for name in ('crv', 'e', 'n', 'x', 'y'):
            if name in self._members:
                out[name] = self._members[name]
        return out

    def public_pem(self):
        return self.public.public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)

    def __repr__(self):
        return f'<Key {self.kind} kid={self.kid[:8]}...>'


def generate(kind):
    """A new key of this kind (RSA-4096 takes a moment)."""
    if kind.startswith('RSA'):
        bits = int(kind.split('-')[1])
        return Key(kind, rsa.generate_private_key(public_exponent=65537, key_size=bits))
    if kind.startswith('EC'):
        return Key(kind, ec.generate_private_key(_EC[kind][0]()))
    return Key(kind, ed25519.Ed25519PrivateKey.generate())


def new_key(kind):
    """A key never handed out before in this process."""
    return generate(kind)


def for_alg(alg):
    """A new key that signs with alg."""
    return new_key(ALG_KIND[alg])


def junk_jwks_members():
    """JWKS members that no verifier can use: an HMAC key, an encryption key,
    an unknown kty, a curve nobody supports, an RSA key with a broken modulus,
    a member that is not even an object."""
    return [
        {'kty': 'oct', 'kid': 'hmac-1', 'k': b64u(b'secret-secret-secret')},
        {'kty': 'RSA', 'use': 'enc', 'kid': 'enc-1', 'e': 'AQAB', 'n': b64u(b'\x01' * 256)},
        {'kty': 'XYZ', 'kid': 'weird-1', 'x': 'AAAA'},
        {'kty': 'EC', 'kid': 'k256', 'crv': 'secp256k1', 'x': b64u(b'\x02' * 32), 'y': b64u(b'\x03' * 32)},
        {'kty': 'RSA', 'kid': 'short-1', 'e': 'AQAB', 'n': '!!not-base64!!'},
        'not-an-object',
    ]
