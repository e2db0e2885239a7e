"""Keys, JWKS and access tokens in Logto's layout, for the benchmark.

Keys: one EC P-384 key (ES384, Logto's default) and one RSA 2048 key
(RS256, after a rotation to RSA), each with ``kid`` = its RFC 7638 SHA-256
thumbprint and published as Logto publishes them: ``alg`` on the EC key,
none on the RSA key (LOGTO.md section 1.3).

Tokens: compact JWS with header ``{"alg", "typ": "at+jwt", "kid"}`` and
payload ``jti, sub, iat, exp (= iat + 1 h), scope, client_id, iss, aud`` in
that order, serialised compactly and signed here with ``cryptography``
(not PyJWT, which would reorder the header). Thousands of them are minted
with ``multiprocessing`` since ES384 signing costs about 1 ms in Python.
"""
import base64
import hashlib
import json
import multiprocessing
import os
import secrets
import signal
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

ALGS = ('ES384', 'RS256')
TOKEN_TTL = 3600            # Logto's default access token lifetime
_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'
_NANOID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def _int_b64u(value, length=None):
    if length is None:
        length = max(1, (value.bit_length() + 7) // 8)
    return b64u(value.to_bytes(length, 'big'))


def thumbprint(jwk):
    """RFC 7638 SHA-256 thumbprint (Logto's kid)."""
    required = {'EC': ('crv', 'kty', 'x', 'y'), 'RSA': ('e', 'kty', 'n')}[jwk['kty']]
    canon = json.dumps({k: jwk[k] for k in required}, separators=(',', ':'), sort_keys=True)
    return b64u(hashlib.sha256(canon.encode()).digest())


def generate_keys():
    """{alg: private key PEM (bytes)} for ES384 (P-384) and RS256 (RSA 2048)."""
    keys = {'ES384': ec.generate_private_key(ec.SECP384R1()),
            'RS256': rsa.generate_private_key(public_exponent=65537, key_size=2048)}
    return {alg: k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()) for alg, k in keys.items()}


def public_jwk(alg, pem):
    """The public JWK as Logto publishes it (kty, use, kid, [alg], members)."""
    key = serialization.load_pem_private_key(pem, password=None).public_key()
    nums = key.public_numbers()
    if alg == 'ES384':
        members = {'crv': 'P-384', 'x': _int_b64u(nums.x, 48), 'y': _int_b64u(nums.y, 48)}
        kid = thumbprint(dict(members, kty='EC'))
        return {'kty': 'EC', 'use': 'sig', 'kid': kid, 'alg': 'ES384', **members}
    members = {'e': _int_b64u(nums.e), 'n': _int_b64u(nums.n)}
    kid = thumbprint(dict(members, kty='RSA'))
    return {'kty': 'RSA', 'use': 'sig', 'kid': kid, **members}


def jwks(pems):
    """The key set: the EC key first (Logto's Current), then the RSA key."""
    return {'keys': [public_jwk(alg, pems[alg]) for alg in ALGS]}


def tls_certificate(host='127.0.0.1'):
    """A self-signed certificate for the issuer's https listener: (cert PEM, key PEM)."""
    import datetime
    import ipaddress
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'bench issuer ' + host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def _rand(alphabet, n):
    return ''.join(secrets.choice(alphabet) for _ in range(n))


class Signer:
    def __init__(self, alg, pem):
        self.alg = alg
        self.key = serialization.load_pem_private_key(pem, password=None)
        self.kid = public_jwk(alg, pem)['kid']

    def sign(self, signing_input):
        if self.alg == 'ES384':
            der = self.key.sign(signing_input, ec.ECDSA(hashes.SHA384()))
            r, s = utils.decode_dss_signature(der)
            return r.to_bytes(48, 'big') + s.to_bytes(48, 'big')
        return self.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())

    def token(self, claims, kid=None, typ='at+jwt'):
        header = {'alg': self.alg, 'typ': typ, 'kid': kid or self.kid}
        head = b64u(json.dumps(header, separators=(',', ':')))
        body = b64u(json.dumps(claims, separators=(',', ':')))
        signing_input = f'{head}.{body}'.encode('ascii')
        return f'{head}.{body}.{b64u(self.sign(signing_input))}'


def claims(issuer, audience, scope, client_id, now=None, ttl=TOKEN_TTL, sub=None):
    """Logto's payload, in Logto's member order."""
    iat = int(now if now is not None else time.time())
    return {'jti': _rand(_NANOID_ALPHABET, 21),
            'sub': sub or _rand(_ID_ALPHABET, 12),
            'iat': iat,
            'exp': iat + ttl,
            'scope': scope,
            'client_id': client_id,
            'iss': issuer,
            'aud': audience}


def _mint_chunk(job):
    """Worker: `count` tokens of one kind. Runs in a pool process."""
    alg, pem, count, kind, issuer, audience, scope, client_id, now = job
    signer = Signer(alg, pem)
    out = []
    if kind == 'wrongkey':      # signed by another key, under the real kid
        other = Signer(alg, generate_keys()[alg])
    for _ in range(count):
        if kind == 'valid':
            out.append(signer.token(claims(issuer, audience, scope, client_id, now)))
        elif kind == 'expired':  # issued 2 h ago, expired 1 h ago (beyond any leeway)
            out.append(signer.token(claims(issuer, audience, scope, client_id, now - 2 * TOKEN_TTL)))
        elif kind == 'badsig':   # a valid token with one signature byte changed
            tok = signer.token(claims(issuer, audience, scope, client_id, now))
            head, body, sig = tok.split('.')
            raw = bytearray(base64.urlsafe_b64decode(sig + '=' * (-len(sig) % 4)))
            raw[len(raw) // 2] ^= 0x01
            out.append(f'{head}.{body}.{b64u(bytes(raw))}')
        elif kind == 'wrongkey':
            out.append(other.token(claims(issuer, audience, scope, client_id, now), kid=signer.kid))
        else:
            raise ValueError(kind)
    return out


def _worker_init():
    # the pool is ended with SIGTERM: the parent's handler must not run here
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def mint_many(alg, pem, count, issuer, audience, scope, client_id, kind='valid', procs=None,
              now=None):
    """`count` distinct tokens, minted by a process pool."""
    if count <= 0:
        return []
    now = int(now if now is not None else time.time())
    procs = procs or os.cpu_count() or 2
    chunk = max(1, min(2000, (count + procs - 1) // procs))
    jobs = []
    left = count
    while left > 0:
        n = min(chunk, left)
        jobs.append((alg, pem, n, kind, issuer, audience, scope, client_id, now))
        left -= n
    with multiprocessing.get_context('fork').Pool(procs, initializer=_worker_init) as pool:
        parts = pool.map(_mint_chunk, jobs)
    return [t for part in parts for t in part]
