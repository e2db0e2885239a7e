"""The Logto webhook view: signatures, each event, retention, settings, CSRF, URLs.

Payloads follow what Logto sends (packages/core/src/libraries/hook in
logto-io/logto): event, hookId, createdAt, the management API context
(path, method, status, params, matchedRoute) and data.
"""

import hashlib
import hmac
import json
import logging
import stat
import time
from datetime import datetime, timezone

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from django_logto.denylist import Change, DenyList
from django_logto.webhooks import logto_webhook, signature_is_valid

KEY = "whsk_test-signing-key"
rf = RequestFactory()


@pytest.fixture
def path(tmp_path):
    return tmp_path / "deny.json"


@pytest.fixture(autouse=True)
def webhook_settings(path):
    with override_settings(LOGTO_WEBHOOK_SIGNING_KEY=KEY, LOGTO_DENY_LIST_PATH=str(path)):
        yield


def iso(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def sign(body, key=KEY):
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def user(uid="u1", **fields):
    return dict({"id": uid, "username": "alice", "primaryEmail": "alice@example.com",
                 "isSuspended": False}, **fields)


def event(name, at=None, **fields):
    return dict({"event": name, "hookId": "hook1", "createdAt": iso(time.time() if at is None else at),
                 "userAgent": "Mozilla/5.0", "ip": "203.0.113.9"}, **fields)


def user_deleted(uid="u1", **kw):
    return event("User.Deleted", path="/users/%s" % uid, method="DELETE", status=204,
                 params={"userId": uid}, matchedRoute="/users/:userId", data=user(uid), **kw)


def suspension(uid="u1", suspended=True, **kw):
    return event("User.SuspensionStatus.Updated", path="/users/%s/is-suspended" % uid, method="PATCH",
                 status=200, params={"userId": uid}, matchedRoute="/users/:userId/is-suspended",
                 data=user(uid, isSuspended=suspended), **kw)


def membership(org="org1", method="POST", route="/organizations/:id/users", params=None, **delta):
    return event("Organization.Membership.Updated", organizationId=org, method=method, status=201,
                 path="/organizations/%s/users" % org, matchedRoute=route,
                 params=dict({"id": org}, **(params or {})), **delta)


def post(payload=None, body=None, signature=None, **extra):
    if body is None:
        body = json.dumps(payload).encode()
    if signature is None:
        signature = sign(body)
    headers = {} if signature is False else {"HTTP_LOGTO_SIGNATURE_SHA_256": signature}
    response = logto_webhook(rf.post("/logto/webhook/", data=body, content_type="application/json",
                                     **headers, **extra))
    return response.status_code, json.loads(response.content)


def denied(path):
    return DenyList(path, retention=3660).denied()


# ---- signature -------------------------------------------------------------------------------------

def test_a_signed_delivery_is_applied(path):
    status, answer = post(user_deleted("u1"))
    assert status == 200
    assert answer == {"event": "User.Deleted", "result": "applied", "changes": [
        {"kind": "sub", "value": "u1", "reason": "User.Deleted", "outcome": "denied"}]}
    assert denied(path)["sub"] == {"u1"}


@pytest.mark.parametrize("signature", [
    False,                                      # no header
    "",
    sign(b"another body"),
    sign(json.dumps(user_deleted()).encode(), key="another-key"),
    "0" * 64,
    "not hex at all",
    "sha256=" + sign(json.dumps(user_deleted()).encode()),
    "é" * 64,
], ids=["missing", "empty", "other-body", "other-key", "zeros", "garbage", "prefixed", "latin1"])
def test_a_forged_or_missing_signature_is_403_and_writes_nothing(path, signature, caplog):
    body = json.dumps(user_deleted()).encode()
    with caplog.at_level(logging.WARNING, logger="django_logto"):
        status, answer = post(body=body, signature=signature)
    assert (status, answer) == (403, {"error": "Invalid or missing logto-signature-sha-256"})
    assert not path.exists()
    assert "refused" in caplog.text
    assert KEY not in caplog.text


def test_a_forged_signature_leaves_an_existing_file_untouched(path):
    post(user_deleted("u1"))
    before = path.read_bytes()
    assert post(suspension("u1", False), signature=sign(b"x"))[0] == 403
    assert post(user_deleted("u2"), signature=False)[0] == 403
    assert path.read_bytes() == before


def test_the_signature_is_over_the_raw_body():
    """Logto signs the bytes it sends; re-serialising would change them."""
    body = b'{ "event":"User.Deleted",  "createdAt":"%s", "data":{"id":"u1"} }' % iso(time.time()).encode()
    assert post(body=body)[0] == 200


def test_hex_case_does_not_matter():
    body = json.dumps(user_deleted()).encode()
    assert post(body=body, signature=sign(body).upper())[0] == 200


def test_the_comparison_is_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((type(a), type(b)))
        return real(a, b)

    monkeypatch.setattr("django_logto.webhooks.hmac.compare_digest", spy)
    assert signature_is_valid(b"k", b"body", hmac.new(b"k", b"body", hashlib.sha256).hexdigest())
    assert not signature_is_valid(b"k", b"body", "00")
    assert calls == [(bytes, bytes), (bytes, bytes)]


# ---- User.Deleted and User.SuspensionStatus.Updated ---------------------------------------------------

def test_user_deleted_without_params_uses_data_id(path):
    payload = user_deleted("u1")
    del payload["params"]
    assert post(payload)[0] == 200
    assert denied(path)["sub"] == {"u1"}


def test_user_deleted_with_params_only(path):
    payload = user_deleted("u1")
    del payload["data"]
    assert post(payload)[0] == 200
    assert denied(path)["sub"] == {"u1"}


def test_suspension_denies_and_unsuspension_lifts(path):
    now = time.time()
    assert post(suspension("u1", True, at=now - 10))[1]["changes"][0]["outcome"] == "denied"
    assert denied(path)["sub"] == {"u1"}
    assert post(suspension("u1", False, at=now))[1]["changes"][0]["outcome"] == "allowed"
    assert denied(path)["sub"] == set()


def test_a_late_unsuspension_does_not_undo_a_newer_suspension(path):
    now = time.time()
    post(suspension("u1", True, at=now))
    status, answer = post(suspension("u1", False, at=now - 60))
    assert status == 200 and answer["changes"][0]["outcome"] == "superseded"
    assert denied(path)["sub"] == {"u1"}


def test_unsuspension_does_not_lift_a_deletion(path):
    now = time.time()
    post(user_deleted("u1", at=now - 5))
    post(suspension("u1", True, at=now - 4))
    post(suspension("u1", False, at=now))
    assert denied(path)["sub"] == {"u1"}


def test_suspension_without_the_new_status_is_ignored(path):
    payload = suspension("u1")
    del payload["data"]["isSuspended"]
    status, answer = post(payload)
    assert (status, answer["result"]) == (200, "ignored")
    assert "isSuspended" in answer["note"]
    assert not path.exists()


def test_non_ascii_user_id(path):
    post(user_deleted("usér-日本"))
    assert denied(path)["sub"] == {"usér-日本"}


@pytest.mark.parametrize("name", ["User.Deleted", "User.SuspensionStatus.Updated",
                                  "Organization.Membership.Updated"])
def test_the_consoles_test_payload_is_ignored(path, name):
    """Logto's "Send test payload": params {id: fake-id}, data {result: success}."""
    payload = event(name, path="/fake-path/:id", method="POST", status=200,
                    params={"id": "fake-id"}, data={"result": "success"})
    status, answer = post(payload)
    assert (status, answer["result"], answer["changes"]) == (200, "ignored", [])
    assert "console test" in answer["note"]
    assert not path.exists()


# ---- Organization.Membership.Updated ------------------------------------------------------------------

def test_removed_users_and_applications_from_the_delta(path):
    payload = membership(method="PUT", removedUserIds=["u1", "u2"], removedApplicationIds=["m2m1"],
                         addedUserIds=["u3"])
    status, answer = post(payload)
    assert status == 200
    assert {(c["kind"], c["value"], c["outcome"]) for c in answer["changes"]} == {
        ("sub", "u1", "denied"), ("sub", "u2", "denied"), ("client_id", "m2m1", "denied"),
        ("sub", "u3", "allowed")}
    assert {c["reason"] for c in answer["changes"]} == {"Organization.Membership.Updated:org1"}
    assert denied(path) == {"sub": {"u1", "u2"}, "client_id": {"m2m1"}, "jti": set()}


def test_delete_of_one_member_without_the_delta(path):
    """Logto versions without the delta still name the removed member in params."""
    payload = membership(method="DELETE", route="/organizations/:id/users/:userId",
                         params={"userId": "u1"})
    assert post(payload)[0] == 200
    payload = membership(method="DELETE", route="/organizations/:id/applications/:applicationId",
                         params={"applicationId": "m2m1"})
    assert post(payload)[0] == 200
    assert denied(path) == {"sub": {"u1"}, "client_id": {"m2m1"}, "jti": set()}


def test_delete_of_something_else_is_not_a_removal(path):
    """A route that is not a member's DELETE names no removed member, whatever its params."""
    payload = membership(method="DELETE", route="/organizations/:id/users/:userId/roles/:roleId",
                         params={"userId": "u1", "roleId": "r1"})
    status, answer = post(payload)
    assert status == 200 and answer["changes"] == []
    assert not path.exists()


def test_added_back_lifts_only_the_membership_reason(path):
    now = time.time()
    post(membership(method="DELETE", route="/organizations/:id/users/:userId",
                    params={"userId": "u1"}, at=now - 10))
    post(membership(method="DELETE", route="/organizations/:id/users/:userId",
                    params={"userId": "u2"}, at=now - 10))
    post(suspension("u2", True, at=now - 5))
    post(membership(addedUserIds=["u1", "u2"], at=now))
    assert denied(path)["sub"] == {"u2"}


def test_removal_from_one_org_and_re_adding_to_another_keeps_the_denial(path):
    """Reasons are per organization: joining org2 says nothing about org1."""
    now = time.time()
    post(membership("org1", removedUserIds=["u1"], at=now - 10))
    post(membership("org2", addedUserIds=["u1"], at=now))
    assert denied(path)["sub"] == {"u1"}


def test_a_replacement_that_does_not_name_the_removed_members_is_logged(path, caplog):
    with caplog.at_level(logging.WARNING, logger="django_logto"):
        status, answer = post(membership(method="PUT"))
    assert (status, answer["result"]) == (200, "ignored")
    assert answer["note"] == "members may have been removed, but the payload does not name them"
    assert "organization org1" in caplog.text
    assert not path.exists()


def test_an_addition_without_the_delta_is_quietly_ignored(path, caplog):
    with caplog.at_level(logging.WARNING, logger="django_logto"):
        status, answer = post(membership(method="POST"))
    assert (status, answer["result"], caplog.text) == (200, "ignored", "")


@override_settings(LOGTO_WEBHOOK_MEMBERSHIP_REMOVAL="ignore")
def test_membership_removal_can_be_ignored(path):
    status, answer = post(membership(method="PUT", removedUserIds=["u1"]))
    assert (status, answer["result"]) == (200, "ignored")
    assert not path.exists()


@pytest.mark.parametrize("change", [
    {"removedUserIds": "u1"},
    {"removedUserIds": [1]},
    {"addedApplicationIds": [""]},
])
def test_a_malformed_membership_payload_is_400(path, change):
    payload = membership(method="PUT", removedUserIds=["u9"])
    payload.update(change)
    status, answer = post(payload)
    assert status == 400 and "Organization.Membership.Updated" in answer["error"]
    assert not path.exists()


# ---- other events and bodies ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["PostSignIn", "User.Created", "User.Data.Updated", "Role.Scopes.Updated",
                                  "Organization.Deleted", "Some.Future.Event"])
def test_other_events_are_200_and_ignored(path, name):
    payload = event(name, data=user())
    del payload["createdAt"]
    assert post(payload) == (200, {"event": name, "result": "ignored", "changes": [],
                                   "note": "django_logto does not act on this event"})
    assert not path.exists()


@pytest.mark.parametrize("body", [b"not json", b"[]", b'"User.Deleted"', b"{}", b'{"event": 7}',
                                  b"\xff\xfe"])
def test_a_signed_body_that_is_not_a_payload_is_400(path, body):
    status, answer = post(body=body)
    assert status == 400 and "error" in answer
    assert not path.exists()


@pytest.mark.parametrize("created", [None, 1767225600, "yesterday", ""])
def test_a_handled_event_needs_created_at(path, created):
    payload = user_deleted()
    payload["createdAt"] = created
    status, answer = post(payload)
    assert status == 400 and "createdAt" in answer["error"]
    assert not path.exists()


def test_created_at_without_a_zone_is_utc(path):
    payload = user_deleted()
    payload["createdAt"] = datetime.now(timezone.utc).replace(tzinfo=None).isoformat()
    assert post(payload)[1]["changes"][0]["outcome"] == "denied"


def test_only_post(path):
    response = logto_webhook(rf.get("/logto/webhook/"))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert json.loads(response.content)["error"].startswith("Method GET not allowed")


# ---- retention ----------------------------------------------------------------------------------------------

def test_each_delivery_prunes_expired_entries(path):
    DenyList(path, retention=3660, clock=lambda: time.time() - 4000).apply(
        [Change("sub", "old", "User.Deleted", True, time.time() - 4000)])
    assert denied(path)["sub"] == {"old"}
    post(user_deleted("new"))
    assert denied(path)["sub"] == {"new"}


def test_an_event_older_than_the_token_lifetime_is_stale(path):
    status, answer = post(user_deleted("u1", at=time.time() - 3700))
    assert answer["changes"][0]["outcome"] == "stale"
    assert denied(path)["sub"] == set()


@override_settings(LOGTO_TOKEN_LIFETIME=60, LOGTO_CLOCK_SKEW=0)
def test_the_retention_follows_the_settings(path):
    assert post(user_deleted("u1", at=time.time() - 120))[1]["changes"][0]["outcome"] == "stale"
    assert post(user_deleted("u2", at=time.time() - 30))[1]["changes"][0]["outcome"] == "denied"


@override_settings(LOGTO_TOKEN_LIFETIME=3600, LOGTO_CLOCK_SKEW=60)
def test_the_retention_covers_the_modules_clock_skew(path):
    """A token issued just before the event is accepted until exp + LogtoClockSkew."""
    assert post(user_deleted("u1", at=time.time() - 3630))[1]["changes"][0]["outcome"] == "denied"


# ---- the file and the settings -----------------------------------------------------------------------------

def test_the_file_is_readable_by_httpd(path):
    post(user_deleted())
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


@override_settings(LOGTO_DENY_LIST_MODE=0o640)
def test_the_file_mode_setting(path):
    post(user_deleted())
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_an_unreadable_deny_list_is_500_and_left_alone(path, caplog):
    path.write_text('{"sub": "not an array"}')
    with caplog.at_level(logging.ERROR, logger="django_logto"):
        status, answer = post(user_deleted())
    assert (status, answer) == (500, {"error": "The deny list cannot be updated"})
    assert path.read_text() == '{"sub": "not an array"}'
    assert "sub is not an array" in caplog.text


def test_an_unwritable_directory_is_500(tmp_path):
    with override_settings(LOGTO_DENY_LIST_PATH=str(tmp_path / "missing-dir" / "deny.json")):
        assert post(user_deleted())[0] == 500


@pytest.mark.parametrize("name", ["LOGTO_WEBHOOK_SIGNING_KEY", "LOGTO_DENY_LIST_PATH"])
def test_missing_settings_are_a_configuration_error(name):
    with override_settings(**{name: None}):
        with pytest.raises(ImproperlyConfigured, match=name):
            post(user_deleted())


@pytest.mark.parametrize("name, value", [("LOGTO_TOKEN_LIFETIME", "3600"), ("LOGTO_CLOCK_SKEW", -1),
                                         ("LOGTO_DENY_LIST_MODE", "644"),
                                         ("LOGTO_WEBHOOK_MEMBERSHIP_REMOVAL", "revoke")])
def test_bad_settings_are_a_configuration_error(name, value):
    payload = membership(method="PUT", removedUserIds=["u1"])
    with override_settings(**{name: value}):
        with pytest.raises(ImproperlyConfigured, match=name):
            post(payload)


# ---- through Django: URLs and CSRF -------------------------------------------------------------------------

@override_settings(ROOT_URLCONF="django_logto.tests.urls",
                   MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware",
                               "django_logto.middleware.LogtoAuthMiddleware"])
def test_through_the_url_include_with_csrf_enforced(path):
    assert reverse("django_logto:webhook") == "/logto/webhook/"
    client = Client(enforce_csrf_checks=True)
    body = json.dumps(user_deleted("u1")).encode()
    response = client.post("/logto/webhook/", data=body, content_type="application/json",
                           HTTP_LOGTO_SIGNATURE_SHA_256=sign(body))
    assert response.status_code == 200
    assert denied(path)["sub"] == {"u1"}
    response = client.post("/logto/webhook/", data=body, content_type="application/json")
    assert response.status_code == 403
    assert response.json() == {"error": "Invalid or missing logto-signature-sha-256"}

