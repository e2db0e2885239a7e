"""Views the integration tests and the benchmark call through httpd.

They report what reached Django and decide nothing themselves: the tests
are about mod_auth_logto's decisions, so a second check here could hide a
module bug behind an identical-looking answer.
"""

from django.conf import settings
from django.http import JsonResponse

# Distinct from the module's "Authorization header is missing" on purpose: a
# test that gets this body knows Django answered, i.e. the module let an
# unauthenticated request through.
_NOT_AUTHENTICATED = {"error": "Django: request not authenticated by mod_auth_logto"}


def _unauthenticated():
    response = JsonResponse(_NOT_AUTHENTICATED, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


def protected(request):
    """What Logto's Django guide answers: the auth info of the token."""
    if request.auth is None:
        return _unauthenticated()
    return JsonResponse({"auth": request.auth.to_dict()})


def org_members(request, org):
    """Model 2 and 3 routes (/orgs/<org>/members/, /org-api/<org>/products/).

    The organization check is the module's (`Require logto-organization`).
    """
    if request.auth is None:
        return _unauthenticated()
    return JsonResponse({"org": org, "auth": request.auth.to_dict()})


def env(request):
    """The variables Django received: the exported ones, httpd's, and every client header.

    Tests use it to show that a client header (HTTP_*) never becomes one of
    the exported variables. The Authorization header's value is withheld, as
    the module never puts a token in a response.
    """
    prefixes = ("LOGTO_", settings.LOGTO_CLAIM_PREFIX, "HTTP_")
    seen = {key: value for key, value in request.META.items()
            if isinstance(value, str) and key.startswith(prefixes)}
    for key in ("REMOTE_USER", "AUTH_TYPE"):
        if key in request.META:
            seen[key] = request.META[key]
    if "HTTP_AUTHORIZATION" in seen:
        seen["HTTP_AUTHORIZATION"] = "[withheld]"
    return JsonResponse(seen)


def public(request):
    """No authentication anywhere: the 'Django alone' baseline of the benchmark."""
    return JsonResponse({"ok": True})


def bench(request):
    """/bench/noauth/ and /bench/logto/: one small body; httpd's config makes the difference."""
    return JsonResponse({"sub": request.META.get("REMOTE_USER")})
