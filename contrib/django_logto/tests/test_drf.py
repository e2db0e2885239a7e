"""The Django REST framework authentication class, and the package without DRF."""

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_logto import LogtoAuth
from django_logto.drf import LogtoAuthentication, LogtoUser

from .tokens import MODEL1_M2M, MODEL3_ORG_API, module_env

rf = RequestFactory()


class WhoAmI(APIView):
    authentication_classes = [LogtoAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"user": request.user.username, "auth": request.auth.to_dict()})


def test_authenticate_returns_user_and_auth():
    user, auth = LogtoAuthentication().authenticate(Request(rf.get("/", **module_env(MODEL3_ORG_API))))
    assert isinstance(auth, LogtoAuth)
    assert auth.organization_id == "org1"
    assert isinstance(user, LogtoUser)
    assert user.username == user.pk == "user1"
    assert user.is_authenticated and not user.is_anonymous
    assert str(user) == "user1"


def test_authenticate_returns_none_when_anonymous():
    request = Request(rf.get("/", HTTP_LOGTO_SUB="user1"))
    assert LogtoAuthentication().authenticate(request) is None


def test_authenticate_header_is_bearer():
    assert LogtoAuthentication().authenticate_header(Request(rf.get("/"))) == "Bearer"


def test_apiview_round_trip():
    response = WhoAmI.as_view()(rf.get("/", **module_env(MODEL1_M2M)))
    response.render()
    assert response.status_code == 200
    assert json.loads(response.content) == {
        "user": "m2m1",
        "auth": {"sub": "m2m1", "clientId": "m2m1", "organizationId": None,
                 "scopes": [], "audience": ["https://api.example.com"]},
    }


def test_apiview_anonymous_is_401_bearer():
    response = WhoAmI.as_view()(rf.get("/", HTTP_LOGTO_SUB="user1", HTTP_REMOTE_USER="user1"))
    response.render()
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_drf_module_fails_clearly_without_rest_framework(monkeypatch):
    monkeypatch.setitem(sys.modules, "rest_framework", None)
    monkeypatch.setitem(sys.modules, "rest_framework.authentication", None)
    monkeypatch.delitem(sys.modules, "django_logto.drf")
    with pytest.raises(ImportError, match="django_logto.drf needs Django REST framework"):
        importlib.import_module("django_logto.drf")


def test_package_imports_without_rest_framework():
    """In a fresh interpreter, so this process's imported DRF does not hide a dependency."""
    contrib = Path(__file__).resolve().parents[2]
    code = ("import sys; sys.modules['rest_framework'] = None; "
            "import django_logto; print(sorted(django_logto.__all__))")
    result = subprocess.run([sys.executable, "-c", code], cwd=contrib,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "LogtoAuthMiddleware" in result.stdout
