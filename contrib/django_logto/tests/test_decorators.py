"""require_scopes / require_organization: pass, or answer 401/403 as the module does."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse
from django.test import RequestFactory

from django_logto import LogtoAuth, LogtoAuthMiddleware, require_organization, require_scopes

from .tokens import MODEL1_USER, MODEL2_ORG, MODEL3_ORG_API, module_env

rf = RequestFactory()


def ok_view(request, **kwargs):
    return JsonResponse({"ok": True, "sub": request.auth.sub if getattr(request, "auth", None) else None})


def body(response):
    return json.loads(response.content)


def assert_unauthenticated(response):
    assert response.status_code == 401
    assert body(response) == {"error": "Authorization header is missing"}
    assert response["WWW-Authenticate"] == "Bearer"
    assert response["Content-Type"] == "application/json"


def test_require_scopes_passes_with_every_scope():
    view = require_scopes("read:products", "write:products")(ok_view)
    response = view(rf.get("/", **module_env(MODEL1_USER)))
    assert response.status_code == 200
    assert body(response)["ok"] is True


def test_require_scopes_denies_a_missing_scope_with_insufficient_scope():
    view = require_scopes("read:products", "delete:products")(ok_view)
    response = view(rf.get("/", **module_env(MODEL1_USER)))
    assert response.status_code == 403
    assert body(response) == {"error": "Insufficient scope: requires read:products delete:products"}
    assert response["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", scope="read:products delete:products"')


def test_require_scopes_denies_an_empty_scope_with_403_not_401():
    view = require_scopes("invite:member")(ok_view)
    response = view(rf.get("/", **module_env(dict(MODEL2_ORG, scope=""))))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_require_scopes_answers_401_when_anonymous():
    assert_unauthenticated(require_scopes("read:products")(ok_view)(rf.get("/")))


def test_require_scopes_without_scopes_only_requires_authentication():
    view = require_scopes()(ok_view)
    assert view(rf.get("/", **module_env(dict(MODEL2_ORG, scope="")))).status_code == 200
    assert_unauthenticated(view(rf.get("/", HTTP_LOGTO_SUB="user1")))


def test_client_headers_do_not_pass_a_decorator():
    view = require_scopes("admin")(ok_view)
    assert_unauthenticated(view(rf.get("/", HTTP_LOGTO_SUB="u", HTTP_LOGTO_SCOPES="admin",
                                       HTTP_REMOTE_USER="u", HTTP_AUTH_TYPE="Logto")))


def test_decorators_work_without_the_middleware():
    request = rf.get("/", **module_env(MODEL1_USER))
    assert not hasattr(request, "auth")
    response = require_scopes("read:products")(ok_view)(request)
    assert response.status_code == 200


def test_decorators_use_the_middleware_result():
    """What the middleware attached is what the decorator judges."""
    request = rf.get("/")
    request.auth = LogtoAuth(sub="u1", scopes=["read:products"])
    assert require_scopes("read:products")(ok_view)(request).status_code == 200


def test_decorator_behind_the_middleware():
    view = LogtoAuthMiddleware(require_scopes("read:products")(ok_view))
    response = view(rf.get("/", **module_env(MODEL1_USER)))
    assert body(response) == {"ok": True, "sub": "user1"}


@pytest.mark.parametrize("payload", [MODEL2_ORG, MODEL3_ORG_API], ids=["model2", "model3"])
def test_require_organization_from_url_kwarg(payload):
    view = require_organization()(ok_view)
    request = rf.get("/orgs/org1/members/", **module_env(payload))
    assert view(request, org="org1").status_code == 200

    response = view(rf.get("/orgs/org2/members/", **module_env(payload)), org="org2")
    assert response.status_code == 403
    assert body(response) == {"error": "Token is not for organization org2"}
    assert "WWW-Authenticate" not in response


def test_require_organization_with_another_kwarg_name():
    view = require_organization(kwarg="tenant")(ok_view)
    assert view(rf.get("/", **module_env(MODEL3_ORG_API)), tenant="org1").status_code == 200
    assert view(rf.get("/", **module_env(MODEL3_ORG_API)), tenant="org9").status_code == 403


def test_require_organization_fixed():
    view = require_organization("org1")(ok_view)
    assert view(rf.get("/", **module_env(MODEL3_ORG_API))).status_code == 200
    assert view(rf.get("/", **module_env(MODEL1_USER))).status_code == 403


def test_require_organization_answers_401_when_anonymous():
    assert_unauthenticated(require_organization()(ok_view)(rf.get("/"), org="org1"))


def test_require_organization_without_the_url_kwarg_is_a_configuration_error():
    view = require_organization()(ok_view)
    with pytest.raises(ImproperlyConfigured, match="<org>"):
        view(rf.get("/", **module_env(MODEL3_ORG_API)))


def test_decorators_keep_the_view_name():
    assert require_scopes("x")(ok_view).__name__ == "ok_view"
    assert require_organization()(ok_view).__name__ == "ok_view"
