"""A programmable loopback OIDC issuer: discovery document and JWKS, shaped
like Logto's (LOGTO.md sections 1.3, 1.4), plus the failure modes the key
handling must survive.

    issuer = FakeIssuer('a').start()          # one EC P-384 key, like a new Logto tenant
    issuer.issuer                              # http://127.0.0.1:<port>/oidc
    issuer.add_key('RSA-4096'); issuer.switch(key); issuer.remove(key)
    issuer.down(); issuer.up()                 # same port
    issuer.fail(500); issuer.garbage(); issuer.empty_keys(); issuer.junk_keys()
    issuer.delay(5); issuer.stall(30); issuer.issuer_mismatch(); issuer.normal()
    issuer.hits('jwks'); issuer.hits('discovery'); issuer.reset_hits()
    issuer.stop()
"""
import json
import socket
import threading
import time
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


class FakeIssuer:
    """One issuer on 127.0.0.1. Keys are published in list order (Logto's
    order is Current, Next, Previous); ``signing_key`` is the one tokens use."""

    MODES = ('normal', 'status', 'garbage', 'empty', 'junk', 'delay', 'stall', 'mismatch')

    def __init__(self, name='issuer', kinds=('EC-P384',), path='/oidc', port=None,
                 host='127.0.0.1', hostname=None):
        self.name = name
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
    def base(self):
        return f'http://{self.hostname}:{self.port}'

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
                extra = {'Cache-Control': JWKS_CACHE_CONTROL} if kind == 'jwks' else {}
                if kind == 'other':
                    self._send(404, json.dumps({'error': 'not found'}))
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

        return Handler

    def __repr__(self):
        return f'<FakeIssuer {self.name} {self.issuer} mode={self.mode} keys={self.keys}>'
