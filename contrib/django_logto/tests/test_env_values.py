"""Issue 9, item 14: the module's values read back exactly as the module wrote them.

WSGI hands Django every environment value as the variable's bytes decoded as
latin-1 (PEP 3333); the module writes UTF-8 (its values come from the token's
JSON). Scopes are split on single spaces and audiences are taken whole from
the payload, as the module does; a value that cannot be read is never turned
into an identity.
"""

import json
import logging

import pytest
from django.test import RequestFactory

from django_logto import LogtoAuth

from .tokens import API, MODEL1_USER, MODEL2_ORG, module_env, payload, wsgi

rf = RequestFactory()


def auth_for(meta):
    return LogtoAuth.from_meta(rf.get("/api/", **meta).META)


def test_non_ascii_sub_reads_as_the_token_wrote_it():
    auth = auth_for(module_env(payload(sub="usér-ß-日本")))
    assert auth.sub == "usér-ß-日本"
    assert auth.to_dict()["sub"] == "usér-ß-日本"


def test_every_exported_value_is_utf8_decoded():
    claims = payload({"organization_id": "orgé"}, client_id="appé", jti="jtié",
                     iss="https://tenant.logto.app/oïdc", scope="lire:produits écrire:produits",
                     aud="https://api.example.com/é")
    auth = auth_for(module_env(claims))
    assert auth.client_id == "appé"
    assert auth.organization_id == "orgé"
    assert auth.jti == "jtié"
    assert auth.issuer == "https://tenant.logto.app/oïdc"
    assert auth.scopes == ["lire:produits", "écrire:produits"]
    assert auth.audience == ["https://api.example.com/é"]
    assert auth.in_organization("orgé")
    assert auth.has_scopes("écrire:produits")


def test_claims_json_is_utf8_decoded():
    claims = payload({"name": "Zoë Ñandú", "roles": ["adminé"]})
    auth = auth_for(module_env(claims))
    assert auth.claims["name"] == "Zoë Ñandú"
    assert auth.claims["roles"] == ["adminé"]


@pytest.mark.parametrize("variable", ["LOGTO_SUB", "LOGTO_SCOPES", "LOGTO_CLIENT_ID",
                                      "LOGTO_ORGANIZATION_ID", "LOGTO_CLAIMS"])
def test_a_value_that_is_not_utf8_makes_the_request_anonymous(variable, caplog):
    meta = module_env(payload({"organization_id": "org1"}))
    # Bytes 0xC3 0x28: not UTF-8. The module never writes them; if they
    # appear, something else wrote the variable and no identity is derived.
    meta[variable] = meta[variable] + "\xc3("
    if variable == "LOGTO_SUB":
        meta["REMOTE_USER"] = meta["LOGTO_SUB"]
    with caplog.at_level(logging.WARNING, logger="django_logto"):
        assert auth_for(meta) is None
    assert any(variable in record.getMessage() and record.levelno == logging.WARNING
               for record in caplog.records)


def test_a_value_that_is_not_a_pep3333_string_makes_the_request_anonymous(caplog):
    """Characters above U+00FF cannot come from a WSGI server's latin-1 decoding."""
    meta = module_env(MODEL1_USER)
    meta["LOGTO_SUB"] = meta["REMOTE_USER"] = "user\u0100"
    with caplog.at_level(logging.WARNING, logger="django_logto"):
        assert auth_for(meta) is None
    assert "LOGTO_SUB" in caplog.text


def test_scopes_split_on_single_spaces_only():
    """A tab is part of a scope for the module (it splits on ' '), not a separator."""
    auth = auth_for(module_env(payload(scope="read:a\tb write:c")))
    assert auth.scopes == ["read:a\tb", "write:c"]
    assert not auth.has_scopes("b")
    assert not auth.has_scopes("read:a")
    assert auth.has_scopes("read:a\tb", "write:c")


@pytest.mark.parametrize("separator", ["\n", "\r", "\x0b", "\x0c", "\u00a0", "\x85"])
def test_other_whitespace_never_splits_a_scope(separator):
    auth = auth_for(module_env(payload(scope="admin%sread:x" % separator)))
    assert auth.scopes == ["admin%sread:x" % separator]
    assert not auth.has_scopes("admin")


def test_empty_scope_items_are_dropped_as_the_module_drops_them():
    meta = module_env(MODEL1_USER)
    meta["LOGTO_SCOPES"] = "  read:products   write:products "
    assert auth_for(meta).scopes == ["read:products", "write:products"]


def test_an_audience_with_a_space_stays_whole():
    auth = auth_for(module_env(payload(aud="https://api.example.com/a b")))
    assert auth.audience == ["https://api.example.com/a b"]


def test_an_audience_cannot_be_split_into_an_organization_audience():
    """Splitting LOGTO_AUDIENCE would make 'x urn:logto:organization:victim' two
    audiences, one of them a model 2 org audience the token was never issued for."""
    auth = auth_for(module_env(payload(aud="x urn:logto:organization:victim")))
    assert auth.audience == ["x urn:logto:organization:victim"]
    assert not auth.in_organization("victim")


def test_audiences_come_from_the_payload_array():
    auth = auth_for(module_env(payload(aud=[API, "urn:logto:organization:o 1", "b c"])))
    assert auth.audience == [API, "urn:logto:organization:o 1", "b c"]
    assert auth.in_organization("o 1")
    assert not auth.in_organization("o")


def test_audience_is_empty_when_the_payload_has_none():
    auth = auth_for(module_env(payload(aud=None)))
    assert auth.audience == []


@pytest.mark.parametrize("aud", [42, {"a": 1}, [API, 7], None], ids=["number", "object",
                                                                      "array-with-number", "null"])
def test_an_audience_of_the_wrong_type_makes_the_request_anonymous(aud):
    """The module refuses such tokens; claims that disagree with it are not trusted."""
    meta = module_env(MODEL1_USER)
    meta["LOGTO_CLAIMS"] = wsgi(json.dumps({"sub": "user1", "aud": aud}))
    assert auth_for(meta) is None


def test_claims_that_are_not_json_make_the_request_anonymous(caplog):
    meta = module_env(MODEL1_USER)
    meta["LOGTO_CLAIMS"] = "{not json"
    with caplog.at_level(logging.WARNING, logger="django_logto"):
        assert auth_for(meta) is None
    assert "LOGTO_CLAIMS" in caplog.text


@pytest.mark.parametrize("claims", ['["user1"]', '"user1"', "null", '{"sub": "user1", "sub": "x"}',
                                    '{"sub": "user1", "n": NaN}'],
                         ids=["array", "string", "null", "duplicate-member", "nan"])
def test_claims_that_are_not_a_plain_json_object_make_the_request_anonymous(claims):
    meta = module_env(MODEL1_USER)
    meta["LOGTO_CLAIMS"] = claims
    assert auth_for(meta) is None


def test_claims_whose_sub_differs_make_the_request_anonymous(caplog):
    """LOGTO_CLAIMS and LOGTO_SUB come from the same payload: a mismatch means
    something other than the module wrote one of them."""
    meta = module_env(MODEL1_USER)
    meta["LOGTO_CLAIMS"] = wsgi(json.dumps(dict(MODEL1_USER, sub="admin")))
    with caplog.at_level(logging.WARNING, logger="django_logto"):
        assert auth_for(meta) is None
    assert "sub" in caplog.text


def test_missing_claims_make_the_request_anonymous():
    """The module always exports LOGTO_CLAIMS with LOGTO_SUB."""
    meta = module_env(MODEL1_USER)
    del meta["LOGTO_CLAIMS"]
    assert auth_for(meta) is None


def test_an_expiry_that_is_not_a_number_makes_the_request_anonymous():
    meta = module_env(MODEL1_USER)
    meta["LOGTO_EXPIRES_AT"] = "soon"
    assert auth_for(meta) is None


def test_model2_token_with_non_ascii_org_in_audience():
    auth = auth_for(module_env(dict(MODEL2_ORG, aud="urn:logto:organization:orgé")))
    assert auth.organization_id == "orgé"
    assert auth.in_organization("orgé")
