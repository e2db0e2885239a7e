"""A view for Logto's webhooks that keeps the module's deny list (LogtoDenyList).

Logto's JWT access tokens cannot be revoked: a deleted or suspended user, or
a member removed from an organization, keeps a working token until it
expires (an hour by default). Logto tells us about those events with a
signed webhook; this view turns them into deny-list entries, which the
module applies to every request within 2 seconds, cached validations
included.

What Logto sends (packages/core/src/libraries/hook in logto-io/logto): a
POST whose JSON body has `event`, `hookId`, `createdAt` (ISO 8601) and, for
data events, the management API context (`method`, `matchedRoute`,
`params`, `status`) and `data` (the response body, e.g. the user). The
`logto-signature-sha-256` header is the hex HMAC-SHA256 of the raw body
with the webhook's signing key. Logto retries on 5xx only.

Events handled:

- `User.Deleted`: deny the user's `sub` (data.id, else params.userId).
- `User.SuspensionStatus.Updated`: deny the `sub` when data.isSuspended is
  true, lift that denial when it is false. Events are ordered by createdAt, so
  a late or replayed "unsuspended" cannot undo a newer suspension.
- `Organization.Membership.Updated`: see _membership_changes(). A deny list
  only knows sub, client_id and jti, not "sub in this organization", so a
  member removed from one organization is refused everywhere behind the
  module until the entry expires (LOGTO_TOKEN_LIFETIME + LOGTO_CLOCK_SKEW)
  or they are added back; LOGTO_WEBHOOK_MEMBERSHIP_REMOVAL = "ignore" turns
  that off. The README says why this is the default and what it costs.

Anything else is answered 200 and ignored, so one webhook may carry more
events than this view handles.
"""

import hmac
import json
import logging
from datetime import datetime, timezone
from hashlib import sha256

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import conf
from .denylist import Change, DenyList, DenyListError

logger = logging.getLogger("django_logto")

SIGNATURE_META = "HTTP_LOGTO_SIGNATURE_SHA_256"
MEMBERSHIP_REASON = "Organization.Membership.Updated:%s"


class _BadPayload(ValueError):
    """A signed body this view cannot act on: 400, nothing written."""


def signature_is_valid(key, body, header):
    """Whether header is the hex HMAC-SHA256 of the raw body under key.

    Compared in constant time (hmac.compare_digest), as bytes so that any
    header value compares without raising. Hex case is not significant.
    """
    if not header:
        return False
    expected = hmac.new(key, body, sha256).hexdigest().encode("ascii")
    try:
        provided = header.strip().lower().encode("latin-1")
    except UnicodeError:
        return False
    return hmac.compare_digest(expected, provided)


def _string(value):
    return value if isinstance(value, str) and value else None


def _string_list(payload, name):
    value = payload.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(_string(item) for item in value):
        raise _BadPayload("%s is not an array of ids" % name)
    return value


def _event_time(payload):
    """createdAt in seconds since the epoch; Logto always sends it (ISO 8601, UTC)."""
    created = payload.get("createdAt")
    if not isinstance(created, str):
        raise _BadPayload("createdAt is missing")
    try:
        moment = datetime.fromisoformat(created)
    except ValueError:
        raise _BadPayload("createdAt is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _user_id(payload):
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    params = payload.get("params") if isinstance(payload.get("params"), dict) else {}
    return _string(data.get("id")) or _string(params.get("userId"))


def _user_deleted(payload, event_at):
    user = _user_id(payload)
    if user is None:
        return [], "no user id in the payload (a console test?)"
    return [Change("sub", user, "User.Deleted", True, event_at)], None


def _suspension_updated(payload, event_at):
    user = _user_id(payload)
    if user is None:
        return [], "no user id in the payload (a console test?)"
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    suspended = data.get("isSuspended")
    if not isinstance(suspended, bool):
        return [], "data.isSuspended is missing: the new status is unknown"
    return [Change("sub", user, "User.SuspensionStatus.Updated", suspended, event_at)], None


def _removed_by_route(payload, param, route_suffix):
    """The id a `DELETE /organizations/:id/<...>/:param` call removed, else None.

    Every Logto version names it in the management API context, whether or
    not it also sends the membership delta.
    """
    params = payload.get("params")
    route = payload.get("matchedRoute")
    if payload.get("method") != "DELETE" or not isinstance(params, dict):
        return None
    if isinstance(route, str) and not route.endswith(route_suffix):
        return None
    return _string(params.get(param))


def _membership_changes(payload, event_at):
    """Organization.Membership.Updated: who left (denied) and who joined (lifted).

    Logto sends the organization (organizationId) and, in recent versions,
    the delta: addedUserIds, removedUserIds, addedApplicationIds,
    removedApplicationIds (each capped at 5,000 ids). Older versions, and
    some routes, send no delta; a DELETE of one member still names it in
    params. A removed user is denied by sub, a removed application (a
    machine-to-machine app) by client_id, with the reason
    "Organization.Membership.Updated:<org>"; an added one lifts that reason
    only (a suspension or deletion stays). When the removed members cannot
    be known (a PUT that replaced the member list on a Logto without the
    delta), nothing can be denied: a warning says so.
    """
    org = _string(payload.get("organizationId"))
    if org is None:
        return [], "no organizationId in the payload (a console test?)"
    removed_users = set(_string_list(payload, "removedUserIds"))
    removed_apps = set(_string_list(payload, "removedApplicationIds"))
    added_users = set(_string_list(payload, "addedUserIds"))
    added_apps = set(_string_list(payload, "addedApplicationIds"))
    user = _removed_by_route(payload, "userId", "/users/:userId")
    if user:
        removed_users.add(user)
    app = _removed_by_route(payload, "applicationId", "/applications/:applicationId")
    if app:
        removed_apps.add(app)

    if conf.membership_removal() == "ignore":
        return [], "LOGTO_WEBHOOK_MEMBERSHIP_REMOVAL is ignore"
    reason = MEMBERSHIP_REASON % org
    changes = (
        [Change("sub", user, reason, True, event_at) for user in sorted(removed_users)]
        + [Change("client_id", app, reason, True, event_at) for app in sorted(removed_apps)]
        + [Change("sub", user, reason, False, event_at) for user in sorted(added_users - removed_users)]
        + [Change("client_id", app, reason, False, event_at) for app in sorted(added_apps - removed_apps)]
    )
    if not removed_users and not removed_apps and payload.get("method") in ("PUT", "DELETE"):
        logger.warning(
            "Logto webhook: the members of organization %s changed (%s %s) but the payload does "
            "not say who was removed; their tokens stay valid until they expire",
            org, payload.get("method"), payload.get("matchedRoute") or payload.get("path"))
        return changes, "members may have been removed, but the payload does not name them"
    return changes, None


HANDLERS = {
    "User.Deleted": _user_deleted,
    "User.SuspensionStatus.Updated": _suspension_updated,
    "Organization.Membership.Updated": _membership_changes,
}


def _json(status, **body):
    return JsonResponse(body, status=status)


def deny_list_from_settings():
    """The DenyList the settings describe (LOGTO_DENY_LIST_PATH and friends)."""
    return DenyList(conf.deny_list_path(), retention=conf.deny_list_retention(),
                    mode=conf.deny_list_mode())


@csrf_exempt
def logto_webhook(request):
    """Receive one Logto webhook delivery; update the deny list.

    - not POST: 405;
    - signature missing or wrong: 403 {"error": ...}, nothing read further
      and nothing written (403, not 401: there is no HTTP authentication
      scheme to challenge with, and Logto does not retry 4xx);
    - a signed body that is not a JSON object with event and createdAt, or a
      handled event with malformed ids: 400;
    - the deny list cannot be read or written: 500 (Logto retries 5xx);
    - otherwise 200 with a summary, which Logto keeps in its webhook logs:
      {"event", "result": "applied" | "ignored", "changes": [...], "note"?}.

    CSRF-exempt: Logto has no CSRF token; the signature authenticates it.
    """
    if request.method != "POST":
        response = _json(405, error="Method %s not allowed: Logto webhooks are POST" % request.method)
        response["Allow"] = "POST"
        return response
    key = conf.webhook_signing_key()
    path = conf.deny_list_path()
    body = request.body
    if not signature_is_valid(key, body, request.META.get(SIGNATURE_META)):
        logger.warning("Logto webhook refused: the logto-signature-sha-256 header is %s",
                       "wrong" if request.META.get(SIGNATURE_META) else "missing")
        return _json(403, error="Invalid or missing logto-signature-sha-256")

    try:
        payload = json.loads(body.decode("utf-8"))
    except ValueError:
        return _json(400, error="The body is not JSON")
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
        return _json(400, error="The body is not a Logto webhook payload (no event)")
    event = payload["event"]
    handler = HANDLERS.get(event)
    if handler is None:
        return _json(200, event=event, result="ignored", changes=[],
                     note="django_logto does not act on this event")
    try:
        changes, note = handler(payload, _event_time(payload))
    except _BadPayload as exc:
        return _json(400, error="%s: %s" % (event, exc))

    outcomes = []
    if changes:
        try:
            outcomes = deny_list_from_settings().apply(changes)
        except (DenyListError, OSError) as exc:
            logger.error("Logto webhook %s: the deny list %s cannot be updated: %s", event, path, exc)
            return _json(500, error="The deny list cannot be updated")
    summary = [{"kind": change.kind, "value": change.value, "reason": change.reason,
                "outcome": outcome} for change, outcome in zip(changes, outcomes)]
    for item in summary:
        logger.info("Logto webhook %s: %s %s %s", event, item["kind"], item["value"], item["outcome"])
    answer = {"event": event, "result": "applied" if changes else "ignored", "changes": summary}
    if note:
        answer["note"] = note
    return _json(200, **answer)
