"""Django REST framework: authentication from what mod_auth_logto established,
and permission classes for the checks the decorators make.

Optional: the rest of django_logto does not need DRF, so this module alone
imports it and says what is missing when it is not installed.
"""

from django.core.exceptions import ImproperlyConfigured

try:
    from rest_framework.authentication import BaseAuthentication
    from rest_framework.permissions import BasePermission
except ImportError as exc:
    raise ImportError(
        "django_logto.drf needs Django REST framework: install djangorestframework "
        "(Debian: python3-djangorestframework), or use django_logto's middleware and "
        "decorators, which do not need it"
    ) from exc

from .auth import LogtoAuth
from .claims import ClaimRequirement


class LogtoUser:
    """A request's user built from the token, with no database row.

    DRF's permission classes only ask is_authenticated; username and pk give
    throttling and logging a stable identity (the token's sub).
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, auth):
        self.auth = auth
        self.username = auth.sub
        self.pk = self.id = auth.sub

    def get_username(self):
        return self.username

    def __str__(self):
        return self.username

    def __eq__(self, other):
        return isinstance(other, LogtoUser) and other.username == self.username

    def __hash__(self):
        return hash(self.username)


class LogtoAuthentication(BaseAuthentication):
    """(LogtoUser, LogtoAuth) when mod_auth_logto authenticated the request.

    Returns None otherwise, so DRF tries the next class or treats the request
    as anonymous; with IsAuthenticated that is a 401 carrying
    `WWW-Authenticate: Bearer`.
    """

    def authenticate(self, request):
        auth = LogtoAuth.from_request(request._request)
        if auth is None:
            return None
        return LogtoUser(auth), auth

    def authenticate_header(self, request):
        return "Bearer"


# ---- permissions ---------------------------------------------------------------------------
#
# Each class is configured either on the view (an attribute, DRF's usual way)
# or by a factory that returns a configured subclass, for views that need two
# of a kind or a view-independent rule:
#
#     permission_classes = [IsAuthenticated, HasScopes]          # view.required_scopes
#     permission_classes = [HasScopes.of("read:x"), InOrganization.of(kwarg="org_id")]
#
# Anonymous requests are refused; DRF turns that into 401 when an
# authentication class ran and none succeeded (NotAuthenticated), 403
# otherwise. A denial's message says what failed; DRF answers it as
# {"detail": "..."}. Composed with & or |, DRF's operators keep no message:
# list the classes separately to keep them.


def _logto_auth(request):
    """The LogtoAuth DRF's authentication attached, else None.

    Only DRF's request.auth counts: a permission class must judge what the
    view's authentication classes accepted, not re-read the request.
    """
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, LogtoAuth) else None


class _LogtoPermission(BasePermission):
    """Refuses requests without a Logto token; subclasses judge the token."""

    message = "This view needs a Logto access token"
    code = "not_authenticated"

    def has_permission(self, request, view):
        auth = _logto_auth(request)
        if auth is None:
            self.message = _LogtoPermission.message
            self.code = _LogtoPermission.code
            return False
        return self.allows(auth, request, view)

    def allows(self, auth, request, view):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def _configured(cls, label, attrs):
        """A subclass carrying the factory's configuration, named for error pages and logs."""
        return type("%s(%s)" % (cls.__name__, label), (cls,), dict(attrs, __module__=cls.__module__))


class HasScopes(_LogtoPermission):
    """Every required scope was granted (exact match, like `Require logto-scope`).

    The scopes come from `HasScopes.of("read:x", ...)`, else from the view's
    `required_scopes`: a list, or a dict from HTTP method to list for views
    whose methods need different scopes (a method missing from the dict is
    refused). A message names the required scopes.
    """

    scopes = None

    @classmethod
    def of(cls, *scopes):
        """A HasScopes requiring these scopes, whatever the view says."""
        return cls._configured(" ".join(scopes), {"scopes": tuple(scopes)})

    def required(self, request, view):
        if self.scopes is not None:
            return self.scopes
        scopes = getattr(view, "required_scopes", None)
        if isinstance(scopes, dict):
            if request.method not in scopes:
                return None
            scopes = scopes[request.method]
        if scopes is None or isinstance(scopes, str):
            raise ImproperlyConfigured(
                "HasScopes on %s: set required_scopes to a list of scopes (or a dict from "
                "method to list), or use HasScopes.of(...)" % type(view).__name__)
        return tuple(scopes)

    def allows(self, auth, request, view):
        scopes = self.required(request, view)
        if scopes is None:
            self.message = "Method %s is not allowed by required_scopes" % request.method
            self.code = "insufficient_scope"
            return False
        if auth.has_scopes(*scopes):
            return True
        self.message = "Insufficient scope: requires %s" % " ".join(scopes)
        self.code = "insufficient_scope"
        return False


class InOrganization(_LogtoPermission):
    """The token is for the organization, as `Require logto-organization` decides
    (organization_id, model 3, or a urn:logto:organization: audience, model 2).

    The organization, first that applies:
    - `InOrganization.of("org1")`: fixed; `InOrganization.of(callable)`:
      callable(request, view) returns it;
    - the view's `get_logto_organization(request)` method;
    - the URL keyword argument named by `InOrganization.of(kwarg="org_id")`,
      else by the view's `logto_organization_kwarg`, else `"org"`.
    """

    organization = None
    organization_kwarg = None

    @classmethod
    def of(cls, organization=None, *, kwarg=None):
        """An InOrganization for a fixed org, a callable(request, view), or a URL kwarg."""
        if (organization is None) == (kwarg is None):
            raise TypeError("InOrganization.of() takes an organization or kwarg=, one of them")
        if organization is not None:
            # staticmethod: a function stored on a class would become a method.
            value = staticmethod(organization) if callable(organization) else organization
            label = getattr(organization, "__name__", organization)
            return cls._configured(label, {"organization": value})
        return cls._configured("kwarg=" + kwarg, {"organization_kwarg": kwarg})

    def wanted(self, request, view):
        if self.organization is not None:
            org = self.organization
            return org(request, view) if callable(org) else org
        if hasattr(view, "get_logto_organization"):
            return view.get_logto_organization(request)
        kwarg = self.organization_kwarg or getattr(view, "logto_organization_kwarg", "org")
        kwargs = getattr(view, "kwargs", None) or {}
        if kwarg not in kwargs:
            raise ImproperlyConfigured(
                "InOrganization on %s: the URL pattern has no <%s>; set logto_organization_kwarg "
                "or use InOrganization.of(...)" % (type(view).__name__, kwarg))
        return kwargs[kwarg]

    def allows(self, auth, request, view):
        org = self.wanted(request, view)
        if auth.in_organization(org):
            return True
        self.message = "Token is not for organization %s" % org
        self.code = "wrong_organization"
        return False


class HasClaim(_LogtoPermission):
    """The token satisfies a claim requirement, as `Require logto-claim` (see
    django_logto.ClaimRequirement): `HasClaim.of("role", "admin", "owner")`, or
    the view's `required_claim = ("role", "admin")` (a bare name, `"act"`,
    requires presence). The message names the requirement.
    """

    requirement = None

    @classmethod
    def of(cls, name, *values):
        """A HasClaim for this requirement; a malformed name is refused at once."""
        try:
            requirement = ClaimRequirement(name, *values)
        except ValueError as exc:
            raise ImproperlyConfigured("HasClaim.of(): %s" % exc) from None
        return cls._configured(repr(requirement), {"requirement": requirement})

    def required(self, view):
        if self.requirement is not None:
            return self.requirement
        spec = getattr(view, "required_claim", None)
        if isinstance(spec, str):
            spec = (spec,)
        if not isinstance(spec, (tuple, list)) or not spec:
            raise ImproperlyConfigured(
                "HasClaim on %s: set required_claim = (name, *values), or use HasClaim.of(...)"
                % type(view).__name__)
        try:
            return ClaimRequirement(*spec)
        except ValueError as exc:
            raise ImproperlyConfigured("HasClaim on %s: %s" % (type(view).__name__, exc)) from None

    def allows(self, auth, request, view):
        requirement = self.required(view)
        if requirement.is_met(auth.claims):
            return True
        self.message = requirement.message
        self.code = "claim_not_met"
        return False
