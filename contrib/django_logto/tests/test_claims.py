"""require_claim() and ClaimRequirement: the semantics of `Require logto-claim`.

Matching, non-matching and wrongly typed claims; dotted paths; presence;
401 when anonymous, 403 naming the failed requirement.
"""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse
from django.test import RequestFactory

from django_logto import ClaimRequirement, LogtoAuth, require_claim

from .tokens import MODEL1_USER, module_env, payload

rf = RequestFactory()


def ok_view(request, **kwargs):
    return JsonResponse({"ok": True})


def call(view, claims):
    return view(rf.get("/", **module_env(payload(claims))))


def body(response):
    return json.loads(response.content)


# ---- values ---------------------------------------------------------------------------

@pytest.mark.parametrize("claims, values, expected", [
    # a string claim equals one value
    ({"role": "admin"}, ("admin",), True),
    ({"role": "admin"}, ("owner", "admin"), True),
    ({"role": "admin"}, ("Admin",), False),
    ({"role": "admin"}, ("admin ",), False),
    ({"role": ""}, ("",), True),
    ({"role": "42"}, ("42",), True),
    ({"role": "true"}, ("true",), True),
    # an array claim contains one value
    ({"roles": ["reader", "admin"]}, ("admin",), True),
    ({"roles": ["reader", "admin"]}, ("owner", "reader"), True),
    ({"roles": ["reader"]}, ("admin",), False),
    ({"roles": []}, ("admin",), False),
    ({"roles": [1, 2]}, ("2",), True),
    ({"roles": [True]}, ("true",), True),
    ({"roles": [1.5]}, ("1.5",), True),
    ({"roles": ["x", ["admin"]]}, ("admin",), False),     # nested arrays are not searched
    ({"roles": [{"name": "admin"}]}, ("admin",), False),  # nor objects
    ({"roles": [None]}, ("null",), False),                 # null has no text
    # a number or boolean claim by its JSON text
    ({"level": 42}, ("42",), True),
    ({"level": 42}, ("42.0",), False),
    ({"level": 42}, ("41", "43"), False),
    ({"level": -7}, ("-7",), True),
    ({"level": 1.5}, ("1.5",), True),
    ({"level": 1.0}, ("1.0",), True),                      # json.dumps(1.0) is "1.0"
    ({"level": 1.0}, ("1",), False),
    ({"level": 1e20}, ("1e+20",), True),
    ({"verified": True}, ("true",), True),
    ({"verified": True}, ("True",), False),
    ({"verified": True}, ("1",), False),
    ({"verified": False}, ("false",), True),
    ({"verified": False}, ("0",), False),
    # wrongly typed for a value comparison: no match
    ({"role": None}, ("null",), False),
    ({"role": None}, ("None",), False),
    ({"role": {"name": "admin"}}, ("admin",), False),
    ({}, ("admin",), False),
])
def test_values(claims, values, expected):
    name = next(iter(claims)) if claims else "role"
    assert ClaimRequirement(name, *values).is_met(payload(claims)) is expected
    response = call(require_claim(name, *values)(ok_view), claims)
    assert response.status_code == (200 if expected else 403)


def test_number_and_boolean_values_are_given_as_their_json_text():
    assert ClaimRequirement("level", 42).values == ("42",)
    assert ClaimRequirement("verified", True).values == ("true",)
    assert ClaimRequirement("ratio", 0.5).values == ("0.5",)
    assert ClaimRequirement("verified", True).is_met({"verified": True})
    assert not ClaimRequirement("verified", True).is_met({"verified": "True"})


@pytest.mark.parametrize("value", [None, ["admin"], {"a": 1}, b"admin"])
def test_other_value_types_are_refused(value):
    with pytest.raises(TypeError):
        require_claim("role", value)


def test_non_ascii_values_match_after_utf8_decoding():
    assert call(require_claim("role", "adminé")(ok_view), {"role": "adminé"}).status_code == 200
    assert call(require_claim("role", "adminé")(ok_view), {"role": "admine"}).status_code == 403


# ---- paths ------------------------------------------------------------------------------

@pytest.mark.parametrize("claims, name, values, expected", [
    ({"act": {"sub": "admin1"}}, "act.sub", ("admin1",), True),
    ({"act": {"sub": "admin1"}}, "act.sub", ("admin2",), False),
    ({"act": {"sub": "admin1"}}, "act.sub", (), True),
    ({"act": {"sub": ""}}, "act.sub", (), False),
    ({"act": {}}, "act.sub", (), False),
    ({"act": "admin1"}, "act.sub", (), False),            # not an object: the path ends
    ({"act": ["sub"]}, "act.sub", (), False),
    ({"a": {"b": {"c": [1, "x"]}}}, "a.b.c", ("x",), True),
    ({"a": {"b": {"c": [1, "x"]}}}, "a.b", ("x",), False),
    ({"act.sub": "admin1"}, "act.sub", ("admin1",), False),  # a dot is always a path step
    ({}, "act.sub", (), False),
])
def test_dotted_paths(claims, name, values, expected):
    assert ClaimRequirement(name, *values).is_met(payload(claims)) is expected
    assert call(require_claim(name, *values)(ok_view), claims).status_code == (
        200 if expected else 403)


@pytest.mark.parametrize("name", ["", ".", "act.", ".sub", "a..b"])
def test_malformed_names_are_refused_when_decorating(name):
    with pytest.raises(ImproperlyConfigured, match="require_claim"):
        require_claim(name)


@pytest.mark.parametrize("name", [None, 42, ["act"]])
def test_a_name_must_be_a_string(name):
    with pytest.raises(ImproperlyConfigured):
        require_claim(name)


# ---- presence -----------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("x", True), (0, True), (0.0, True), ({}, True), ([0], True), ([None], True), (True, True),
    ("0", True), ("false", True),
    (None, False), (False, False), ("", False), ([], False),
], ids=repr)
def test_presence_without_values(value, expected):
    assert ClaimRequirement("c").is_met({"c": value}) is expected
    assert call(require_claim("c")(ok_view), {"c": value}).status_code == (200 if expected else 403)


def test_absent_claim_fails_presence():
    assert call(require_claim("act")(ok_view), {}).status_code == 403


def test_standard_claims_can_be_required():
    assert call(require_claim("client_id", "app1")(ok_view), {}).status_code == 200
    assert call(require_claim("client_id", "app2")(ok_view), {}).status_code == 403
    assert call(require_claim("exp", "1700003600")(ok_view), {}).status_code == 200


# ---- answers --------------------------------------------------------------------------------

def test_denial_is_403_json_naming_the_requirement():
    response = call(require_claim("role", "admin", "owner")(ok_view), {"role": "user"})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert body(response) == {"error": 'Claim role does not match "admin" or "owner"'}
    assert "WWW-Authenticate" not in response


def test_presence_denial_names_the_claim():
    response = call(require_claim("act.sub")(ok_view), {})
    assert body(response) == {"error": "Claim act.sub is missing or empty"}


def test_anonymous_is_401_like_the_other_decorators():
    response = require_claim("role", "admin")(ok_view)(rf.get("/"))
    assert response.status_code == 401
    assert body(response) == {"error": "Authorization header is missing"}
    assert response["WWW-Authenticate"] == "Bearer"


def test_spoofed_headers_do_not_pass():
    view = require_claim("role", "admin")(ok_view)
    forged = {"HTTP_LOGTO_SUB": "user1", "HTTP_LOGTO_CLAIMS": '{"sub":"user1","role":"admin"}',
              "HTTP_REMOTE_USER": "user1", "HTTP_AUTH_TYPE": "Logto"}
    assert view(rf.get("/", **forged)).status_code == 401


def test_uses_the_middleware_result_and_keeps_the_view_name():
    request = rf.get("/")
    request.auth = LogtoAuth(sub="u1", claims={"sub": "u1", "role": "admin"})
    view = require_claim("role", "admin")(ok_view)
    assert view(request).status_code == 200
    assert view.__name__ == "ok_view"


def test_has_claim_on_logto_auth():
    auth = LogtoAuth.from_meta(rf.get("/", **module_env(payload({"roles": ["a", "b"]}))).META)
    assert auth.has_claim("roles", "b")
    assert not auth.has_claim("roles", "c")
    assert auth.has_claim("roles")
    assert not auth.has_claim("act")
    assert auth.has_claim("sub", MODEL1_USER["sub"])
