"""A programmable loopback OIDC issuer: discovery document and JWKS, shaped
like Logto's (LOGTO.md sections 1.3, 1.4), plus the failure modes the key
handling must survive.

    issuer = FakeIssuer('a').start()          # one EC P-384 key, like a new Logto tenant
    issuer.issuer                              # http://127.0.0.1:<port>/oidc
    issuer.add_key('RSA-4096'); issuer.switch(key); issuer.remove(key)
    issuer.down(); issuer.up()                 # same port
    issuer.fail(500); issuer.garbage(); issuer.empty_keys(); issuer.junk_keys()
    issuer.delay(5); issuer.stall(30); issuer.issuer_mismatch(); issuer.normal()
    issuer.redirect(url); issuer.gzip(); issuer.oversized(); issuer.drip(30)
    issuer.hits('jwks'); issuer.hits('discovery'); issuer.reset_hits()
    issuer.stop()

TLS (an https issuer under a private CA made here with python3-cryptography):

    ca = TestCA('itest CA')
    issuer = FakeIssuer('tls', tls=ca.issue()).start()   # https://127.0.0.1:<port>/oidc
    ca.pem                                               # the CA certificate (PEM bytes)
    issuer.use_certificate(TestCA('other').issue())      # new connections get another cert
    issuer.hits('tls-failed')                            # handshakes the client aborted
"""
import datetime
import gzip as gzipmod
import ipaddress
import json
import os
import socket
import ssl
import tempfile
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import keys as keymod

JWKS_CACHE_CONTROL = 'no-cache, max-age=0, must-revalidate'


def free_port(host='127.0.0.1'):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    issuer = None       # the FakeIssuer (set by FakeIssuer.up)

    def finish_request(self, request, client_address):
        """Runs in the connection's thread: the TLS handshake (when the issuer
        serves https) happens here, so a stuck client blocks no one else."""
        cert = self.issuer.tls if self.issuer is not None else None
        if cert is None:
            return super().finish_request(request, client_address)
        try:
            conn = cert.server_context().wrap_socket(request, server_side=True,
                                                     do_handshake_on_connect=False)
        except OSError:
            return
        try:
            conn.settimeout(10)
            conn.do_handshake()
            conn.settimeout(None)
        except (ssl.SSLError, OSError) as e:
            self.issuer._count('tls-failed', f'handshake: {e}')
            conn.close()
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def shutdown_request(self, request):
        try:
            super().shutdown_request(request)
        except OSError:         # the TLS wrapper took the socket over
            pass


# ---- a private CA for the TLS issuer -----------------------------------------

class ServerCert:
    """A server certificate and its key (PEM), as issued by a TestCA."""

    def __init__(self, cert_pem, key_pem, ca=None, hosts=()):
        self.cert_pem = cert_pem
        self.key_pem = key_pem
        self.ca = ca
        self.hosts = tuple(hosts)
        self._ctx = None
        self._ctx_lock = threading.Lock()

    def server_context(self):
        with self._ctx_lock:
            if self._ctx is None:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                fd, path = tempfile.mkstemp(suffix='.pem')
                try:
                    with os.fdopen(fd, 'wb') as f:
                        f.write(self.cert_pem + self.key_pem)
                    ctx.load_cert_chain(path)
                finally:
                    os.unlink(path)
                self._ctx = ctx
            return self._ctx


class TestCA:
    """A throw-away certificate authority (EC P-256), made with cryptography."""

    __test__ = False        # not a pytest test class

    def __init__(self, name='mod_auth_logto itest CA'):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        self._x509, self._hashes, self._ser, self._ec, self._oid = x509, hashes, serialization, ec, NameOID
        self.name = name
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.utcnow()
        self.cert = (x509.CertificateBuilder()
                     .subject_name(subject).issuer_name(subject)
                     .public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                  content_commitment=False, key_encipherment=False,
                                                  data_encipherment=False, key_agreement=False,
                                                  encipher_only=False, decipher_only=False), critical=True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                                    critical=False)
                     .sign(self.key, hashes.SHA256()))

    @property
    def pem(self):
        return self.cert.public_bytes(self._ser.Encoding.PEM)

    def write(self, path):
        with open(path, 'wb') as f:
            f.write(self.pem)
        os.chmod(path, 0o644)
        return path

    def issue(self, hosts=('127.0.0.1', 'localhost'), days=30, expired=False):
        """A server certificate for hosts (IP addresses and DNS names in the
        subjectAltName), valid for days, or expired yesterday."""
        x509, NameOID = self._x509, self._oid
        key = self._ec.generate_private_key(self._ec.SECP256R1())
        sans = []
        for h in hosts:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(h)))
            except ValueError:
                sans.append(x509.DNSName(h))
        now = datetime.datetime.utcnow()
        if expired:
            nb, na = now - datetime.timedelta(days=10), now - datetime.timedelta(days=1)
        else:
            nb, na = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=days)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
                .issuer_name(self.cert.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(nb).not_valid_after(na)
                .add_extension(x509.SubjectAlternativeName(sans), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                               critical=False)
                .sign(self.key, self._hashes.SHA256()))
        key_pem = key.private_bytes(self._ser.Encoding.PEM, self._ser.PrivateFormat.PKCS8,
                                    self._ser.NoEncryption())
        return ServerCert(cert.public_bytes(self._ser.Encoding.PEM), key_pem, ca=self, hosts=hosts)


class FakeIssuer:
    """One issuer on 127.0.0.1. Keys are published in list order (Logto's
    order is Current, Next, Previous); ``signing_key`` is the one tokens use."""

    MODES = ('normal', 'status', 'garbage', 'empty', 'junk', 'delay', 'stall', 'mismatch',
             'redirect', 'gzip', 'oversized', 'drip')

    def __init__(self, name='issuer', kinds=('EC-P384',), path='/oidc', port=None,
                 host='127.0.0.1', hostname=None, tls=None):
        self.name = name
        self.tls = tls              # a ServerCert: serve https with it
        self.jwks_alias = None      # another path serving the JWKS (kind 'jwks-alias')
        self.host = host
        self.hostname = hostname or host
        self.port = port or free_port(host)
        self.path = path.rstrip('/')
        self.keys = [keymod.new_key(k) for k in kinds]
        self.signing_key = self.keys[0] if self.keys else None
        self.jwk_alg = {}          # kid -> alg member to publish (overrides Logto's rule)
        self._lock = threading.Lock()
        self._hits = {}
        self._log = []
        self._server = None
        self._thread = None
        self._release = threading.Event()   # ends stalls and delays when stopping
        self.normal()

    # ---- addresses ------------------------------------------------------
    @property
    def scheme(self):
        return 'https' if self.tls is not None else 'http'

    @property
    def base(self):
        return f'{self.scheme}://{self.hostname}:{self.port}'

    @property
    def issuer(self):
        return f'{self.base}{self.path}'

    @property
    def discovery_url(self):
        return f'{self.issuer}/.well-known/openid-configuration'

    @property
    def jwks_uri(self):
        return f'{self.issuer}/jwks'

    # ---- life cycle -----------------------------------------------------
    def start(self):
        self.up()
        return self

    def up(self):
        """(Re)open the listening socket on the same port."""
        if self._server is not None:
            return self
        self._release.clear()
        handler = self._handler_class()
        deadline = time.time() + 10
        while True:
            try:
                self._server = _Server((self.host, self.port), handler)
                self._server.issuer = self
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={'poll_interval': 0.05},
                                        name=f'fake-issuer-{self.name}', daemon=True)
        self._thread.start()
        return self

    def down(self):
        """Close the port: connections are refused until up()."""
        server, self._server = self._server, None
        if server is None:
            return self
        self._release.set()
        server.shutdown()
        server.server_close()
        self._thread.join(5)
        self._thread = None
        return self

    def stop(self):
        return self.down()

    def release(self):
        """Wake the handlers sleeping in delay/stall/drip now (they finish
        their answer, or close); the mode stays."""
        self._release.set()
        time.sleep(0.05)
        self._release.clear()
        return self

    def use_certificate(self, cert):
        """Serve https with cert (a ServerCert) from the next connection on."""
        self.tls = cert
        return self

    @property
    def running(self):
        return self._server is not None

    # ---- keys -----------------------------------------------------------
    def add_key(self, kind_or_key='EC-P384', publish=True, first=False):
        key = kind_or_key if isinstance(kind_or_key, keymod.Key) else keymod.new_key(kind_or_key)
        if publish:
            with self._lock:
                if first:
                    self.keys.insert(0, key)
                else:
                    self.keys.append(key)
        return key

    def switch(self, key):
        """Sign with key from now on (it is published if it was not)."""
        with self._lock:
            if key not in self.keys:
                self.keys.insert(0, key)
            self.signing_key = key
        return key

    def remove(self, key):
        with self._lock:
            self.keys = [k for k in self.keys if k is not key]
        return key

    def set_keys(self, keys, signing=None):
        with self._lock:
            self.keys = list(keys)
            self.signing_key = signing or (self.keys[0] if self.keys else None)

    def jwks(self):
        """The public JWKS document as served in normal mode."""
        with self._lock:
            return {'keys': [k.jwk(alg=self.jwk_alg.get(k.kid, 'auto')) for k in self.keys]}

    def jwks_json(self):
        return json.dumps(self.jwks())

    def write_jwks(self, path):
        with open(path, 'w') as f:
            f.write(self.jwks_json())
        return path

    def discovery(self):
        iss = self.mismatch_issuer if self.mode == 'mismatch' else self.issuer
        return {
            'issuer': iss,
            'authorization_endpoint': f'{self.issuer}/auth',
            'token_endpoint': f'{self.issuer}/token',
            'jwks_uri': self.jwks_uri_served or self.jwks_uri,
            'userinfo_endpoint': f'{self.issuer}/me',
            'introspection_endpoint': f'{self.issuer}/token/introspection',
            'revocation_endpoint': f'{self.issuer}/token/revocation',
            'response_types_supported': ['code', 'id_token', 'code id_token'],
            'grant_types_supported': ['authorization_code', 'refresh_token', 'client_credentials'],
            'id_token_signing_alg_values_supported': sorted({k.alg for k in self.keys}),
            'scopes_supported': ['openid', 'offline_access', 'profile', 'email',
                                 'urn:logto:scope:organizations',
                                 'urn:logto:scope:organization_roles'],
            'subject_types_supported': ['public'],
        }

    # ---- modes ----------------------------------------------------------
    def normal(self):
        """Serve discovery and JWKS correctly."""
        self.mode = 'normal'
        self.mode_paths = ('discovery', 'jwks')
        self.status = 200
        self.seconds = 0
        self.mismatch_issuer = None
        self.jwks_uri_served = None
        self.location = None
        self.encoding = None
        self.size = 0
        self.chunked = False
        self._release.clear()
        return self

    def _set(self, mode, paths, **attrs):
        self.normal()
        self.mode = mode
        self.mode_paths = (paths,) if isinstance(paths, str) else tuple(paths)
        for name, value in attrs.items():
            setattr(self, name, value)
        return self

    def fail(self, status=500, paths=('discovery', 'jwks')):
        """Answer status (500, 404, ...) with a small JSON error body."""
        return self._set('status', paths, status=status)

    def garbage(self, paths=('discovery', 'jwks')):
        """200 with a body that is not JSON."""
        return self._set('garbage', paths)

    def empty_keys(self):
        """JWKS {"keys": []}."""
        return self._set('empty', 'jwks')

    def junk_keys(self):
        """A JWKS of unusable members only (HMAC, enc, unknown kty, ...)."""
        return self._set('junk', 'jwks')

    def delay(self, seconds=5, paths=('discovery', 'jwks')):
        """Answer correctly, after seconds."""
        return self._set('delay', paths, seconds=seconds)

    def stall(self, seconds=30, paths=('discovery', 'jwks')):
        """Accept the connection, send nothing for seconds, then close."""
        return self._set('stall', paths, seconds=seconds)

    def issuer_mismatch(self, value=None):
        """Discovery names another issuer (a trailing slash by default)."""
        return self._set('mismatch', 'discovery', mismatch_issuer=value or self.issuer + '/')

    def serve_jwks_uri(self, uri):
        """Discovery points jwks_uri at uri (stays until normal())."""
        self.jwks_uri_served = uri
        return self

    def redirect(self, location, status=302, paths='jwks'):
        """Answer status with a Location header (absolute URL, or a path on
        this issuer). The JWKS can also be served at another path of this
        origin with serve_jwks_alias()."""
        if location.startswith('/'):
            location = self.base + location
        return self._set('redirect', paths, status=status, location=location)

    def serve_jwks_alias(self, path):
        """Serve the JWKS (normally, whatever the mode) also at path; counted
        as kind 'jwks-alias'."""
        self.jwks_alias = path
        return self

    def gzip(self, encoding='gzip', paths='jwks'):
        """The right document, compressed, with Content-Encoding: encoding
        (gzip or deflate), whatever the client asked for."""
        return self._set('gzip', paths, encoding=encoding)

    def oversized(self, size=600 * 1024, chunked=False, paths='jwks'):
        """The right document padded (a member "x_padding") to about size
        bytes; sent with Content-Length, or chunked without it."""
        return self._set('oversized', paths, size=size, chunked=chunked)

    def drip(self, seconds=30, paths='jwks'):
        """200 headers at once, then the body one byte every 0.5 s for up
        to seconds (a slow body, not a stall)."""
        return self._set('drip', paths, seconds=seconds)

    # ---- observation ----------------------------------------------------
    def _count(self, kind, path):
        with self._lock:
            self._hits[kind] = self._hits.get(kind, 0) + 1
            self._log.append((time.time(), kind, path))

    def hits(self, kind=None):
        """Requests received: kind 'discovery', 'jwks', 'other', or all (None)."""
        with self._lock:
            if kind is None:
                return sum(self._hits.values())
            return self._hits.get(kind, 0)

    def requests(self):
        with self._lock:
            return list(self._log)

    def reset_hits(self):
        with self._lock:
            self._hits.clear()
            self._log.clear()

    def wait_hits(self, kind, count, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.hits(kind) >= count:
                return True
            time.sleep(0.05)
        return False

    # ---- tokens (sugar over tokens.py) ---------------------------------
    def token(self, audience='https://api.example.com', scope='read:products', **kw):
        from . import tokens
        return tokens.make(self, aud=audience, scope=scope, **kw)

    # ---- HTTP -----------------------------------------------------------
    def _classify(self, path):
        path = path.split('?', 1)[0]
        if path == f'{self.path}/.well-known/openid-configuration':
            return 'discovery'
        if path == f'{self.path}/jwks':
            return 'jwks'
        if self.jwks_alias and path == self.jwks_alias:
            return 'jwks-alias'
        return 'other'

    def _handler_class(self):
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            server_version = 'fake-logto/1.0'

            def log_message(self, fmt, *args):
                pass

            def _send(self, status, body, ctype='application/json', extra=None):
                data = body if isinstance(body, bytes) else body.encode()
                self.send_response(status)
                self.send_header('Content-Type', ctype)
                self.send_header('Content-Length', str(len(data)))
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != 'HEAD':
                    self.wfile.write(data)

            def do_HEAD(self):
                self.do_GET()

            def do_GET(self):
                kind = issuer._classify(self.path)
                issuer._count(kind, self.path)
                mode = issuer.mode if kind in issuer.mode_paths else 'normal'
                extra = {'Cache-Control': JWKS_CACHE_CONTROL} if kind in ('jwks', 'jwks-alias') else {}
                if kind == 'other':
                    self._send(404, json.dumps({'error': 'not found'}))
                    return
                if kind == 'jwks-alias':
                    self._send(200, issuer.jwks_json(), extra=extra)
                    return
                if mode in ('redirect', 'gzip', 'oversized', 'drip'):
                    self._special(kind, mode, extra)
                    return
                if mode == 'stall':
                    issuer._release.wait(issuer.seconds)
                    self.close_connection = True
                    return
                if mode == 'delay':
                    issuer._release.wait(issuer.seconds)
                if mode == 'status':
                    self._send(issuer.status, json.dumps({'error': f'status {issuer.status}'}), extra=extra)
                    return
                if mode == 'garbage':
                    self._send(200, b'<html><body>Service Unavailable \x00\xff</body>', extra=extra)
                    return
                if kind == 'discovery':
                    self._send(200, json.dumps(issuer.discovery()))
                    return
                if mode == 'empty':
                    body = {'keys': []}
                elif mode == 'junk':
                    body = {'keys': keymod.junk_jwks_members()}
                else:
                    body = issuer.jwks()
                self._send(200, json.dumps(body), extra=extra)

            def _document(self, kind):
                return issuer.discovery() if kind == 'discovery' else issuer.jwks()

            def _special(self, kind, mode, extra):
                if mode == 'redirect':
                    self._send(issuer.status, json.dumps({'moved': issuer.location}),
                               extra=dict(extra, Location=issuer.location))
                    return
                if mode == 'gzip':
                    raw = json.dumps(self._document(kind)).encode()
                    if issuer.encoding == 'deflate':
                        body = zlib.compress(raw)
                    else:
                        body = gzipmod.compress(raw)
                    self._send(200, body, extra=dict(extra, **{'Content-Encoding': issuer.encoding}))
                    return
                if mode == 'oversized':
                    doc = self._document(kind)
                    base = len(json.dumps(doc)) + len(', "x_padding": ""')
                    doc['x_padding'] = 'x' * max(0, issuer.size - base)
                    body = json.dumps(doc).encode()
                    if not issuer.chunked:
                        self._send(200, body, extra=extra)
                        return
                    self.send_response(200)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Transfer-Encoding', 'chunked')
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.end_headers()
                    try:
                        for i in range(0, len(body), 16384):
                            chunk = body[i:i + 16384]
                            self.wfile.write(b'%x\r\n%s\r\n' % (len(chunk), chunk))
                        self.wfile.write(b'0\r\n\r\n')
                    except OSError:
                        pass
                    return
                # drip: the headers, then one byte every 0.5 s
                body = json.dumps(self._document(kind)).encode()
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                deadline = time.time() + issuer.seconds
                try:
                    for i in range(len(body)):
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                        if time.time() > deadline or issuer._release.wait(0.5):
                            break
                except OSError:
                    pass
                self.close_connection = True

        return Handler

    def __repr__(self):
        return f'<FakeIssuer {self.name} {self.issuer} mode={self.mode} keys={self.keys}>'
