"""The token itself is never written to a log (DESIGN.md; STYLE.md names
httpd trunk's mod_auth_bearer as the example to avoid). At LogLevel debug,
after a mix of good and bad requests, no token, no signature part and no
payload part appears in the error log; every rejection is logged, at info
or debug."""
import re

import pytest

from harness import tokens
from harness.confs import API, AUTHZ_DENIED, location


@pytest.fixture(scope='module', autouse=True)
def _conf(httpd, issuer):
    httpd.install(location('/api/', issuer.issuer, ['logto-audience ' + API, 'logto-scope read:products']),
                  top='LimitRequestFieldSize 65536\n', log_level='debug', claims=[AUTHZ_DENIED])


def parts(tok):
    """The secret-bearing pieces of a token: itself, its signature, its payload."""
    p = tok.split('.')
    out = [tok]
    if len(p) >= 3:
        out += [p[1], p[2]] + p[3:]
    return [x for x in out if len(x) >= 16]


class TestNoTokenInLog:

    def test_mix(self, httpd, issuer):
        sent, wrong = [], []

        def send(tok, status, **kw):
            # statuses are checked last, so that another bug does not hide this test's verdict
            sent.append(tok)
            r = httpd.get('/api/protected/', token=tok, **kw)
            if r.status_code != status:
                wrong.append((len(sent), status, r.status_code, r.text[:200]))

        good = tokens.global_token(issuer, API)
        send(good, 200)
        send(good, 200)                                   # cached path too
        send(tokens.global_token(issuer, API, scope='other'), 403)
        send(tokens.global_token(issuer, 'https://nope.example.com'), 403)
        send(tokens.bad_signature(good), 401)
        send(tokens.tampered_payload(good, scope='read:products admin'), 401)
        send(tokens.expired(issuer, API), 401)
        send(tokens.unknown_kid(issuer, API), 401)
        send(tokens.wrong_issuer(issuer, API), 401)
        send(tokens.wrong_typ(issuer, API), 401)
        send(tokens.alg_none(issuer, API), 401)
        send(tokens.hs256_with_public_key(issuer, API), 401)
        send(tokens.non_numeric_exp(issuer, API), 401)
        send(tokens.no_subject(issuer, API), 401)
        send(tokens.with_crit(issuer, API), 401)
        send(tokens.opaque(), 401)
        send(tokens.jwe_shaped(), 401)
        send(tokens.too_large(issuer, API), 401)
        for name, tok in tokens.malformed_tokens().items():
            send(tok, 401)
        send(good, 401, scheme='Basic')                   # a token under another scheme
        httpd.stop()                                       # flush everything
        log = httpd.log_text()
        assert 'LOGTO01' in log, 'no LOGTO01xx line at LogLevel debug: is the module logging at all?'
        for tok in sent:
            for piece in parts(tok):
                assert piece not in log, f'token text in the error log: ...{piece[:12]}...'
        # every refusal is logged, and not above info
        for line in log.splitlines():
            if re.search(r'LOGTO010[12]', line):
                assert re.search(r'\[auth_logto:(info|debug)\]', line), line
        httpd.start()
        assert not wrong, f'unexpected statuses (request #, expected, got, body): {wrong}'
