"""Claims from request headers (`LogtoPassClaimsAs headers`), for backends behind
mod_proxy_http: read only when LOGTO_TRUST_CLAIM_HEADERS is on, and strictly."""

import base64
import io
import json
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIRequest
from django.http import JsonResponse
from django.test import RequestFactory, override_settings

from django_logto import LogtoAuth, LogtoAuthMiddleware, get_auth, require_claim, require_scopes

from .tokens import (MODEL1_M2M, MODEL1_USER, MODEL2_ORG, MODEL3_ORG_API, b64url, module_env,
                     module_headers, payload, wsgi)

rf = RequestFactory()
trusted = override_settings(LOGTO_TRUST_CLAIM_HEADERS=True)
MODELS = [MODEL1_USER, MODEL1_M2M, MODEL2_ORG, MODEL3_ORG_API]
MODEL_IDS = ["model1-user", "model1-m2m", "model2-org-token", "model3-org-api"]


def seen_by_middleware(meta):
    seen = {}

    def view(request):
        seen["auth"] = request.auth
        return JsonResponse({})

    LogtoAuthMiddleware(view)(rf.get("/api/", **meta))
    return seen["auth"]


def attributes(auth):
    return (auth.to_dict(), auth.issuer, auth.expires_at, auth.jti, auth.claims, auth.is_m2m)


# ---- trust off: headers do nothing ----------------------------------------------------------

@pytest.mark.parametrize("claims", MODELS, ids=MODEL_IDS)
def test_headers_are_ignored_without_trust(claims):
    """Exactly what the module would send, yet with trust off it is only a client's claim."""
    meta = module_headers(claims)
    assert seen_by_middleware(meta) is None
    assert get_auth(rf.get("/", **meta)) is None


def test_a_spoofed_header_does_nothing_without_trust():
    forged = module_headers(payload({"role": "admin"}, sub="admin", scope="admin:all"))
    request = rf.get("/", **forged)
    assert require_scopes("admin:all")(lambda r: JsonResponse({}))(request).status_code == 401
    assert require_claim("role", "admin")(lambda r: JsonResponse({}))(request).status_code == 401


def test_spoofed_headers_cannot_change_an_env_authenticated_request():
    meta = dict(module_env(MODEL1_USER), **module_headers(payload(sub="admin", scope="admin")))
    for settings in (override_settings(), trusted):
        with settings:
            auth = seen_by_middleware(meta)
            assert (auth.sub, auth.scopes) == ("user1", ["read:products", "write:products"])


# ---- trust on: the same LogtoAuth as from the environment ------------------------------------

@trusted
@pytest.mark.parametrize("claims", MODELS, ids=MODEL_IDS)
def test_headers_give_what_the_environment_gives(claims):
    from_headers = seen_by_middleware(module_headers(claims))
    from_env = LogtoAuth.from_meta(rf.get("/", **module_env(claims)).META)
    assert attributes(from_headers) == attributes(from_env)


@trusted
def test_non_ascii_values_in_header_mode():
    claims = payload({"organization_id": "orgé", "name": "Zoë"}, sub="usér-日本", scope="écrire:x",
                     aud="https://api.example.com/é")
    auth = seen_by_middleware(module_headers(claims))
    assert auth.sub == "usér-日本"
    assert auth.organization_id == "orgé"
    assert auth.scopes == ["écrire:x"]
    assert auth.audience == ["https://api.example.com/é"]
    assert auth.claims["name"] == "Zoë"


@trusted
def test_values_the_module_omits_come_from_the_claims():
    """A tab in the scope: the module omits Logto-Scopes, Logto-Claims has it all."""
    claims = payload(scope="read:a\tb write:c", client_id="app\x01")
    meta = module_headers(claims)
    assert "HTTP_LOGTO_SCOPES" not in meta and "HTTP_LOGTO_CLIENT_ID" not in meta
    auth = seen_by_middleware(meta)
    assert auth.scopes == ["read:a\tb", "write:c"]
    assert auth.client_id == "app\x01"


@trusted
def test_per_claim_headers_other_than_sub_are_not_read():
    """Everything but the sub comes from Logto-Claims, which the module always sends whole."""
    meta = module_headers(MODEL1_USER)
    meta["HTTP_LOGTO_SCOPES"] = "admin"
    meta["HTTP_LOGTO_ORGANIZATION_ID"] = "org9"
    meta["HTTP_LOGTO_AUDIENCE"] = "urn:logto:organization:org9"
    auth = seen_by_middleware(meta)
    assert auth.scopes == ["read:products", "write:products"]
    assert not auth.in_organization("org9")


@trusted
def test_a_sub_the_module_cannot_send_is_anonymous():
    """A sub holding a control character: the module omits Logto-Sub."""
    assert seen_by_middleware(module_headers(payload(sub="user\n1"))) is None


@trusted
def test_expiry_and_organization_are_derived_like_the_module():
    auth = seen_by_middleware(module_headers(payload(exp=1700003600.9, aud=["x", "urn:logto:organization:o2"])))
    assert auth.expires_at == 1700003600
    assert auth.organization_id == "o2"


# ---- trust on: what is not exactly the module's is anonymous ---------------------------------

def _claims_header(text):
    return b64url(text)


GOOD = json.dumps(MODEL1_USER)


@trusted
@pytest.mark.parametrize("claims_header", [
    _claims_header(GOOD) + "=",                                        # padded
    _claims_header(GOOD) + "==",
    _claims_header(GOOD).replace("-", "+").replace("_", "/") + "+/",   # base64, not base64url
    _claims_header(GOOD)[:-1] + "!",                                    # foreign character
    _claims_header(GOOD) + "A",                                         # length 4n+1
    " " + _claims_header(GOOD),
    _claims_header(GOOD) + "\n",
    "eyJzdWIiOiJ1c2VyMSJ9.sig",                                         # a JWS-like value
    "",
    _claims_header("not json"),
    _claims_header('["user1"]'),
    _claims_header('"user1"'),
    _claims_header('{"sub": "user1", "sub": "user1"}'),                 # duplicate member
    _claims_header('{"sub": "user1", "exp": NaN}'),
    _claims_header(json.dumps(dict(MODEL1_USER, sub="admin"))),         # sub mismatch
    _claims_header(json.dumps({k: v for k, v in MODEL1_USER.items() if k != "sub"})),
    _claims_header(json.dumps(dict(MODEL1_USER, sub=["user1"]))),
    _claims_header(json.dumps(dict(MODEL1_USER, client_id=7))),         # wrong type
    _claims_header(json.dumps(dict(MODEL1_USER, aud=[1]))),
    _claims_header(json.dumps(dict(MODEL1_USER, scope=["read:products"]))),
    _claims_header(json.dumps(dict(MODEL1_USER, exp="1700003600"))),
    b64url(b"\xff\xfe{}"),                                               # not UTF-8
], ids=["padded", "padded2", "std-alphabet", "foreign-char", "length-4n+1", "leading-space",
        "trailing-newline", "jws", "empty", "not-json", "array", "string", "duplicate", "nan",
        "sub-mismatch", "no-sub", "sub-not-string", "client-id-number", "aud-number",
        "scope-array", "exp-string", "not-utf8"])
def test_claims_header_must_be_exactly_the_modules(claims_header, caplog):
    meta = module_headers(MODEL1_USER)
    meta["HTTP_LOGTO_CLAIMS"] = claims_header
    with caplog.at_level(logging.WARNING, logger="django_logto"):
        assert seen_by_middleware(meta) is None
    assert "treated as anonymous" in caplog.text


@trusted
def test_non_canonical_trailing_bits_are_refused():
    claims = dict(MODEL1_USER, pad="")
    while len(json.dumps(claims)) % 3 == 0:  # a length whose encoding has spare bits
        claims["pad"] += "x"
    text = json.dumps(claims)
    good = b64url(text)
    assert len(good) % 4 in (2, 3)
    # Flip the lowest bit of the last character: a bit the decoder ignores
    # (2 or 4 of them are unused), so the same bytes under another spelling.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    forged = good[:-1] + alphabet[alphabet.index(good[-1]) ^ 1]
    assert base64.urlsafe_b64decode(forged + "=" * (-len(forged) % 4)) == text.encode()
    assert forged != good
    meta = module_headers(claims)
    assert seen_by_middleware(meta).claims == claims
    meta["HTTP_LOGTO_CLAIMS"] = forged
    assert seen_by_middleware(meta) is None


@trusted
@pytest.mark.parametrize("missing", ["HTTP_LOGTO_SUB", "HTTP_LOGTO_CLAIMS"])
def test_both_sub_and_claims_are_needed(missing):
    meta = module_headers(MODEL1_USER)
    del meta[missing]
    assert seen_by_middleware(meta) is None


@trusted
def test_a_sub_header_that_is_not_utf8_is_anonymous():
    meta = module_headers(MODEL1_USER)
    meta["HTTP_LOGTO_SUB"] = "user1\xc3("
    assert seen_by_middleware(meta) is None


@trusted
def test_a_joined_sub_header_is_anonymous():
    """Servers join repeated headers with ','; the sub then differs from the claims."""
    meta = module_headers(MODEL1_USER)
    meta["HTTP_LOGTO_SUB"] = "user1,admin"
    assert seen_by_middleware(meta) is None


@trusted
def test_no_headers_is_simply_anonymous(caplog):
    with caplog.at_level(logging.WARNING, logger="django_logto"):
        assert seen_by_middleware({}) is None
    assert caplog.text == ""


# ---- ASGI: the raw header names are checked too ----------------------------------------------

def asgi_request(headers):
    scope = {"type": "http", "method": "GET", "path": "/api/", "query_string": b"",
             "headers": [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]}
    return ASGIRequest(scope, io.BytesIO())


def module_header_list(claims):
    """(name, value) pairs as the module sends them, from module_headers()' META."""
    pairs = []
    for key, value in module_headers(claims).items():
        name = key[len("HTTP_"):].replace("_", "-").title()
        pairs.append((name, value))
    return pairs


@trusted
def test_asgi_request_with_the_modules_headers_is_authenticated():
    auth = LogtoAuth.from_request(asgi_request(module_header_list(MODEL3_ORG_API)))
    assert auth.sub == "user1" and auth.organization_id == "org1"


@trusted
@pytest.mark.parametrize("name", ["Logto_Sub", "logto_sub", "Logto_Claims", "LOGTO_SCOPES",
                                  "Logto_Client-Id"])
def test_asgi_underscore_spelling_is_refused(name, caplog):
    """'Logto_Sub' reaches META as HTTP_LOGTO_SUB like 'Logto-Sub', but the module
    only strips its own spelling: an underscore spelling is a client's."""
    headers = [(n, v) for n, v in module_header_list(MODEL1_USER)
               if n.lower() != name.lower().replace("_", "-")]
    headers.append((name, "admin"))
    with caplog.at_level(logging.WARNING, logger="django_logto"):
        assert LogtoAuth.from_request(asgi_request(headers)) is None
    assert "'_'" in caplog.text


@trusted
def test_asgi_underscore_spelling_without_the_module_is_refused():
    """The dangerous case: no token, the module set nothing, a client sends both."""
    forged = b64url(json.dumps({"sub": "admin"}))
    request = asgi_request([("Logto_Sub", "admin"), ("Logto_Claims", forged)])
    assert request.META["HTTP_LOGTO_SUB"] == "admin"
    assert LogtoAuth.from_request(request) is None


@trusted
def test_asgi_repeated_claim_header_is_refused():
    headers = module_header_list(MODEL1_USER) + [("Logto-Sub", "user1")]
    assert LogtoAuth.from_request(asgi_request(headers)) is None


@trusted
def test_asgi_unrelated_underscore_headers_are_fine():
    headers = module_header_list(MODEL1_USER) + [("X_Custom", "1"), ("Logtoo_Sub", "x")]
    assert LogtoAuth.from_request(asgi_request(headers)).sub == "user1"


# ---- settings ----------------------------------------------------------------------------------

@override_settings(LOGTO_TRUST_CLAIM_HEADERS=True, LOGTO_CLAIM_HEADER_PREFIX="X-Auth-")
def test_custom_prefix_matches_logtoclaimheaderprefix():
    auth = seen_by_middleware(module_headers(MODEL3_ORG_API, prefix="X-Auth-"))
    assert auth.organization_id == "org1"
    assert seen_by_middleware(module_headers(MODEL3_ORG_API)) is None


@pytest.mark.parametrize("prefix", ["Logto_", "", "Logto: ", "Lögto-", None, 7])
def test_an_ambiguous_or_invalid_header_prefix_is_refused(prefix):
    with override_settings(LOGTO_TRUST_CLAIM_HEADERS=True, LOGTO_CLAIM_HEADER_PREFIX=prefix):
        with pytest.raises(ImproperlyConfigured, match="LOGTO_CLAIM_HEADER_PREFIX"):
            seen_by_middleware(module_headers(MODEL1_USER))


@pytest.mark.parametrize("value", ["True", 1, "yes"])
def test_trust_must_be_a_boolean(value):
    """A string "False" would be truthy: refuse anything but a bool."""
    with override_settings(LOGTO_TRUST_CLAIM_HEADERS=value):
        with pytest.raises(ImproperlyConfigured, match="LOGTO_TRUST_CLAIM_HEADERS"):
            seen_by_middleware({})


@trusted
def test_drf_authentication_reads_headers_when_trusted():
    from rest_framework.request import Request

    from django_logto.drf import LogtoAuthentication
    user, auth = LogtoAuthentication().authenticate(Request(rf.get("/", **module_headers(MODEL1_M2M))))
    assert user.username == "m2m1" and auth.is_m2m


def test_drf_authentication_ignores_headers_without_trust():
    from rest_framework.request import Request

    from django_logto.drf import LogtoAuthentication
    assert LogtoAuthentication().authenticate(Request(rf.get("/", **module_headers(MODEL1_M2M)))) is None


def test_wsgi_helper_is_latin1_of_utf8():
    assert wsgi("é") == "\xc3\xa9"
