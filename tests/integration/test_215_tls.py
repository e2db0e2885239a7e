"""Issue 4, TLS: an https issuer under a private CA (made here with
python3-cryptography). The certificate is always verified (chain and host
name); LogtoCACertificateFile adds the private CA. A failed handshake is a
failed fetch: 503 with nothing cached, good keys kept otherwise.
"""
import re
import time

import pytest

from harness import checks, tokens
from harness.keylog import FETCH_TROUBLE, ONE_CHILD_BUSY, STATUS_LOCATION, one_child, timed_get
from harness.confs import API, location
from harness.fake_issuer import TestCA

INTERVAL, HTTP_TIMEOUT = 2, 2

# one_child() under prefork is one process with one worker: httpd notes when it is busy


@pytest.fixture(scope='module')
def ca():
    return TestCA('mod_auth_logto itest CA')


@pytest.fixture(scope='module')
def tls(make_issuer, ca):
    """Issuers by name: 'good' (cert for 127.0.0.1 and localhost), 'wrong-host'
    (cert for localhost only, reached as 127.0.0.1), 'expired'."""
    return {
        'good': make_issuer('tls-good', tls=ca.issue()),
        'wrong-host': make_issuer('tls-wrong-host', tls=ca.issue(hosts=('localhost',))),
        'expired': make_issuer('tls-expired', tls=ca.issue(expired=True)),
        'rotating': make_issuer('tls-rotating', tls=ca.issue()),
    }


@pytest.fixture(scope='module', autouse=True)
def _conf(httpd, tls, ca):
    ca_file = httpd.path('conf', 'itest-ca.pem')
    ca.write(str(ca_file))
    other_file = httpd.path('conf', 'other-ca.pem')
    TestCA('an unrelated CA').write(str(other_file))
    common = [f'LogtoJwksRefreshInterval {INTERVAL}', f'LogtoHttpTimeout {HTTP_TIMEOUT}', 'LogtoJwksCacheTTL 600']
    with_ca = common + [f'LogtoCACertificateFile "{ca_file}"']
    good = tls['good']
    conf = (
        location('/orgs/no-ca/', good.issuer, ['logto-audience ' + API], directives=common)
        + location('/orgs/with-ca/', good.issuer, ['logto-audience ' + API], directives=with_ca)
        + location('/orgs/other-ca/', good.issuer, ['logto-audience ' + API],
                   directives=common + [f'LogtoCACertificateFile "{other_file}"'])
        + location('/orgs/wrong-host/', tls['wrong-host'].issuer, ['logto-audience ' + API], directives=with_ca)
        + location('/orgs/expired/', tls['expired'].issuer, ['logto-audience ' + API], directives=with_ca)
        + location('/orgs/rotating/', tls['rotating'].issuer, ['logto-audience ' + API], directives=with_ca)
        + STATUS_LOCATION)
    httpd.install(conf, top=one_child(httpd), claims=[FETCH_TROUBLE, ONE_CHILD_BUSY])


def tls_warning(httpd, issuer):
    return httpd.wait_log(r'\[auth_logto:warn\] .*LOGTO0202: fetching keys of ' + re.escape(issuer.issuer)
                          + r' from https://\S+ \([^)]*\) failed after \d+ ms: .*(SSL|certificate|TLS)', timeout=3)


class TestTLS:

    def test_issuer_is_https(self, tls):
        assert tls['good'].issuer.startswith('https://127.0.0.1:')

    def test_private_ca_not_trusted_by_default(self, httpd, tls):
        iss = tls['good']
        hits, failed = iss.hits('discovery') + iss.hits('jwks'), iss.hits('tls-failed')
        r, dt = timed_get(httpd, '/orgs/no-ca/members/', tokens.global_token(iss, API))
        checks.assert_keys_unavailable(r)
        assert dt < HTTP_TIMEOUT
        assert iss.wait_hits('tls-failed', failed + 1, timeout=3), 'no TLS handshake was attempted'
        assert iss.hits('discovery') + iss.hits('jwks') == hits, 'an HTTP request went over an unverified connection'
        assert tls_warning(httpd, iss), 'no LOGTO0202 warning naming the certificate problem'

    def test_private_ca_trusted_with_ca_file(self, httpd, tls):
        iss = tls['good']
        body = checks.assert_ok(httpd.get('/orgs/with-ca/members/', token=tokens.global_token(iss, API, sub='tls-user')))
        assert body['auth']['sub'] == 'tls-user'
        assert iss.hits('jwks') >= 1

    def test_unrelated_ca_file(self, httpd, tls):
        iss = tls['good']
        checks.assert_keys_unavailable(httpd.get('/orgs/other-ca/members/', token=tokens.global_token(iss, API)))
        assert tls_warning(httpd, iss)

    def test_host_name_is_verified(self, httpd, tls):
        iss = tls['wrong-host']
        checks.assert_keys_unavailable(httpd.get('/orgs/wrong-host/members/', token=tokens.global_token(iss, API)))
        # (curl checks the name after the handshake: the connection is closed
        # before any request is sent)
        time.sleep(0.3)
        assert iss.hits('discovery') + iss.hits('jwks') == 0, iss.requests()
        assert tls_warning(httpd, iss)

    def test_expired_certificate(self, httpd, tls):
        iss = tls['expired']
        checks.assert_keys_unavailable(httpd.get('/orgs/expired/members/', token=tokens.global_token(iss, API)))
        assert iss.wait_hits('tls-failed', 1, timeout=3), iss.requests()
        assert iss.hits('discovery') + iss.hits('jwks') == 0, iss.requests()
        assert tls_warning(httpd, iss)

    def test_untrusted_certificate_keeps_cached_keys(self, httpd, tls, ca):
        """Keys cached over verified TLS; then the issuer presents a certificate
        of another CA: the refetch for a new kid fails, the new key's token is
        refused (401, even though the answer would hold it), the good keys stay."""
        iss = tls['rotating']
        path = '/orgs/rotating/members/'
        checks.assert_ok(httpd.get(path, token=tokens.global_token(iss, API)))
        time.sleep(INTERVAL + 0.3)
        good_cert = iss.tls
        new = iss.add_key('EC-P384')
        iss.use_certificate(TestCA('rogue CA').issue())
        failed = iss.hits('tls-failed')
        r, dt = timed_get(httpd, path, tokens.global_token(iss, API, key=new))
        checks.assert_invalid(r, iss.issuer, 'unknown_kid')
        assert dt < HTTP_TIMEOUT
        assert iss.wait_hits('tls-failed', failed + 1, timeout=3)
        assert tls_warning(httpd, iss)
        checks.assert_ok(httpd.get(path, token=tokens.global_token(iss, API)))
        # the right certificate again: the new key is fetched after the interval
        iss.use_certificate(good_cert)
        deadline = time.monotonic() + INTERVAL + 3
        while True:
            r = httpd.get(path, token=tokens.global_token(iss, API, key=new), timeout=10)
            if r.status_code == 200:
                break
            checks.assert_invalid(r, iss.issuer, 'unknown_kid')
            assert time.monotonic() < deadline, 'the new key was never fetched once the certificate was good'
            time.sleep(0.2)
