"""/bench/guide/: token validation inside Django, the way Logto's Django guide does it.

Logto's "Protect your API - Django" guide has every Django process validate
the token itself with PyJWT: take the Bearer token from the headers, get the
key from the JWKS with PyJWKClient, jwt.decode, check the scopes, answer
401/403 JSON. This is our own code in that style, kept as plain as what
people copy from the guide (not optimized), so that the benchmark compares
mod_auth_logto with what a Django API would otherwise run.

httpd config for this location:

    # mod_wsgi drops the Authorization header unless told otherwise; the
    # guide's approach cannot work without it.
    WSGIPassAuthorization On
    SetEnv LOGTO_GUIDE_ISSUER    http://127.0.0.1:PORT/oidc
    SetEnv LOGTO_GUIDE_JWKS_URI  http://127.0.0.1:PORT/oidc/jwks
    SetEnv LOGTO_GUIDE_AUDIENCE  https://api.example.test

SetEnv reaches request.META but not os.environ (mod_wsgi daemon mode), so
the three values are read from the first request and then kept, like the
guide's module-level constants.

Departure from the guide's text: the scope check runs after the try block.
In the guide it runs inside it, where `except Exception` turns its 403 into
a 401 "Token validation failed".
"""

from functools import wraps

import jwt
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse

ALGORITHMS = ["ES384", "RS256"]
REQUIRED_SCOPES = ["read:products"]  # the scope /bench/logto/ requires too

_CONFIG_KEYS = ("LOGTO_GUIDE_ISSUER", "LOGTO_GUIDE_JWKS_URI", "LOGTO_GUIDE_AUDIENCE")
_config = None  # (issuer, audience, PyJWKClient), set on the first request


class AuthInfo:
    def __init__(self, sub, client_id=None, organization_id=None, scopes=None, audience=None):
        self.sub = sub
        self.client_id = client_id
        self.organization_id = organization_id
        self.scopes = scopes or []
        self.audience = audience or []


class AuthorizationError(Exception):
    def __init__(self, message, status=403):
        super().__init__(message)
        self.message = message
        self.status = status


def _get_config(meta):
    """Issuer, audience and the JWKS client, from the first request's META.

    The PyJWKClient lives as long as the process: it caches the fetched key
    set (PyJWT 2.6: five minutes) as the guide's module-level client does.
    """
    global _config
    if _config is None:
        missing = [key for key in _CONFIG_KEYS if not meta.get(key)]
        if missing:
            raise ImproperlyConfigured("SetEnv %s for /bench/guide/" % " ".join(missing))
        issuer, jwks_uri, audience = (meta[key] for key in _CONFIG_KEYS)
        _config = (issuer, audience, jwt.PyJWKClient(jwks_uri))
    return _config


def extract_bearer_token(headers):
    authorization = headers.get("authorization")
    if not authorization:
        raise AuthorizationError("Authorization header is missing", 401)
    if not authorization.startswith("Bearer "):
        raise AuthorizationError('Authorization header must start with "Bearer "', 401)
    return authorization[len("Bearer "):]


def validate_jwt(token, meta):
    issuer, audience, jwks_client = _get_config(meta)
    try:
        signing_key = jwks_client.get_signing_key_from_jwt(token)
        payload = jwt.decode(token, signing_key.key, algorithms=ALGORITHMS,
                             audience=audience, issuer=issuer)
    except jwt.InvalidTokenError as e:
        raise AuthorizationError("Invalid token: %s" % e, 401)
    except Exception as e:
        raise AuthorizationError("Token validation failed: %s" % e, 401)

    scopes = payload["scope"].split(" ") if payload.get("scope") else []
    if not all(scope in scopes for scope in REQUIRED_SCOPES):
        raise AuthorizationError("Insufficient scope")
    return payload


def create_auth_info(payload):
    audience = payload.get("aud", [])
    return AuthInfo(
        sub=payload.get("sub"),
        client_id=payload.get("client_id"),
        organization_id=payload.get("organization_id"),
        scopes=payload["scope"].split(" ") if payload.get("scope") else [],
        audience=[audience] if isinstance(audience, str) else audience,
    )


def require_access_token(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            # As in the guide: rebuild a header dict from META on every request.
            headers = {key[len("HTTP_"):].replace("_", "-").lower(): value
                       for key, value in request.META.items() if key.startswith("HTTP_")}
            token = extract_bearer_token(headers)
            request.auth = create_auth_info(validate_jwt(token, request.META))
            return view(request, *args, **kwargs)
        except AuthorizationError as e:
            return JsonResponse({"error": e.message}, status=e.status)
    return wrapper


@require_access_token
def bench_guide(request):
    return JsonResponse({"sub": request.auth.sub})
