"""The claims mod_auth_logto validated, read back from the request.

The module checks the token before Django runs and hands what it found to
the application (DESIGN.md, "Environment contract"):

- as environment variables (mod_wsgi), which arrive in request.META; this is
  the default and always consulted;
- as request headers for backends behind mod_proxy_http (gunicorn, uvicorn),
  read only when settings.LOGTO_TRUST_CLAIM_HEADERS says the backend can be
  reached through httpd alone.

Nothing here verifies a token again: it decides whether the module
authenticated this request and gives the claims a convenient shape. Any
value that cannot be read exactly as the module wrote it (not UTF-8,
claims that are not a JSON object, claims that disagree with the other
values) makes the request anonymous and is logged as a warning: an
unreadable value must never become an identity.
"""

import base64
import logging
import math
import re
from functools import cached_property

from . import conf
from .claims import ClaimRequirement, InvalidClaims, parse_claims

# Re-exported: this module defined them before conf.py existed.
from .conf import DEFAULT_PREFIX, claim_prefix

__all__ = ["AUTH_TYPE", "DEFAULT_PREFIX", "ORG_AUDIENCE_PREFIX", "InvalidClaims", "LogtoAuth",
           "claim_prefix", "get_auth"]

logger = logging.getLogger("django_logto")

#: The value httpd puts in AUTH_TYPE for `AuthType Logto` locations.
AUTH_TYPE = "Logto"

#: Audience prefix of Logto organization tokens (permission model 2).
ORG_AUDIENCE_PREFIX = "urn:logto:organization:"

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def wsgi_text(value, name):
    """The text the module wrote, from the string a WSGI server made of it.

    PEP 3333 gives every environ value (and, under WSGI and ASGI alike,
    every header value) as its bytes decoded as latin-1; the module writes
    UTF-8. This is how Django itself recovers PATH_INFO. The module's values
    come from JSON and are always valid UTF-8, so a failure means someone
    else wrote the value: InvalidClaims, never a guess.
    """
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise InvalidClaims("%s is not UTF-8 seen through PEP 3333's latin-1" % name) from None


def split_spaces(text):
    """The module's split of a scope string: on single spaces, empty items
    dropped. Tabs and other whitespace are part of an item, as the module
    sees them."""
    return [item for item in text.split(" ") if item]


def audiences_of(claims):
    """`aud` as a list: a string or an array of strings, as the module reads it."""
    aud = claims.get("aud")
    if "aud" not in claims:
        return []
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list) and all(isinstance(item, str) for item in aud):
        return list(aud)
    raise InvalidClaims("aud is neither a string nor an array of strings")


def organization_of(claims, audiences):
    """organization_id, else the id of the first urn:logto:organization: audience (model 2)."""
    org = _optional_string(claims, "organization_id")
    if org:
        return org
    for aud in audiences:
        if aud.startswith(ORG_AUDIENCE_PREFIX) and len(aud) > len(ORG_AUDIENCE_PREFIX):
            return aud[len(ORG_AUDIENCE_PREFIX):]
    return None


def _optional_string(claims, name):
    value = claims.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidClaims("%s is not a string" % name)
    return value or None


def decode_claims_header(value, name="Logto-Claims"):
    """The payload from the Logto-Claims header: base64url without padding,
    canonical (what the module writes and nothing else), of a UTF-8 JSON object."""
    if not _BASE64URL.fullmatch(value) or len(value) % 4 == 1:
        raise InvalidClaims("%s is not base64url without padding" % name)
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != value:
        raise InvalidClaims("%s is not canonical base64url" % name)
    try:
        text = raw.decode("utf-8")
    except UnicodeError:
        raise InvalidClaims("%s does not hold UTF-8" % name) from None
    try:
        return parse_claims(text)
    except InvalidClaims as exc:
        raise InvalidClaims("%s: %s" % (name, exc)) from None


def _asgi_header_names(request):
    """The raw header names of an ASGI request (uvicorn, daphne), else None.

    Under WSGI the names are gone by the time Django runs; under ASGI they
    are in request.scope, so an underscore spelling can be caught here too.
    """
    scope = getattr(request, "scope", None)
    if not isinstance(scope, dict) or scope.get("type") != "http":
        return None
    return [name.decode("latin-1") for name, _value in scope.get("headers", ())]


def check_header_names(names, prefix):
    """Refuse a request whose claim headers are ambiguous.

    'Logto_Sub' and 'Logto-Sub' both become HTTP_LOGTO_SUB; the module only
    removes client headers spelled with its prefix, so an underscore
    spelling is a client's. Repeated claim headers are refused as well:
    servers join them with ',' into one META value.
    """
    wanted = prefix.lower()
    seen = set()
    for name in names:
        lowered = name.lower()
        normalized = lowered.replace("_", "-")
        if not normalized.startswith(wanted):
            continue
        if "_" in lowered:
            raise InvalidClaims("request header %s spells the claim header prefix with '_'" % name)
        if lowered in seen:
            raise InvalidClaims("request header %s is repeated" % name)
        seen.add(lowered)


class LogtoAuth:
    """What mod_auth_logto established about the request's bearer token.

    Build it with from_request(), from_meta(), from_claim_headers() or
    get_auth(); the constructor takes the values already parsed so tests and
    callers can make one by hand.
    """

    def __init__(self, sub, client_id=None, organization_id=None, scopes=(), audience=(),
                 issuer=None, expires_at=None, jti=None, claims_json=None, claims=None):
        self.sub = sub
        self.client_id = client_id
        self.organization_id = organization_id
        self.scopes = list(scopes)
        self.audience = list(audience)
        self.issuer = issuer
        self.expires_at = expires_at
        self.jti = jti
        self._claims_json = claims_json
        if claims is not None:
            self.__dict__["claims"] = claims  # the cached_property's slot

    # ---- building one -----------------------------------------------------------------

    @classmethod
    def from_request(cls, request):
        """LogtoAuth for a Django request, or None when it is anonymous.

        The environment first (mod_wsgi; clients cannot set it); then, only
        when settings.LOGTO_TRUST_CLAIM_HEADERS is on, the Logto-* request
        headers of `LogtoPassClaimsAs headers`. With trust off the headers
        are never read, whatever they say.
        """
        auth = cls.from_meta(request.META)
        if auth is None and conf.trust_claim_headers():
            auth = cls.from_claim_headers(request.META, header_names=_asgi_header_names(request))
        return auth

    @classmethod
    def from_meta(cls, meta, prefix=None):
        """LogtoAuth from the module's environment variables, or None when anonymous.

        Authenticated means: httpd ran our AuthType (AUTH_TYPE, compared
        case-insensitively as httpd compares AuthType names) and the
        exported sub is present and equals REMOTE_USER. REMOTE_USER and
        AUTH_TYPE come from httpd itself, never from a client header, so
        a stray LOGTO_* variable (a SetEnv, another location's config)
        cannot make a request look authenticated on its own. Then every
        value must read as the module wrote it (see the module docstring).
        """
        if prefix is None:
            prefix = conf.claim_prefix()
        if meta.get("AUTH_TYPE", "").lower() != AUTH_TYPE.lower():
            return None
        sub = meta.get(prefix + "SUB")
        if not sub or sub != meta.get("REMOTE_USER"):
            return None
        try:
            return cls._from_env(meta, prefix)
        except InvalidClaims as exc:
            logger.warning("mod_auth_logto's variables cannot be read, the request is treated "
                           "as anonymous: %s", exc)
            return None

    @classmethod
    def _from_env(cls, meta, prefix):
        def text(name):
            value = meta.get(prefix + name)
            return wsgi_text(value, prefix + name) if value else None

        sub = text("SUB")
        claims_json = text("CLAIMS")
        if claims_json is None:
            raise InvalidClaims("%sCLAIMS is missing; the module always exports it" % prefix)
        try:
            claims = parse_claims(claims_json)
        except InvalidClaims as exc:
            raise InvalidClaims("%sCLAIMS: %s" % (prefix, exc)) from None
        if claims.get("sub") != sub:
            raise InvalidClaims("the sub in %sCLAIMS is not %sSUB" % (prefix, prefix))
        if "aud" in claims:
            audience = audiences_of(claims)
        else:
            # Only for META built by hand: the module exports an empty
            # LOGTO_AUDIENCE when the payload has no aud.
            audience = split_spaces(text("AUDIENCE") or "")
        expires_at = text("EXPIRES_AT")
        try:
            expires_at = int(expires_at) if expires_at else None
        except ValueError:
            raise InvalidClaims("%sEXPIRES_AT is not a number" % prefix) from None
        return cls(
            sub=sub,
            client_id=text("CLIENT_ID"),
            organization_id=text("ORGANIZATION_ID"),
            scopes=split_spaces(text("SCOPES") or ""),
            audience=audience,
            issuer=text("ISSUER"),
            expires_at=expires_at,
            jti=text("JTI"),
            claims_json=claims_json,
            claims=claims,
        )

    @classmethod
    def from_claim_headers(cls, meta, prefix=None, header_names=None):
        """LogtoAuth from the module's request headers, or None when anonymous.

        For backends behind mod_proxy_http: there is no REMOTE_USER or
        AUTH_TYPE across a proxy, so authenticated means Logto-Sub and
        Logto-Claims are present, Logto-Claims decodes strictly (base64url
        without padding, a JSON object) and its sub equals Logto-Sub.
        Everything else is taken from the payload, as the module derives its
        own headers from it (which it omits when a value holds a control
        character). header_names, the raw names of an ASGI request, lets
        an underscore spelling of a claim header be refused.

        Call it only where the headers can be trusted (LOGTO_TRUST_CLAIM_HEADERS);
        from_request() does that check.
        """
        if prefix is None:
            prefix = conf.claim_header_prefix()
        key = conf.header_meta_prefix(prefix)
        raw_sub, raw_claims = meta.get(key + "SUB"), meta.get(key + "CLAIMS")
        if raw_sub is None and raw_claims is None:
            return None
        try:
            if header_names is not None:
                check_header_names(header_names, prefix)
            if not raw_sub or not raw_claims:
                raise InvalidClaims("%sSub and %sClaims come together from the module"
                                    % (prefix, prefix))
            sub = wsgi_text(raw_sub, prefix + "Sub")
            claims = decode_claims_header(raw_claims, prefix + "Claims")
            if claims.get("sub") != sub:
                raise InvalidClaims("the sub in %sClaims is not %sSub" % (prefix, prefix))
            return cls.from_claims(claims)
        except InvalidClaims as exc:
            logger.warning("mod_auth_logto's claim headers cannot be read, the request is "
                           "treated as anonymous: %s", exc)
            return None

    @classmethod
    def from_claims(cls, claims):
        """LogtoAuth from a validated payload, each value derived as the module derives it.

        Raises InvalidClaims for a payload the module would have refused
        (no sub, claims of the wrong type).
        """
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise InvalidClaims("sub is missing or not a string")
        audience = audiences_of(claims)
        scope = _optional_string(claims, "scope") or ""
        exp = claims.get("exp")
        if exp is not None and (isinstance(exp, bool) or not isinstance(exp, (int, float))):
            raise InvalidClaims("exp is not a number")
        return cls(
            sub=sub,
            client_id=_optional_string(claims, "client_id"),
            organization_id=organization_of(claims, audience),
            scopes=split_spaces(scope),
            audience=audience,
            issuer=_optional_string(claims, "iss"),
            expires_at=None if exp is None else int(math.floor(exp)),
            jti=_optional_string(claims, "jti"),
            claims=claims,
        )

    # ---- using one --------------------------------------------------------------------

    @cached_property
    def claims(self):
        """The whole token payload as a dict (custom JWT claims live here).

        Built by from_*() it is the payload already checked; made by hand
        from claims_json, it is parsed on first use.
        """
        return parse_claims(self._claims_json) if self._claims_json else {}

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

    def has_claim(self, name, *values):
        """Whether the payload satisfies `Require logto-claim NAME [VALUE...]` (see ClaimRequirement)."""
        return ClaimRequirement(name, *values).is_met(self.claims)

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
    as request.auth; without them, reads the request, so decorators work
    whether or not the middleware is installed.
    """
    auth = getattr(request, "auth", None)
    if isinstance(auth, LogtoAuth):
        return auth
    return LogtoAuth.from_request(request)
