"""The claims mod_auth_logto validated, read back from request.META.

The module checks the token before Django runs and exports what it found as
environment variables (DESIGN.md, "Environment contract"); mod_wsgi hands
them to Django in request.META. Nothing here verifies a token again: it only
decides whether the module authenticated this request and gives the claims a
convenient shape.
"""

import json
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

#: The value httpd puts in AUTH_TYPE for `AuthType Logto` locations.
AUTH_TYPE = "Logto"

#: The module's LogtoClaimPrefix default.
DEFAULT_PREFIX = "LOGTO_"

#: Audience prefix of Logto organization tokens (permission model 2).
ORG_AUDIENCE_PREFIX = "urn:logto:organization:"


def claim_prefix():
    """The prefix of the exported variables: settings.LOGTO_CLAIM_PREFIX.

    It must equal the module's `LogtoClaimPrefix`. A prefix starting with
    HTTP_ is refused: client request headers arrive in META as HTTP_*, so
    such a prefix would let a client write the variables we trust.
    """
    prefix = getattr(settings, "LOGTO_CLAIM_PREFIX", DEFAULT_PREFIX)
    if prefix.upper().startswith("HTTP_"):
        raise ImproperlyConfigured(
            "LOGTO_CLAIM_PREFIX must not start with HTTP_: clients can set HTTP_* keys "
            "through request headers"
        )
    return prefix


def _words(value):
    """Space-separated list; empty items dropped, as the module's split does."""
    return value.split() if value else []


class LogtoAuth:
    """What mod_auth_logto established about the request's bearer token.

    Build it with from_meta() or get_auth(); the constructor takes the
    values already parsed so tests and callers can make one by hand.
    """

    def __init__(self, sub, client_id=None, organization_id=None, scopes=(), audience=(),
                 issuer=None, expires_at=None, jti=None, claims_json=None):
        self.sub = sub
        self.client_id = client_id
        self.organization_id = organization_id
        self.scopes = list(scopes)
        self.audience = list(audience)
        self.issuer = issuer
        self.expires_at = expires_at
        self.jti = jti
        self._claims_json = claims_json

    @classmethod
    def from_meta(cls, meta, prefix=None):
        """LogtoAuth for a request's META, or None when it is anonymous.

        Authenticated means: httpd ran our AuthType (AUTH_TYPE, compared
        case-insensitively as httpd compares AuthType names) and the
        exported sub is present and equals REMOTE_USER. REMOTE_USER and
        AUTH_TYPE come from httpd itself, never from a client header, so
        a stray LOGTO_* variable (a SetEnv, another location's config)
        cannot make a request look authenticated on its own.
        """
        if prefix is None:
            prefix = claim_prefix()
        if meta.get("AUTH_TYPE", "").lower() != AUTH_TYPE.lower():
            return None
        sub = meta.get(prefix + "SUB")
        if not sub or sub != meta.get("REMOTE_USER"):
            return None

        expires_at = meta.get(prefix + "EXPIRES_AT")
        return cls(
            sub=sub,
            client_id=meta.get(prefix + "CLIENT_ID") or None,
            organization_id=meta.get(prefix + "ORGANIZATION_ID") or None,
            scopes=_words(meta.get(prefix + "SCOPES")),
            audience=_words(meta.get(prefix + "AUDIENCE")),
            issuer=meta.get(prefix + "ISSUER") or None,
            expires_at=int(expires_at) if expires_at else None,
            jti=meta.get(prefix + "JTI") or None,
            claims_json=meta.get(prefix + "CLAIMS"),
        )

    @cached_property
    def claims(self):
        """The whole token payload. Parsed on first use: most views never look."""
        return json.loads(self._claims_json) if self._claims_json else {}

    @property
    def is_m2m(self):
        """A machine-to-machine (client credentials) token: sub == client_id.

        This is the test Logto's own middleware uses to tell an app from a user.
        """
        return bool(self.client_id) and self.sub == self.client_id

    def has_scopes(self, *scopes):
        """Whether every given scope was granted (exact match, like `Require logto-scope`)."""
        return all(scope in self.scopes for scope in scopes)

    def in_organization(self, org):
        """Whether the token is for organization org, as `Require logto-organization` decides.

        Model 3 tokens carry organization_id; model 2 tokens name the org in
        their audience only.
        """
        if not org:
            return False
        return org == self.organization_id or ORG_AUDIENCE_PREFIX + org in self.audience

    def to_dict(self):
        """The auth info in the shape of Logto's API protection guide responses."""
        return {
            "sub": self.sub,
            "clientId": self.client_id,
            "organizationId": self.organization_id,
            "scopes": list(self.scopes),
            "audience": list(self.audience),
        }

    def __repr__(self):
        return "<LogtoAuth sub=%r client_id=%r organization_id=%r>" % (
            self.sub, self.client_id, self.organization_id)


def get_auth(request):
    """The request's LogtoAuth, or None when anonymous.

    Reuses what LogtoAuthMiddleware (or DRF's LogtoAuthentication) attached
    as request.auth; without them, reads request.META, so decorators work
    whether or not the middleware is installed.
    """
    auth = getattr(request, "auth", None)
    if isinstance(auth, LogtoAuth):
        return auth
    return LogtoAuth.from_meta(request.META)
