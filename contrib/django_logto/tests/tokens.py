"""Token payloads of the three Logto permission models, and what mod_auth_logto
hands Django for them: environment variables (mod_wsgi) or request headers
(mod_proxy_http backends)."""

import base64
import json

ISSUER = "https://tenant.logto.app/oidc"
API = "https://api.example.com"
ORG_AUDIENCE_PREFIX = "urn:logto:organization:"


def wsgi(text):
    """What a WSGI server puts in environ for text the module wrote as UTF-8:
    the bytes decoded as latin-1 (PEP 3333 "native strings")."""
    return text.encode("utf-8").decode("latin-1")


def payload_json(payload):
    """The payload as Logto writes it: JSON with raw UTF-8, no \\u escapes."""
    return json.dumps(payload, ensure_ascii=False)


def _audiences(payload):
    aud = payload.get("aud", [])
    return [aud] if isinstance(aud, str) else list(aud)


def _organization(payload):
    org = payload.get("organization_id")
    if org is None:
        org = next((a[len(ORG_AUDIENCE_PREFIX):] for a in _audiences(payload)
                    if a.startswith(ORG_AUDIENCE_PREFIX) and len(a) > len(ORG_AUDIENCE_PREFIX)),
                   None)
    return org


def module_env(payload, prefix="LOGTO_"):
    """The variables mod_auth_logto exports for a validated payload (DESIGN.md,
    "Environment contract"), as mod_wsgi puts them in request.META.

    Exactly the module's rules: the scopes split on single spaces with empty
    items dropped, joined by one space; the audiences joined by one space;
    LOGTO_CLAIMS the payload's own JSON; every value UTF-8, seen by Django
    through PEP 3333 (latin-1).
    """
    scopes = [s for s in payload.get("scope", "").split(" ") if s]
    env = {
        "AUTH_TYPE": "Logto",
        "REMOTE_USER": payload["sub"],
        prefix + "SUB": payload["sub"],
        prefix + "SCOPES": " ".join(scopes),
        prefix + "AUDIENCE": " ".join(_audiences(payload)),
        prefix + "ISSUER": payload["iss"],
        prefix + "EXPIRES_AT": str(int(payload["exp"])),
        prefix + "CLAIMS": payload_json(payload),
    }
    for claim, name in (("client_id", "CLIENT_ID"), ("jti", "JTI")):
        if claim in payload:
            env[prefix + name] = payload[claim]
    org = _organization(payload)
    if org is not None:
        env[prefix + "ORGANIZATION_ID"] = org
    return {key: wsgi(value) for key, value in env.items()}


def b64url(data):
    """base64url without padding, as the module encodes Logto-Claims."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _has_control(text):
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)


def module_headers(payload, prefix="Logto-"):
    """The request headers mod_auth_logto sets with `LogtoPassClaimsAs headers`,
    as a WSGI server puts them in request.META (HTTP_*, values latin-1 decoded).

    A per-claim header whose value holds a control character is omitted, as
    the module does; Logto-Claims always carries the whole payload.
    """
    scopes = [s for s in payload.get("scope", "").split(" ") if s]
    headers = {
        "Sub": payload["sub"],
        "Scopes": " ".join(scopes),
        "Audience": " ".join(_audiences(payload)),
        "Issuer": payload["iss"],
        "Expires-At": str(int(payload["exp"])),
        "Claims": b64url(payload_json(payload)),
    }
    for claim, name in (("client_id", "Client-Id"), ("jti", "Jti")):
        if claim in payload:
            headers[name] = payload[claim]
    org = _organization(payload)
    if org is not None:
        headers["Organization-Id"] = org
    meta = {}
    for name, value in headers.items():
        if _has_control(value):
            continue
        meta["HTTP_" + (prefix + name).upper().replace("-", "_")] = wsgi(value)
    return meta


def _payload(extra=None, **changes):
    """A Logto access-token payload in Logto's claim order, extra claims first
    (LOGTO.md, 2.1); a change to None drops the claim."""
    claims = {"jti": "Jt1", "sub": "user1", "iat": 1700000000, "exp": 1700003600,
              "scope": "read:products write:products", "client_id": "app1",
              "iss": ISSUER, "aud": API}
    claims.update(changes)
    return {**(extra or {}), **{k: v for k, v in claims.items() if v is not None}}


payload = _payload

# The token shapes of the three permission models (LOGTO.md, 2.2).
MODEL1_USER = _payload()
MODEL1_M2M = _payload(sub="m2m1", client_id="m2m1", scope=None)
MODEL2_ORG = _payload(scope="invite:member", aud="urn:logto:organization:org1")
MODEL3_ORG_API = _payload({"organization_id": "org1"}, scope="read:products")
