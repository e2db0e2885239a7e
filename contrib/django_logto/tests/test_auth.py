"""LogtoAuth from request.META: each model's shape, and who counts as authenticated."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings

from django_logto import LogtoAuth, LogtoAuthMiddleware, get_auth

from .tokens import API, ISSUER, MODEL1_M2M, MODEL1_USER, MODEL2_ORG, MODEL3_ORG_API, module_env

rf = RequestFactory()


def auth_for(meta):
    return LogtoAuth.from_meta(rf.get("/api/", **meta).META)


@pytest.mark.parametrize("payload, expected", [
    (MODEL1_USER, {"sub": "user1", "clientId": "app1", "organizationId": None,
                   "scopes": ["read:products", "write:products"], "audience": [API]}),
    (MODEL1_M2M, {"sub": "m2m1", "clientId": "m2m1", "organizationId": None,
                  "scopes": [], "audience": [API]}),
    (MODEL2_ORG, {"sub": "user1", "clientId": "app1", "organizationId": "org1",
                  "scopes": ["invite:member"], "audience": ["urn:logto:organization:org1"]}),
    (MODEL3_ORG_API, {"sub": "user1", "clientId": "app1", "organizationId": "org1",
                      "scopes": ["read:products"], "audience": [API]}),
], ids=["model1-user", "model1-m2m", "model2-org-token", "model3-org-api"])
def test_to_dict_has_the_guide_shape_for_each_model(payload, expected):
    assert auth_for(module_env(payload)).to_dict() == expected


def test_attributes_of_a_model3_token():
    auth = auth_for(module_env(MODEL3_ORG_API))
    assert (auth.issuer, auth.expires_at, auth.jti) == (ISSUER, 1700003600, "Jt1")
    assert isinstance(auth.expires_at, int)
    assert auth.claims == MODEL3_ORG_API
    assert auth.claims["organization_id"] == "org1"
    assert not auth.is_m2m


def test_hand_made_auth_parses_claims_json_on_first_use():
    """from_meta() now checks the claims up front (issue 9, item 14: the audiences
    come from them); a LogtoAuth made by hand still parses claims_json lazily."""
    auth = LogtoAuth(sub="user1", claims_json="{not json")
    assert auth.sub == "user1"
    with pytest.raises(ValueError):
        auth.claims
    assert LogtoAuth(sub="u", claims_json='{"sub": "u"}').claims == {"sub": "u"}
    assert LogtoAuth(sub="u").claims == {}


def test_is_m2m_when_sub_equals_client_id():
    assert auth_for(module_env(MODEL1_M2M)).is_m2m
    assert not auth_for(module_env(MODEL1_USER)).is_m2m


def test_missing_client_id_is_none_and_not_m2m():
    meta = module_env(MODEL1_USER)
    del meta["LOGTO_CLIENT_ID"]
    auth = auth_for(meta)
    assert auth.client_id is None
    assert not auth.is_m2m


def test_empty_scope_is_an_empty_list():
    auth = auth_for(module_env(dict(MODEL2_ORG, scope="")))
    assert auth.scopes == []
    assert auth.has_scopes()
    assert not auth.has_scopes("invite:member")


def test_has_scopes_needs_every_scope_exactly():
    auth = auth_for(module_env(MODEL1_USER))
    assert auth.has_scopes("read:products", "write:products")
    assert not auth.has_scopes("read:products", "delete:products")
    assert not auth.has_scopes("read")


def test_in_organization_by_claim_or_by_audience():
    assert auth_for(module_env(MODEL3_ORG_API)).in_organization("org1")
    assert auth_for(module_env(MODEL2_ORG)).in_organization("org1")
    assert not auth_for(module_env(MODEL3_ORG_API)).in_organization("org2")
    assert not auth_for(module_env(MODEL2_ORG)).in_organization("org")
    assert not auth_for(module_env(MODEL1_USER)).in_organization("org1")


def test_in_organization_reads_the_audience_even_without_organization_id():
    """A model 2 token seen by a module that did not derive the org id."""
    meta = module_env(MODEL2_ORG)
    del meta["LOGTO_ORGANIZATION_ID"]
    auth = auth_for(meta)
    assert auth.organization_id is None
    assert auth.in_organization("org1")
    assert not auth.in_organization("")


@pytest.mark.parametrize("change", [
    pytest.param(lambda m: m.pop("AUTH_TYPE"), id="no-auth-type"),
    pytest.param(lambda m: m.update(AUTH_TYPE="Basic"), id="wrong-auth-type"),
    pytest.param(lambda m: m.update(REMOTE_USER="someone-else"), id="remote-user-mismatch"),
    pytest.param(lambda m: m.pop("REMOTE_USER"), id="no-remote-user"),
    pytest.param(lambda m: m.pop("LOGTO_SUB"), id="no-sub"),
    pytest.param(lambda m: m.update(LOGTO_SUB="", REMOTE_USER=""), id="empty-sub"),
])
def test_anonymous_unless_the_module_authenticated(change):
    meta = module_env(MODEL1_USER)
    change(meta)
    assert auth_for(meta) is None


def test_auth_type_is_compared_like_httpd_compares_authtype():
    meta = module_env(MODEL1_USER)
    meta["AUTH_TYPE"] = "logto"
    assert auth_for(meta).sub == "user1"


def test_client_headers_cannot_authenticate():
    """Request headers reach META as HTTP_*: X-Logto-Sub is HTTP_LOGTO_SUB, never LOGTO_SUB."""
    request = rf.get("/api/", HTTP_LOGTO_SUB="user1", HTTP_REMOTE_USER="user1",
                     HTTP_AUTH_TYPE="Logto", HTTP_LOGTO_SCOPES="admin")
    assert request.META["HTTP_LOGTO_SUB"] == "user1"
    assert LogtoAuth.from_meta(request.META) is None


def test_client_headers_cannot_add_claims_to_an_authenticated_request():
    meta = module_env(MODEL1_USER)
    meta["HTTP_LOGTO_SCOPES"] = "admin"
    meta["HTTP_LOGTO_ORGANIZATION_ID"] = "org1"
    auth = auth_for(meta)
    assert auth.scopes == ["read:products", "write:products"]
    assert auth.organization_id is None


@override_settings(LOGTO_CLAIM_PREFIX="APP_")
def test_custom_prefix_matches_logtoclaimprefix():
    auth = auth_for(module_env(MODEL3_ORG_API, prefix="APP_"))
    assert auth.to_dict()["organizationId"] == "org1"
    assert auth.scopes == ["read:products"]


@override_settings(LOGTO_CLAIM_PREFIX="APP_")
def test_custom_prefix_ignores_the_default_names():
    assert auth_for(module_env(MODEL1_USER)) is None


@override_settings(LOGTO_CLAIM_PREFIX="HTTP_X_LOGTO_")
def test_a_prefix_clients_could_forge_is_refused():
    with pytest.raises(ImproperlyConfigured, match="HTTP_"):
        auth_for(module_env(MODEL1_USER, prefix="HTTP_X_LOGTO_"))


def test_middleware_sets_request_auth():
    seen = {}

    def view(request):
        seen["auth"] = request.auth
        return "response"

    middleware = LogtoAuthMiddleware(view)
    assert middleware(rf.get("/api/", **module_env(MODEL1_USER))) == "response"
    assert seen["auth"].sub == "user1"
    middleware(rf.get("/api/", HTTP_LOGTO_SUB="user1"))
    assert seen["auth"] is None


def test_get_auth_reuses_the_middleware_object_or_reads_meta():
    request = rf.get("/api/", **module_env(MODEL1_USER))
    built = get_auth(request)
    assert built.sub == "user1"
    request.auth = built
    assert get_auth(request) is built
