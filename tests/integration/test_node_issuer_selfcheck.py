"""Self-check of the Logto-shaped test issuer: the tokens it mints have Logto's
shapes (LOGTO.md sections 0 and 2) and verify against the JWKS it serves.

Run: /usr/bin/python3 -m pytest tests/integration/test_node_issuer_selfcheck.py
"""

import base64
import hashlib
import json
import os
import time

import jwt
import pytest

from node_issuer import (API_RESOURCE as API, ORG_RESOURCE, OTHER_CLIENT as OTHER_APP,
                         OTHER_RESOURCE as OTHER, SHORT_RESOURCE as SHORT, IssuerError, NodeIssuer)

# Logto's payload order: extra claims, then these (LOGTO.md 2.1).
STANDARD_ORDER = ["jti", "sub", "iat", "exp", "scope", "client_id", "iss", "aud"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rfc7638(jwk: dict) -> str:
    required = ("e", "kty", "n") if jwk["kty"] == "RSA" else ("crv", "kty", "x", "y")
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def alg_for(jwk: dict) -> str:
    """The one algorithm a key allows, from the key itself (as the module does)."""
    if jwk["kty"] == "RSA":
        return "RS256"
    return {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[jwk["crv"]]


def verify(issuer: NodeIssuer, token: str, audience: str, leeway: int = 0):
    """Verify against the served JWKS: key by kid, alg bound to the key. -> (header, payload)"""
    header = jwt.get_unverified_header(token)
    keys = {k["kid"]: k for k in issuer.jwks()["keys"]}
    assert header["kid"] in keys, "token kid is not in the JWKS"
    jwk = keys[header["kid"]]
    assert header["alg"] == alg_for(jwk)
    payload = jwt.decode(
        token, jwt.PyJWK(jwk).key, algorithms=[alg_for(jwk)], audience=audience,
        issuer=issuer.issuer, leeway=leeway,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
    )
    return header, payload


def claim_order(payload: dict) -> list:
    return [k for k in payload if k in STANDARD_ORDER]


@pytest.fixture(scope="module")
def issuer():
    with NodeIssuer() as iss:
        yield iss


@pytest.fixture
def fresh_issuer():
    """An issuer of its own, for tests that change its keys."""
    with NodeIssuer() as iss:
        yield iss


# ------------------------------------------------------------ discovery, keys

def test_discovery_and_jwks(issuer):
    disc = issuer.discovery()
    assert disc["issuer"] == issuer.issuer == f"http://127.0.0.1:{issuer.port}/oidc"
    assert disc["jwks_uri"] == issuer.jwks_uri
    assert disc["token_endpoint"] == issuer.token_endpoint

    resp = issuer._http.get(issuer.jwks_uri, timeout=5)
    assert resp.headers["Cache-Control"] == "no-cache, max-age=0, must-revalidate"
    (key,) = resp.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-384", "ES384", "sig")
    assert "d" not in key
    assert key["kid"] == rfc7638(key)
    assert issuer.keys() == [{"kid": key["kid"], "kty": "EC", "alg": "ES384", "state": "current"}]


# ---------------------------------------------------------------- the models

def test_model1_global_api_resource(issuer):
    token = issuer.token(resource=API, scope="read:products")
    header, payload = verify(issuer, token, API)
    assert header == {"alg": "ES384", "typ": "at+jwt", "kid": issuer.keys()[0]["kid"]}
    assert list(payload) == STANDARD_ORDER
    assert payload["aud"] == API
    assert payload["scope"] == "read:products"
    assert payload["sub"] == payload["client_id"] == "m2m-app"
    assert payload["exp"] - payload["iat"] == 3600
    assert "organization_id" not in payload


def test_model1_scope_is_intersection_and_absent_when_none(issuer):
    _, payload = verify(issuer, issuer.token(resource=API, scope="read:products delete:all"), API)
    assert payload["scope"] == "read:products"
    # other-app's roles give it read:products only.
    token = issuer.token(resource=API, scope="read:products write:products", client=OTHER_APP)
    _, payload = verify(issuer, token, API)
    assert payload["scope"] == "read:products" and payload["sub"] == "other-app"
    # No scope requested: Logto's M2M token has no scope claim at all.
    _, payload = verify(issuer, issuer.token(resource=API), API)
    assert "scope" not in payload


@pytest.mark.parametrize("resource", [None, ORG_RESOURCE])
def test_model2_organization_permissions(issuer, resource):
    token = issuer.token(resource=resource, organization_id="org-acme",
                         scope="invite:member read:products")
    header, payload = verify(issuer, token, "urn:logto:organization:org-acme")
    assert header["typ"] == "at+jwt"
    assert list(payload) == STANDARD_ORDER
    assert payload["aud"] == "urn:logto:organization:org-acme"
    assert payload["scope"] == "invite:member"
    assert "organization_id" not in payload
    assert payload["exp"] - payload["iat"] == 3600


def test_model2_empty_scope_is_kept(issuer):
    # other-app is in org-acme with no organization permissions: the Logto fork
    # writes scope "" (upstream oidc-provider would drop the claim).
    resp = issuer.token_response(organization_id="org-acme", scope="invite:member",
                                 client=OTHER_APP)
    assert resp.status == 200 and resp.body["scope"] == ""
    _, payload = verify(issuer, resp.body["access_token"], "urn:logto:organization:org-acme")
    assert payload["scope"] == ""
    assert list(payload) == STANDARD_ORDER


def test_model3_organization_level_api_resource(issuer):
    token = issuer.token(resource=API, organization_id="org-globex",
                         scope="read:products write:products")
    _, payload = verify(issuer, token, API)
    assert list(payload) == ["organization_id"] + STANDARD_ORDER
    assert payload["organization_id"] == "org-globex"
    assert payload["aud"] == API
    assert payload["scope"] == "read:products"  # m2m-app's roles in org-globex
    assert payload["sub"] == "m2m-app"


def test_client_secret_post(issuer):
    token = issuer.token(resource=OTHER, scope="read:other", auth="post")
    _, payload = verify(issuer, token, OTHER)
    assert payload["scope"] == "read:other"


def test_opaque_token_without_resource(issuer):
    resp = issuer.token_response()
    assert resp.status == 200
    assert resp.body["access_token"].count(".") == 0
    assert len(resp.body["access_token"]) == 43


# ------------------------------------------------------------------ refusals

@pytest.mark.parametrize("kwargs,status,error", [
    (dict(organization_id="org-globex", client=OTHER_APP), 403, "access_denied"),
    (dict(organization_id="org-globex", resource=API, client=OTHER_APP), 403, "access_denied"),
    (dict(organization_id="org-nope"), 403, "access_denied"),
    (dict(resource="https://unknown.example.test"), 400, "invalid_target"),
    (dict(resource=ORG_RESOURCE), 400, "invalid_target"),
    (dict(resource=[API, OTHER]), 400, "invalid_target"),
    (dict(resource=API, client=("m2m-app", "wrong")), 401, "invalid_client"),
])
def test_refusals(issuer, kwargs, status, error):
    resp = issuer.token_response(**kwargs)
    assert (resp.status, resp.body.get("error")) == (status, error), resp.body
    with pytest.raises(IssuerError):
        issuer.token(**kwargs)


def test_short_resource_token_expires(issuer):
    token = issuer.token(resource=SHORT, scope="read:products")
    _, payload = verify(issuer, token, SHORT)
    assert payload["exp"] - payload["iat"] == 2
    time.sleep(max(0.0, payload["exp"] - time.time()) + 1.1)
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(issuer, token, SHORT)


# ------------------------------------------------------------------ rotation

def test_immediate_rotation_to_rsa(fresh_issuer):
    iss = fresh_issuer
    old_token = iss.token(resource=API, scope="read:products")
    (old,) = iss.keys()
    new_kid = iss.rotate(kty="RSA")
    assert iss.keys() == [
        {"kid": new_kid, "kty": "RSA", "alg": "RS256", "state": "current"},
        {"kid": old["kid"], "kty": "EC", "alg": "ES384", "state": "previous"},
    ]
    jwks = iss.jwks()["keys"]
    assert [k["kid"] for k in jwks] == [new_kid, old["kid"]]
    rsa = jwks[0]
    assert rsa["kid"] == rfc7638(rsa) and "alg" not in rsa and "d" not in rsa
    assert len(base64.urlsafe_b64decode(rsa["n"] + "==")) * 8 == 4096

    header, payload = verify(iss, iss.token(resource=API, scope="read:products"), API)
    assert (header["alg"], header["kid"], header["typ"]) == ("RS256", new_kid, "at+jwt")
    # Tokens signed before the rotation still verify with the previous key.
    assert verify(iss, old_token, API)[0]["kid"] == old["kid"]

    # A second immediate rotation drops the older previous key.
    third = iss.rotate(kty="EC")
    assert [(k["kid"], k["state"]) for k in iss.keys()] == [(third, "current"), (new_kid, "previous")]
    with pytest.raises(AssertionError, match="kid is not in the JWKS"):
        verify(iss, old_token, API)


def test_grace_rotation_promote_remove(fresh_issuer):
    iss = fresh_issuer
    (cur,) = iss.keys()
    nxt = iss.rotate(kty="EC", grace=True)
    assert [(k["kid"], k["state"]) for k in iss.keys()] == [(cur["kid"], "current"), (nxt, "next")]
    assert [k["kid"] for k in iss.jwks()["keys"]] == [cur["kid"], nxt]
    # Next is published but does not sign.
    assert verify(iss, iss.token(resource=API), API)[0]["kid"] == cur["kid"]

    assert iss.promote() == nxt
    assert [(k["kid"], k["state"]) for k in iss.keys()] == [(nxt, "current"), (cur["kid"], "previous")]
    assert verify(iss, iss.token(resource=API), API)[0]["kid"] == nxt
    with pytest.raises(IssuerError, match="409"):
        iss.promote()

    # Current, Next, Previous all at once, in that order.
    third = iss.rotate(kty="RSA", grace=True)
    assert [k["state"] for k in iss.keys()] == ["current", "next", "previous"]
    assert [k["kid"] for k in iss.jwks()["keys"]] == [nxt, third, cur["kid"]]

    with pytest.raises(IssuerError, match="only a previous key"):
        iss.remove(nxt)
    assert [k["kid"] for k in iss.remove(cur["kid"])] == [nxt, third]
    assert [k["kid"] for k in iss.jwks()["keys"]] == [nxt, third]
    with pytest.raises(IssuerError, match="404"):
        iss.remove("no-such-kid")


def test_stats_count_jwks_fetches(fresh_issuer):
    iss = fresh_issuer
    iss.reset_stats()
    iss.jwks()
    iss.jwks()
    iss.token(resource=API)
    assert iss.stats() == {"/oidc/jwks": 2, "/oidc/token": 1}
    iss.reset_stats()
    assert iss.stats() == {}


# ------------------------------------------------------------ start options

def test_rsa_published_and_rsa_signing():
    with NodeIssuer(rsa=True) as iss:
        assert [(k["kty"], k["state"]) for k in iss.keys()] == [("EC", "current"), ("RSA", "previous")]
        assert verify(iss, iss.token(resource=API), API)[0]["alg"] == "ES384"
    with NodeIssuer(sign="rsa") as iss:
        assert [(k["kty"], k["state"]) for k in iss.keys()] == [("RSA", "current"), ("EC", "previous")]
        header, _ = verify(iss, iss.token(resource=API), API)
        assert header["alg"] == "RS256" and "alg" not in iss.jwks()["keys"][0]


def test_stop_ends_the_process():
    iss = NodeIssuer().start()
    pid = iss.pid
    os.kill(pid, 0)  # alive
    started = time.monotonic()
    iss.stop()
    assert time.monotonic() - started < 3
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    iss.stop()  # idempotent
    with pytest.raises(IssuerError):
        _ = iss.issuer
