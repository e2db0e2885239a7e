"""LogtoClockSkew: one leeway for exp, nbf and iat (default 60 s)."""
import time

import pytest

from harness import checks, tokens
from harness.confs import API, location


@pytest.fixture(scope='module', autouse=True)
def _conf(httpd, issuer):
    httpd.install(
        location('/api/protected/', issuer.issuer, ['logto-audience ' + API])        # default 60
        + location('/api/env/', issuer.issuer, ['logto-audience ' + API],
                   directives=['LogtoClockSkew 10']))


DEFAULT, TEN = '/api/protected/', '/api/env/'


class TestExpiry:

    def test_expired_30s_ago_passes_with_default(self, httpd, issuer):
        checks.assert_ok(httpd.get(DEFAULT, token=tokens.expired(issuer, API, seconds_ago=30)))

    def test_expired_30s_ago_fails_with_10(self, httpd, issuer):
        r = httpd.get(TEN, token=tokens.expired(issuer, API, seconds_ago=30))
        checks.assert_invalid(r, issuer.issuer, 'expired')

    def test_expired_90s_ago_fails_with_default(self, httpd, issuer):
        r = httpd.get(DEFAULT, token=tokens.expired(issuer, API, seconds_ago=90))
        checks.assert_invalid(r, issuer.issuer, 'expired')

    def test_expired_5s_ago_passes_with_10(self, httpd, issuer):
        checks.assert_ok(httpd.get(TEN, token=tokens.expired(issuer, API, seconds_ago=5)))


class TestNotBefore:

    def test_nbf_30s_ahead(self, httpd, issuer):
        t = tokens.not_yet_valid(issuer, API, seconds_ahead=30)
        checks.assert_ok(httpd.get(DEFAULT, token=t))
        checks.assert_invalid(httpd.get(TEN, token=t), issuer.issuer, 'nbf')

    def test_nbf_90s_ahead(self, httpd, issuer):
        r = httpd.get(DEFAULT, token=tokens.not_yet_valid(issuer, API, seconds_ahead=90))
        checks.assert_invalid(r, issuer.issuer, 'nbf')


class TestIssuedAt:

    def test_iat_30s_ahead(self, httpd, issuer):
        t = tokens.issued_in_future(issuer, API, seconds_ahead=30)
        checks.assert_ok(httpd.get(DEFAULT, token=t))
        checks.assert_invalid(httpd.get(TEN, token=t), issuer.issuer, 'iat')

    def test_iat_90s_ahead(self, httpd, issuer):
        r = httpd.get(DEFAULT, token=tokens.issued_in_future(issuer, API, seconds_ahead=90))
        checks.assert_invalid(r, issuer.issuer, 'iat')


class TestCachedTokenExpires:
    """A token accepted once is refused after it expires (the validated-token
    cache must not outlive exp + leeway)."""

    def test_cached_token_rechecked_per_location(self, httpd, issuer):
        """Accepted (and cached) where the skew is 60 s, still refused where it is 10 s."""
        t = tokens.expired(issuer, API, seconds_ago=30)
        checks.assert_ok(httpd.get(DEFAULT, token=t))
        checks.assert_ok(httpd.get(DEFAULT, token=t))
        checks.assert_invalid(httpd.get(TEN, token=t), issuer.issuer, 'expired')

    def test_cache_respects_expiry(self, httpd, issuer):
        now = int(time.time())
        t = tokens.make(issuer, aud=API, iat=now - 100, exp=now - 10 + 2)   # 8 s ago + 2 s
        checks.assert_ok(httpd.get(TEN, token=t))
        time.sleep(3.5)
        checks.assert_invalid(httpd.get(TEN, token=t), issuer.issuer, 'expired')
