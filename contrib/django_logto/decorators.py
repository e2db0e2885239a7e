"""View decorators for a second, per-view check of the validated token.

mod_auth_logto is the gate; these are for views that want their own rule
close to the code (a scope a single view needs, the org of the URL). They
answer as the module does, so a client sees one error shape whichever
layer refused it.
"""

from functools import wraps

from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse

from .auth import get_auth
from .claims import ClaimRequirement


def _error(status, message, www_authenticate=None):
    response = JsonResponse({"error": message}, status=status)
    if www_authenticate:
        response["WWW-Authenticate"] = www_authenticate
    return response


def _unauthenticated():
    """The module's answer to a request without a token.

    A decorated view reached anonymously means the request did not go
    through `AuthType Logto` (an unprotected location, or a missing
    Authorization header where the module is optional).
    """
    return _error(401, "Authorization header is missing", "Bearer")


def require_scopes(*scopes):
    """Require an authenticated request whose token grants every scope.

    With no scopes it only requires authentication. Anonymous: 401;
    missing scopes: 403 insufficient_scope naming the required scopes
    (RFC 6750, section 3.1).
    """
    required = " ".join(scopes)

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            auth = get_auth(request)
            if auth is None:
                return _unauthenticated()
            if not auth.has_scopes(*scopes):
                return _error(
                    403, "Insufficient scope: requires %s" % required,
                    'Bearer error="insufficient_scope", scope="%s"' % required)
            return view(request, *args, **kwargs)
        return wrapped
    return decorator


def require_organization(org=None, *, kwarg="org"):
    """Require a token for an organization: org, or the view's URL kwarg.

    `@require_organization("o1")` fixes the org; `@require_organization()`
    takes it from the URL pattern's `<org>` (or `kwarg=` another name), the
    Django side of `Require logto-organization %{env:MATCH_ORG}`. Both
    permission models count: organization_id (model 3) or a
    urn:logto:organization: audience (model 2).
    """
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            wanted = org
            if wanted is None:
                if kwarg not in kwargs:
                    raise ImproperlyConfigured(
                        "require_organization() on %s: the URL pattern has no <%s>"
                        % (view.__qualname__, kwarg))
                wanted = kwargs[kwarg]
            auth = get_auth(request)
            if auth is None:
                return _unauthenticated()
            if not auth.in_organization(wanted):
                return _error(403, "Token is not for organization %s" % wanted)
            return view(request, *args, **kwargs)
        return wrapped
    return decorator


def require_claim(name, *values):
    """Require an authenticated request whose token satisfies a claim, as
    `Require logto-claim NAME [VALUE...]` does.

    NAME is a claim or a dotted path into nested objects (`act.sub`). With
    values: a string claim equals one; an array claim has an element equal
    to one (strings as strings, numbers and booleans by their JSON text); a
    number or boolean claim's JSON text (`true`, `42`, `1.5`, as json.dumps
    writes it) equals one. Without values: present, and not null, false, ""
    or []. Anonymous: 401; not satisfied: 403 naming the requirement.

    A malformed name (empty, or with an empty path part) is refused when the
    view is decorated, not at the first request.
    """
    try:
        requirement = ClaimRequirement(name, *values)
    except ValueError as exc:
        raise ImproperlyConfigured("require_claim(): %s" % exc) from None

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            auth = get_auth(request)
            if auth is None:
                return _unauthenticated()
            if not requirement.is_met(auth.claims):
                return _error(403, requirement.message)
            return view(request, *args, **kwargs)
        return wrapped
    return decorator
