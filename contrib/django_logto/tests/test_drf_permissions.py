"""DRF permission classes: HasScopes, InOrganization, HasClaim."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from django_logto import LogtoAuth
from django_logto.drf import HasClaim, HasScopes, InOrganization, LogtoAuthentication, LogtoUser

from .tokens import MODEL1_USER, MODEL2_ORG, MODEL3_ORG_API, module_env, module_headers, payload

rf = RequestFactory()


def make_view(permission_classes, authentication_classes=(LogtoAuthentication,), **attrs):
    def get(self, request, **kwargs):
        return Response({"sub": request.auth.sub})

    attrs.update(permission_classes=list(permission_classes),
                 authentication_classes=list(authentication_classes), get=get, post=get, put=get)
    return type("TestView", (APIView,), attrs).as_view()


def answer(view, meta=None, method="get", **kwargs):
    response = view(getattr(rf, method)("/", **(meta or {})), **kwargs)
    response.render()
    return response.status_code, json.loads(response.content)


USER = module_env(MODEL1_USER)          # read:products write:products
ANONYMOUS_401 = (401, {"detail": "Authentication credentials were not provided."})


# ---- HasScopes ------------------------------------------------------------------------------

def test_has_scopes_from_the_view_attribute():
    view = make_view([HasScopes], required_scopes=["read:products", "write:products"])
    assert answer(view, USER) == (200, {"sub": "user1"})
    view = make_view([HasScopes], required_scopes=["read:products", "delete:products"])
    assert answer(view, USER) == (
        403, {"detail": "Insufficient scope: requires read:products delete:products"})


def test_has_scopes_factory():
    assert answer(make_view([HasScopes.of("read:products")]), USER)[0] == 200
    assert answer(make_view([HasScopes.of("admin")]), USER) == (
        403, {"detail": "Insufficient scope: requires admin"})


def test_factory_wins_over_the_view_attribute():
    view = make_view([HasScopes.of("admin")], required_scopes=["read:products"])
    assert answer(view, USER)[0] == 403


def test_has_scopes_per_method():
    view = make_view([HasScopes], required_scopes={"GET": ["read:products"], "POST": ["admin"]})
    assert answer(view, USER)[0] == 200
    assert answer(view, USER, "post") == (403, {"detail": "Insufficient scope: requires admin"})
    assert answer(view, USER, "put") == (403, {"detail": "Method PUT is not allowed by required_scopes"})


def test_has_scopes_empty_scope_is_403():
    assert answer(make_view([HasScopes.of("invite:member")]),
                  module_env(dict(MODEL2_ORG, scope="")))[0] == 403


def test_has_scopes_scopes_are_exact():
    """A tab is part of a scope (issue 9, item 14): 'read:a\\tb' does not grant 'b'."""
    meta = module_env(payload(scope="read:a\tb"))
    assert answer(make_view([HasScopes.of("b")]), meta)[0] == 403
    assert answer(make_view([HasScopes.of("read:a\tb")]), meta)[0] == 200


@pytest.mark.parametrize("attrs", [{}, {"required_scopes": "read:products"},
                                   {"required_scopes": None}])
def test_has_scopes_needs_a_list(attrs):
    with pytest.raises(ImproperlyConfigured, match="required_scopes"):
        answer(make_view([HasScopes], **attrs), USER)


# ---- InOrganization ---------------------------------------------------------------------------

@pytest.mark.parametrize("claims", [MODEL2_ORG, MODEL3_ORG_API], ids=["model2", "model3"])
def test_in_organization_from_the_default_url_kwarg(claims):
    view = make_view([InOrganization])
    assert answer(view, module_env(claims), org="org1")[0] == 200
    assert answer(view, module_env(claims), org="org2") == (
        403, {"detail": "Token is not for organization org2"})


def test_in_organization_from_a_named_kwarg():
    view = make_view([InOrganization], logto_organization_kwarg="org_id")
    assert answer(view, module_env(MODEL3_ORG_API), org_id="org1")[0] == 200
    assert answer(view, module_env(MODEL3_ORG_API), org_id="org9")[0] == 403
    view = make_view([InOrganization.of(kwarg="tenant")])
    assert answer(view, module_env(MODEL3_ORG_API), tenant="org1")[0] == 200
    assert answer(view, module_env(MODEL3_ORG_API), tenant="org9")[0] == 403


def test_in_organization_fixed_and_callable():
    assert answer(make_view([InOrganization.of("org1")]), module_env(MODEL3_ORG_API))[0] == 200
    assert answer(make_view([InOrganization.of("org1")]), USER)[0] == 403

    def from_header(request, view):
        return request.META.get("HTTP_X_ORG")

    view = make_view([InOrganization.of(from_header)])
    assert answer(view, dict(module_env(MODEL2_ORG), HTTP_X_ORG="org1"))[0] == 200
    assert answer(view, dict(module_env(MODEL2_ORG), HTTP_X_ORG="org2"))[0] == 403
    assert answer(view, module_env(MODEL2_ORG)) == (403, {"detail": "Token is not for organization None"})


def test_in_organization_from_a_view_method():
    def get_logto_organization(self, request):
        return self.kwargs["slug"].split("-")[0]

    view = make_view([InOrganization], get_logto_organization=get_logto_organization)
    assert answer(view, module_env(MODEL3_ORG_API), slug="org1-reports")[0] == 200
    assert answer(view, module_env(MODEL3_ORG_API), slug="org2-reports")[0] == 403


def test_in_organization_model1_token_is_not_for_any_org():
    assert answer(make_view([InOrganization]), USER, org="org1")[0] == 403


def test_in_organization_without_the_kwarg_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="<org>"):
        answer(make_view([InOrganization]), module_env(MODEL3_ORG_API))


@pytest.mark.parametrize("args, kwargs", [((), {}), (("org1",), {"kwarg": "org"})])
def test_in_organization_of_takes_one_source(args, kwargs):
    with pytest.raises(TypeError):
        InOrganization.of(*args, **kwargs)


# ---- HasClaim -----------------------------------------------------------------------------------

ADMIN = module_env(payload({"roles": ["reader", "admin"], "level": 3, "verified": True,
                            "act": {"sub": "support1"}}))


@pytest.mark.parametrize("requirement, expected", [
    (("roles", "admin"), 200),
    (("roles", "owner"), 403),
    (("level", "3"), 200),
    (("level", "3.0"), 403),
    (("verified", "true"), 200),
    (("verified", "True"), 403),
    (("act.sub", "support1"), 200),
    (("act.sub", "support2"), 403),
    (("act",), 200),
    (("missing",), 403),
    (("act.sub.x",), 403),
])
def test_has_claim(requirement, expected):
    assert answer(make_view([HasClaim.of(*requirement)]), ADMIN)[0] == expected
    assert answer(make_view([HasClaim], required_claim=requirement), ADMIN)[0] == expected


def test_has_claim_bare_name_requires_presence():
    assert answer(make_view([HasClaim], required_claim="act"), ADMIN)[0] == 200
    assert answer(make_view([HasClaim], required_claim="act"), USER) == (
        403, {"detail": "Claim act is missing or empty"})


def test_has_claim_message_names_the_requirement():
    assert answer(make_view([HasClaim.of("roles", "owner", "root")]), ADMIN) == (
        403, {"detail": 'Claim roles does not match "owner" or "root"'})


def test_has_claim_non_ascii():
    meta = module_env(payload({"role": "adminé"}))
    assert answer(make_view([HasClaim.of("role", "adminé")]), meta)[0] == 200
    assert answer(make_view([HasClaim.of("role", "admin")]), meta)[0] == 403


@pytest.mark.parametrize("spec", [None, (), ("",), ("a..b",), 42])
def test_has_claim_view_attribute_must_be_a_requirement(spec):
    with pytest.raises(ImproperlyConfigured, match="HasClaim"):
        answer(make_view([HasClaim], required_claim=spec), ADMIN)


def test_has_claim_factory_refuses_a_bad_name_at_once():
    with pytest.raises(ImproperlyConfigured, match="HasClaim.of"):
        HasClaim.of("act.")


# ---- all of them --------------------------------------------------------------------------------

@pytest.mark.parametrize("permission", [HasScopes.of(), InOrganization.of("org1"), HasClaim.of("sub")])
def test_anonymous_is_401_with_logto_authentication(permission):
    response = make_view([permission])(rf.get("/"))
    response.render()
    assert (response.status_code, json.loads(response.content)) == ANONYMOUS_401
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("permission", [HasScopes.of(), InOrganization.of("org1"), HasClaim.of("sub")])
def test_without_authentication_classes_anonymous_is_403(permission):
    """No authentication class ran: DRF answers 403, with our message."""
    view = make_view([permission], authentication_classes=())
    assert answer(view, USER) == (403, {"detail": "This view needs a Logto access token"})


class OtherAuthentication(BaseAuthentication):
    def authenticate(self, request):
        return LogtoUser(LogtoAuth(sub="other")), "a-session-token"


def test_another_authentication_is_not_a_logto_token():
    view = make_view([HasScopes.of()], authentication_classes=(OtherAuthentication,))
    assert answer(view, USER) == (403, {"detail": "This view needs a Logto access token"})


def test_spoofed_headers_without_trust_are_anonymous():
    forged = module_headers(payload({"roles": ["admin"]}, scope="admin"))
    assert answer(make_view([HasScopes.of("admin")]), forged) == ANONYMOUS_401
    assert answer(make_view([HasClaim.of("roles", "admin")]), forged) == ANONYMOUS_401


@override_settings(LOGTO_TRUST_CLAIM_HEADERS=True)
def test_header_mode_with_trust():
    meta = module_headers(payload({"organization_id": "orgé", "roles": ["admin"]}, scope="read:x"))
    view = make_view([HasScopes.of("read:x"), InOrganization.of(kwarg="org"), HasClaim.of("roles", "admin")])
    assert answer(view, meta, org="orgé") == (200, {"sub": "user1"})
    assert answer(view, meta, org="org") == (403, {"detail": "Token is not for organization org"})


def test_several_classes_each_keep_their_message():
    view = make_view([HasScopes.of("read:products"), HasClaim.of("roles", "admin")])
    assert answer(view, USER) == (403, {"detail": 'Claim roles does not match "admin"'})
    assert answer(view, ADMIN)[0] == 200


def test_drf_operators_compose():
    view = make_view([HasScopes.of("admin") | HasClaim.of("roles", "admin")])
    assert answer(view, ADMIN)[0] == 200
    assert answer(view, USER)[0] == 403
    view = make_view([HasScopes.of("read:products") & ~HasClaim.of("act")])
    assert answer(view, USER)[0] == 200
    assert answer(view, ADMIN)[0] == 403


def test_factories_make_named_subclasses():
    assert issubclass(HasScopes.of("a"), HasScopes)
    assert HasScopes.of("a", "b").__name__ == "HasScopes(a b)"
    assert HasScopes.of("a").scopes == ("a",)
    assert HasScopes.scopes is None
