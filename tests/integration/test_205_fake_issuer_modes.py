"""The fake issuer's modes added for issue 4 (no httpd needed): redirects and a
JWKS alias, compressed and oversized bodies, a dripping body, TLS under a
private CA with certificate switching, and the handshake-failure counter."""
import gzip
import json
import socket
import ssl
import time
import zlib

import pytest
import requests

from harness.fake_issuer import FakeIssuer, TestCA


@pytest.fixture
def iss():
    i = FakeIssuer('modes-2xx').start()
    yield i
    i.stop()


def raw_get(url_host, port, path, timeout=5):
    """The raw bytes of an HTTP/1.0 answer (no decoding of any kind)."""
    with socket.create_connection((url_host, port), timeout=timeout) as s:
        s.sendall(f'GET {path} HTTP/1.0\r\nHost: {url_host}\r\n\r\n'.encode())
        chunks = []
        while True:
            c = s.recv(65536)
            if not c:
                break
            chunks.append(c)
    head, _, body = b''.join(chunks).partition(b'\r\n\r\n')
    return head.decode('latin-1'), body


class TestNewModes:

    def test_redirect_and_alias(self, iss):
        iss.serve_jwks_alias('/oidc/jwks-moved').redirect('/oidc/jwks-moved', status=308)
        r = requests.get(iss.jwks_uri, allow_redirects=False, timeout=5)
        assert r.status_code == 308 and r.headers['Location'] == f'{iss.base}/oidc/jwks-moved'
        assert requests.get(iss.jwks_uri, timeout=5).json() == iss.jwks()
        assert iss.hits('jwks') == 2 and iss.hits('jwks-alias') == 1
        iss.redirect('http://127.0.0.1:9/elsewhere', paths='discovery')
        assert requests.get(iss.discovery_url, allow_redirects=False, timeout=5).headers['Location'] \
            == 'http://127.0.0.1:9/elsewhere'
        iss.normal()
        assert requests.get(iss.jwks_uri, allow_redirects=False, timeout=5).status_code == 200

    @pytest.mark.parametrize('encoding', ['gzip', 'deflate'])
    def test_compressed(self, iss, encoding):
        iss.gzip(encoding=encoding)
        head, body = raw_get('127.0.0.1', iss.port, '/oidc/jwks')
        assert f'Content-Encoding: {encoding}' in head
        raw = gzip.decompress(body) if encoding == 'gzip' else zlib.decompress(body)
        assert json.loads(raw) == iss.jwks()

    @pytest.mark.parametrize('chunked', [False, True])
    def test_oversized(self, iss, chunked):
        iss.oversized(600 * 1024, chunked=chunked)
        r = requests.get(iss.jwks_uri, timeout=5)
        assert len(r.content) >= 600 * 1024 - 16
        assert ('Content-Length' in r.headers) != chunked
        assert r.json()['keys'] == iss.jwks()['keys']

    def test_drip(self, iss):
        iss.drip(seconds=1.2)
        t = time.monotonic()
        head, body = raw_get('127.0.0.1', iss.port, '/oidc/jwks')
        assert 1.0 <= time.monotonic() - t < 5
        assert 'Content-Length' in head and 0 < len(body) <= 4

    def test_tls_and_certificate_switch(self, tmp_path):
        ca = TestCA('self-test CA')
        ca_file = ca.write(str(tmp_path / 'ca.pem'))
        i = FakeIssuer('tls-self-test', tls=ca.issue()).start()
        try:
            assert i.issuer.startswith('https://127.0.0.1:')
            d = requests.get(i.discovery_url, verify=ca_file, timeout=5).json()
            assert d['issuer'] == i.issuer and d['jwks_uri'] == i.jwks_uri
            with pytest.raises(requests.exceptions.SSLError):
                requests.get(i.jwks_uri, timeout=5)         # system store only
            assert i.wait_hits('tls-failed', 1, timeout=3)
            i.use_certificate(TestCA('another').issue())
            with pytest.raises(requests.exceptions.SSLError):
                requests.get(i.jwks_uri, verify=ca_file, timeout=5)
            i.use_certificate(ca.issue(expired=True))
            with pytest.raises(requests.exceptions.SSLError):
                requests.get(i.jwks_uri, verify=ca_file, timeout=5)
            i.use_certificate(ca.issue(hosts=('localhost',)))
            ctx = ssl.create_default_context(cafile=ca_file)
            with pytest.raises(ssl.SSLCertVerificationError):
                with socket.create_connection(('127.0.0.1', i.port), timeout=5) as s:
                    ctx.wrap_socket(s, server_hostname='127.0.0.1')
            assert i.hits('jwks') == 0
        finally:
            i.stop()
