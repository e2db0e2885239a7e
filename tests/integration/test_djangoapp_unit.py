"""The integration Django app on its own, without httpd: the views answer what
the tests and the benchmark expect from the variables mod_wsgi would pass, and
the guide-style view validates real tokens against a loopback JWKS.

Run alone (it configures Django from djangoapp.settings for the whole process):

    /usr/bin/python3 -m pytest -q tests/integration/test_djangoapp_unit.py
"""

import json
import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "djangoapp"))

with warnings.catch_warnings():
    # Django 3.2 imports what Python 3.11 deprecates (cgi); not ours to fix.
    warnings.simplefilter("ignore", DeprecationWarning)
    import djangoapp.wsgi  # noqa: E402  the WSGI entry point: sys.path and django.setup()
from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.test import Client  # noqa: E402
from djangoapp import guide  # noqa: E402
from harness import tokens  # noqa: E402
from harness.fake_issuer import FakeIssuer  # noqa: E402

API = "https://api.example.test"

# What mod_auth_logto exports for a model 3 token (DESIGN.md, "Environment contract").
MODEL3_ENV = {
    "AUTH_TYPE": "Logto",
    "REMOTE_USER": "user-1",
    "LOGTO_SUB": "user-1",
    "LOGTO_CLIENT_ID": "app-1",
    "LOGTO_ORGANIZATION_ID": "org-acme",
    "LOGTO_SCOPES": "read:products write:products",
    "LOGTO_AUDIENCE": API,
    "LOGTO_ISSUER": "http://127.0.0.1:9/oidc",
    "LOGTO_EXPIRES_AT": "1700003600",
    "LOGTO_JTI": "jti-1",
    "LOGTO_CLAIMS": json.dumps({"organization_id": "org-acme", "sub": "user-1"}),
}
DJANGO_401 = {"error": "Django: request not authenticated by mod_auth_logto"}


@pytest.fixture
def client():
    return Client()


def test_wsgi_entry_point_puts_contrib_on_the_path():
    import django_logto
    assert Path(django_logto.__file__).resolve().parent == (
        Path(__file__).resolve().parents[2] / "contrib" / "django_logto")
    assert callable(djangoapp.wsgi.application)


def test_protected_answers_the_guide_auth_info(client):
    response = client.get("/api/protected/", **MODEL3_ENV)
    assert response.status_code == 200
    assert response.json() == {"auth": {
        "sub": "user-1", "clientId": "app-1", "organizationId": "org-acme",
        "scopes": ["read:products", "write:products"], "audience": [API]}}


@pytest.mark.parametrize("meta", [
    {},
    {"HTTP_LOGTO_SUB": "user-1", "HTTP_REMOTE_USER": "user-1", "HTTP_AUTH_TYPE": "Logto"},
    dict(MODEL3_ENV, REMOTE_USER="someone-else"),
], ids=["nothing", "client-headers", "remote-user-mismatch"])
def test_protected_is_401_from_django_when_not_authenticated(client, meta):
    response = client.get("/api/protected/", **meta)
    assert response.status_code == 401
    assert response.json() == DJANGO_401
    assert response["WWW-Authenticate"] == "Bearer"


def test_org_members_reports_the_org_and_the_auth(client):
    response = client.get("/orgs/org-acme/members/", **MODEL3_ENV)
    assert response.status_code == 200
    body = response.json()
    assert body["org"] == "org-acme"
    assert body["auth"]["organizationId"] == "org-acme"


def test_org_members_decides_no_org_itself(client):
    """The org check is the module's; the app reports a mismatch rather than hiding it."""
    response = client.get("/orgs/org-globex/members/", **MODEL3_ENV)
    assert response.status_code == 200
    assert response.json()["org"] == "org-globex"
    assert client.get("/orgs/org-acme/members/").json() == DJANGO_401


def test_env_shows_exported_variables_and_client_headers(client):
    response = client.get("/api/env/", HTTP_LOGTO_SUB="forged", HTTP_X_TEST="1",
                          HTTP_AUTHORIZATION="Bearer secret.token.value", **MODEL3_ENV)
    assert response.status_code == 200
    seen = response.json()
    for key, value in MODEL3_ENV.items():
        assert seen[key] == value
    assert seen["HTTP_LOGTO_SUB"] == "forged"
    assert seen["HTTP_X_TEST"] == "1"
    assert seen["HTTP_AUTHORIZATION"] == "[withheld]"
    assert "secret.token.value" not in response.content.decode()
    assert "SERVER_NAME" not in seen and "wsgi.input" not in seen


def test_env_without_authentication(client):
    seen = client.get("/api/env/", HTTP_LOGTO_SUB="forged").json()
    assert seen["HTTP_LOGTO_SUB"] == "forged"
    assert "LOGTO_SUB" not in seen and "REMOTE_USER" not in seen


def test_public_needs_nothing(client):
    response = client.get("/api/public/")
    assert (response.status_code, response.json()) == (200, {"ok": True})


@pytest.mark.parametrize("path", ["/bench/noauth/", "/bench/logto/"])
def test_bench_routes_answer_the_same_small_body(client, path):
    assert client.get(path).json() == {"sub": None}
    assert client.get(path, **MODEL3_ENV).json() == {"sub": "user-1"}


# ---- /bench/guide/: PyJWT in Django, against a loopback JWKS ----------------

@pytest.fixture(scope="module")
def issuer():
    issuer = FakeIssuer("guide").start()  # one EC P-384 key, as a new Logto tenant
    yield issuer
    issuer.stop()


@pytest.fixture
def guide_env(issuer):
    """The SetEnv values of the /bench/guide/ location; a fresh JWKS client each test."""
    guide._config = None
    issuer.reset_hits()
    yield {"LOGTO_GUIDE_ISSUER": issuer.issuer, "LOGTO_GUIDE_JWKS_URI": issuer.jwks_uri,
           "LOGTO_GUIDE_AUDIENCE": API}
    guide._config = None


def get_guide(client, env, authorization=None):
    if authorization is not None:
        env = dict(env, HTTP_AUTHORIZATION=authorization)
    return client.get("/bench/guide/", **env)


def test_guide_accepts_a_logto_es384_token(client, issuer, guide_env):
    token = tokens.global_token(issuer, API, scope="read:products write:products")
    response = get_guide(client, guide_env, "Bearer " + token)
    assert (response.status_code, response.json()) == (200, {"sub": "user-6bd2kx"})


def test_guide_fetches_the_jwks_once_per_process(client, issuer, guide_env):
    for _ in range(3):
        token = tokens.global_token(issuer, API)
        assert get_guide(client, guide_env, "Bearer " + token).status_code == 200
    assert issuer.hits("jwks") == 1


def test_guide_accepts_rs256_after_rotation_to_rsa(client, issuer, guide_env):
    original = issuer.signing_key
    try:
        issuer.switch(issuer.add_key("RSA-2048"))
        token = tokens.global_token(issuer, API)
        assert tokens.decode_unverified(token)[0]["alg"] == "RS256"
        assert get_guide(client, guide_env, "Bearer " + token).json() == {"sub": "user-6bd2kx"}
    finally:
        issuer.switch(original)


def test_guide_401_without_authorization_header(client, guide_env):
    response = get_guide(client, guide_env)
    assert (response.status_code, response.json()) == (
        401, {"error": "Authorization header is missing"})


def test_guide_401_for_another_scheme(client, guide_env):
    response = get_guide(client, guide_env, "Basic dXNlcjpwYXNz")
    assert (response.status_code, response.json()) == (
        401, {"error": 'Authorization header must start with "Bearer "'})


@pytest.mark.parametrize("forge, reason", [
    (lambda i: tokens.expired(i, API), "Signature has expired"),
    (lambda i: tokens.global_token(i, "https://other.example.test"), "Invalid audience"),
    (lambda i: tokens.wrong_issuer(i, API), "Invalid issuer"),
    (lambda i: tokens.bad_signature(tokens.global_token(i, API)), "Signature verification failed"),
], ids=["expired", "audience", "issuer", "signature"])
def test_guide_401_for_an_invalid_token(client, issuer, guide_env, forge, reason):
    response = get_guide(client, guide_env, "Bearer " + forge(issuer))
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token: " + reason}


def test_guide_401_for_an_unknown_key(client, issuer, guide_env):
    response = get_guide(client, guide_env, "Bearer " + tokens.unknown_kid(issuer, API))
    assert response.status_code == 401
    assert response.json()["error"].startswith("Token validation failed: ")


def test_guide_403_without_the_required_scope(client, issuer, guide_env):
    response = get_guide(client, guide_env, "Bearer " + tokens.global_token(issuer, API, scope="write:products"))
    assert (response.status_code, response.json()) == (403, {"error": "Insufficient scope"})
    response = get_guide(client, guide_env, "Bearer " + tokens.global_token(issuer, API, scope=""))
    assert response.status_code == 403


def test_guide_without_its_setenv_is_a_configuration_error(client, issuer, guide_env):
    token = tokens.global_token(issuer, API)
    with pytest.raises(ImproperlyConfigured, match="LOGTO_GUIDE_JWKS_URI"):
        client.get("/bench/guide/", HTTP_AUTHORIZATION="Bearer " + token,
                   LOGTO_GUIDE_ISSUER=issuer.issuer, LOGTO_GUIDE_AUDIENCE=API)
