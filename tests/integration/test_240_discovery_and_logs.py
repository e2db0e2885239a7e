"""Issue 4, discovery and what the error log says about fetches.

- the discovery document's ``issuer`` must equal LogtoIssuer exactly: otherwise
  503 (never 200, the JWKS is not even fetched) and an [error] LOGTO0205 line;
- a ``jwks_uri`` from discovery obeys the https-except-loopback rule;
- every fetch is logged at info (LOGTO0201: issuer, URL, status, key count,
  duration) and every failure at warn (LOGTO0202: URL, duration, reason); one
  line per fetch, as many as the issuer saw.
"""
import re
import time

import pytest

from harness import checks, tokens
from harness.keylog import ONE_CHILD_BUSY, STATUS_LOCATION, key_set, logto_lines, one_child, path_of
from harness.confs import API, location

INTERVAL, HTTP_TIMEOUT = 1, 2
FETCH_TROUBLE = r'LOGTO020[2-4]|LOGTO0209'

# case -> the issuer value the discovery document names instead of ours
MISMATCH = {
    'trailing-slash': lambda i: i.issuer + '/',
    'other-host': lambda i: i.issuer.replace('127.0.0.1', 'localhost'),
    'https': lambda i: i.issuer.replace('http://', 'https://'),
    'path-case': lambda i: i.issuer.replace('/oidc', '/OIDC'),
    'missing': lambda i: None,
}

# one_child() under prefork is one process with one worker: httpd notes when it is busy


class TestDiscoveryAndLogs:

    @pytest.fixture(scope='class')
    def issuers(self, make_issuer):
        made = {case: make_issuer(f'mismatch-{case}') for case in MISMATCH}
        for name in ('jwks-uri-plain-http', 'jwks-uri-ftp', 'jwks-uri-other-loopback', 'log-ok', 'log-500',
                     'log-down', 'log-mixed'):
            made[name] = make_issuer(name)
        return made

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, issuers):
        httpd.install(''.join(location(f'/orgs/{case}/', iss.issuer, ['logto-audience ' + API],
                                       directives=[f'LogtoJwksRefreshInterval {INTERVAL}', 'LogtoJwksCacheTTL 600',
                                                   f'LogtoHttpTimeout {HTTP_TIMEOUT}'])
                              for case, iss in issuers.items()) + STATUS_LOCATION,
                      top=one_child(httpd), claims=[FETCH_TROUBLE, ONE_CHILD_BUSY])

    @pytest.mark.parametrize('case', list(MISMATCH))
    def test_issuer_mismatch(self, httpd, issuers, case):
        iss = issuers[case]
        value = MISMATCH[case](iss)
        if value is None:           # no "issuer" member at all
            full = iss.discovery
            iss.discovery = lambda: {k: v for k, v in full().items() if k != 'issuer'}
        else:
            iss.issuer_mismatch(value)
        httpd.claim_log(r'LOGTO0205')
        statuses = []
        for attempt in range(2):
            r = httpd.get(path_of(case), token=tokens.global_token(iss, API), timeout=10)
            statuses.append(r.status_code)
            checks.assert_keys_unavailable(r)
            checks.assert_keys_unavailable(httpd.get(path_of(case), token=tokens.global_token(iss, API), timeout=10))
            if attempt == 0:
                time.sleep(INTERVAL + 0.3)  # the next try fetches discovery again
        assert iss.hits('discovery') == 2, iss.requests()
        assert iss.hits('jwks') == 0, 'the JWKS of an issuer whose discovery names another issuer was fetched'
        lines = logto_lines(httpd, iss, ('LOGTO0205',))
        assert len(lines) == 2 and all(l['level'] == 'error' for l in lines), [l['line'] for l in lines]
        ks = key_set(httpd, iss)
        assert ks['keys'] == 0 and ks['failures'] == 2, ks

    @pytest.mark.parametrize('case,uri', [
        ('jwks-uri-plain-http', 'http://example.com/oidc/jwks'),
        ('jwks-uri-ftp', 'ftp://127.0.0.1/oidc/jwks'),
    ])
    def test_discovered_jwks_uri_refused(self, httpd, issuers, case, uri):
        iss = issuers[case]
        iss.serve_jwks_uri(uri)
        r = httpd.get(path_of(case), token=tokens.global_token(iss, API), timeout=10)
        checks.assert_keys_unavailable(r)
        assert iss.hits('jwks') == 0
        line = httpd.wait_log(r'(LOGTO0202|LOGTO0209): .*' + re.escape(iss.issuer) + r' .*jwks_uri', timeout=3)
        assert line and re.search(r'\[auth_logto:(warn|error)\]', line), f'no line says the jwks_uri was refused: {line}'

    def test_discovered_jwks_uri_on_loopback_http(self, httpd, issuers):
        """http:// is fine on loopback (here: another path of the issuer)."""
        iss = issuers['jwks-uri-other-loopback']
        iss.serve_jwks_alias('/keys').serve_jwks_uri(f'http://localhost:{iss.port}/keys')
        checks.assert_ok(httpd.get(path_of('jwks-uri-other-loopback'), token=tokens.global_token(iss, API)))
        assert iss.hits('jwks-alias') == 1 and iss.hits('jwks') == 0


    # ---- the log lines of fetches -------------------------------------------

    def test_successful_fetch_logged_at_info(self, httpd, issuers):
        iss = issuers['log-ok']
        checks.assert_ok(httpd.get(path_of('log-ok'), token=tokens.global_token(iss, API)))
        lines = logto_lines(httpd, iss, ('LOGTO0201',))
        assert len(lines) == 1, lines
        line = lines[0]
        assert line['level'] == 'info'
        msg = line['msg']
        assert iss.jwks_uri in msg, msg             # the URL
        assert 'HTTP 200' in msg, msg               # the status
        assert re.search(r'\b1 key\(s\)', msg), msg  # the key count
        assert re.search(r'\b\d+ ms\b', msg), msg   # the duration

    def test_failed_fetch_logged_at_warn(self, httpd, issuers):
        iss = issuers['log-500']
        iss.fail(500, paths='jwks')
        checks.assert_keys_unavailable(httpd.get(path_of('log-500'), token=tokens.global_token(iss, API)))
        lines = logto_lines(httpd, iss, ('LOGTO0201', 'LOGTO0202'))
        assert len(lines) == 1 and lines[0]['tag'] == 'LOGTO0202', lines
        assert lines[0]['level'] == 'warn'
        msg = lines[0]['msg']
        assert iss.jwks_uri in msg and '500' in msg and re.search(r'\b\d+ ms\b', msg), msg

    def test_unreachable_issuer_logged_at_warn(self, httpd, issuers):
        iss = issuers['log-down']
        iss.down()
        try:
            checks.assert_keys_unavailable(httpd.get(path_of('log-down'), token=tokens.global_token(iss, API)))
            lines = logto_lines(httpd, iss, ('LOGTO0201', 'LOGTO0202'))
            assert len(lines) == 1 and lines[0]['tag'] == 'LOGTO0202' and lines[0]['level'] == 'warn', lines
            assert iss.discovery_url in lines[0]['msg'], lines[0]['msg']
        finally:
            iss.up()

    def test_one_line_per_fetch(self, httpd, issuers):
        """Successes, failures and rate-limited requests: the fetch lines in
        the log, the key set's counter and the issuer's JWKS hits agree."""
        iss = issuers['log-mixed']
        path = path_of('log-mixed')
        checks.assert_ok(httpd.get(path, token=tokens.global_token(iss, API)))
        for mode in ('fail', 'normal', 'empty', 'normal'):
            time.sleep(INTERVAL + 0.2)
            {'fail': lambda: iss.fail(503, paths='jwks'), 'normal': iss.normal, 'empty': iss.empty_keys}[mode]()
            for _ in range(3):      # the first fetches, the others are rate limited
                checks.assert_invalid(httpd.get(path, token=tokens.unknown_kid(iss, API)), iss.issuer, 'unknown_kid')
        iss.normal()
        lines = logto_lines(httpd, iss, ('LOGTO0201', 'LOGTO0202'))
        ks = key_set(httpd, iss)
        assert len(lines) == iss.hits('jwks') == ks['fetches'] == 5, \
            (len(lines), iss.hits('jwks'), ks, [l['msg'] for l in lines])
        assert [l['tag'] for l in lines] == ['LOGTO0201', 'LOGTO0202', 'LOGTO0201', 'LOGTO0202', 'LOGTO0201']
        assert ks['failures'] == 2 and ks['keys'] == 1
