"""All ten JWS algorithms, the binding of algorithm to key type (RFC 8725
section 3.1: never trust the token's alg), and LogtoAlgorithms."""
import pytest

from harness import checks, keys, tokens
from harness.confs import API, location

MISMATCH_REASONS = (checks.REASONS['alg'], checks.REASONS['unknown_kid'])


@pytest.fixture(scope='module')
def multi(make_issuer):
    """One issuer publishing a key of every kind (a JWKS can mix kinds,
    LOGTO.md 1.2), plus an RSA key whose JWK pins alg RS256."""
    iss = make_issuer('multi', kinds=keys.KINDS)
    iss.pinned = iss.add_key('RSA-2048')
    iss.jwk_alg[iss.pinned.kid] = 'RS256'
    return iss


def key_of(iss, kind):
    return next(k for k in iss.keys if k.kind == kind)


class TestEveryAlgorithm:

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, multi):
        httpd.install(location('/api/', multi.issuer, ['logto-audience ' + API]))

    @pytest.mark.parametrize('alg', keys.ALL_ALGS)
    def test_algorithm(self, httpd, multi, alg):
        key = key_of(multi, keys.ALG_KIND[alg])
        tok = tokens.global_token(multi, API, key=key, alg=alg, sub=f'user-{alg}')
        assert checks.assert_ok(httpd.get('/api/protected/', token=tok))['auth']['sub'] == f'user-{alg}'

    @pytest.mark.parametrize('kind', ['RSA-3072', 'RSA-4096'])
    @pytest.mark.parametrize('alg', ['RS256', 'PS512'])
    def test_rsa_sizes(self, httpd, multi, kind, alg):
        tok = tokens.global_token(multi, API, key=key_of(multi, kind), alg=alg)
        checks.assert_ok(httpd.get('/api/protected/', token=tok))

    # (header alg, key kind named by kid, key that really signs, what signs with)
    MISMATCHES = {
        'ES256-header-on-P384-key': ('ES256', 'EC-P384', 'EC-P256', 'ES256'),
        'ES384-header-on-P256-key': ('ES384', 'EC-P256', 'EC-P384', 'ES384'),
        'ES512-header-on-P384-key': ('ES512', 'EC-P384', 'EC-P521', 'ES512'),
        'RS256-header-on-EC-key': ('RS256', 'EC-P384', 'RSA-2048', 'RS256'),
        'ES384-header-on-RSA-key': ('ES384', 'RSA-2048', 'EC-P384', 'ES384'),
        'EdDSA-header-on-EC-key': ('EdDSA', 'EC-P256', 'Ed25519', 'EdDSA'),
        'ES256-header-on-Ed25519-key': ('ES256', 'Ed25519', 'EC-P256', 'ES256'),
        'PS256-header-on-Ed25519-key': ('PS256', 'Ed25519', 'RSA-2048', 'PS256'),
    }

    @pytest.mark.parametrize('case', list(MISMATCHES))
    def test_alg_key_mismatch(self, httpd, multi, case):
        """The kid names a key of one type, the header claims an algorithm of
        another (signed by a rogue key of that algorithm): refused before any
        verification with the named key."""
        alg, named_kind, signer_kind, sign_alg = self.MISMATCHES[case]
        named = key_of(multi, named_kind)
        rogue = keys.new_key(signer_kind)
        tok = tokens.compact(tokens.header_for(named, alg=alg),
                             tokens.logto_payload(multi.issuer, API, scope='read:products'),
                             key=rogue, alg=sign_alg)
        reason = checks.invalid_reason(httpd.get('/api/protected/', token=tok), multi.issuer)
        assert reason in MISMATCH_REASONS

    def test_jwk_alg_member_is_honoured(self, httpd, multi):
        """An RSA JWK that carries alg RS256 verifies RS256 only, not PS256."""
        key = multi.pinned
        checks.assert_ok(httpd.get('/api/protected/', token=tokens.global_token(multi, API, key=key, alg='RS256')))
        tok = tokens.global_token(multi, API, key=key, alg='PS256')
        reason = checks.invalid_reason(httpd.get('/api/protected/', token=tok), multi.issuer)
        assert reason in MISMATCH_REASONS


class TestAllowList:
    """LogtoAlgorithms ES384 RS256 on /api/protected/, the default on /api/env/."""

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, multi):
        httpd.install(location('/api/protected/', multi.issuer, ['logto-audience ' + API],
                               directives=['LogtoAlgorithms ES384 RS256'])
                      + location('/api/env/', multi.issuer, ['logto-audience ' + API]))

    @pytest.mark.parametrize('alg', ['ES384', 'RS256'])
    def test_allowed(self, httpd, multi, alg):
        tok = tokens.global_token(multi, API, key=key_of(multi, keys.ALG_KIND[alg]), alg=alg)
        checks.assert_ok(httpd.get('/api/protected/', token=tok))

    @pytest.mark.parametrize('alg', [a for a in keys.ALL_ALGS if a not in ('ES384', 'RS256')])
    def test_left_out(self, httpd, multi, alg):
        tok = tokens.global_token(multi, API, key=key_of(multi, keys.ALG_KIND[alg]), alg=alg)
        checks.assert_invalid(httpd.get('/api/protected/', token=tok), multi.issuer, 'alg')
        # the same token where the default list applies
        checks.assert_ok(httpd.get('/api/env/', token=tok))
