"""Token payloads of the three Logto permission models and the variables the module exports for them."""

import json

ISSUER = "https://tenant.logto.app/oidc"
API = "https://api.example.com"


def module_env(payload, prefix="LOGTO_"):
    """The variables mod_auth_logto exports for a validated payload (DESIGN.md,
    "Environment contract"), as mod_wsgi puts them in request.META."""
    aud = payload.get("aud", [])
    audience = [aud] if isinstance(aud, str) else aud
    org = payload.get("organization_id")
    if org is None:
        org = next((a[len("urn:logto:organization:"):] for a in audience
                    if a.startswith("urn:logto:organization:")), None)
    env = {
        "AUTH_TYPE": "Logto",
        "REMOTE_USER": payload["sub"],
        prefix + "SUB": payload["sub"],
        prefix + "SCOPES": " ".join(payload.get("scope", "").split()),
        prefix + "AUDIENCE": " ".join(audience),
        prefix + "ISSUER": payload["iss"],
        prefix + "EXPIRES_AT": str(payload["exp"]),
        prefix + "CLAIMS": json.dumps(payload),
    }
    for claim, name in (("client_id", "CLIENT_ID"), ("jti", "JTI")):
        if claim in payload:
            env[prefix + name] = payload[claim]
    if org is not None:
        env[prefix + "ORGANIZATION_ID"] = org
    return env


def _payload(extra=None, **changes):
    """A Logto access-token payload in Logto's claim order, extra claims first
    (LOGTO.md, 2.1); a change to None drops the claim."""
    claims = {"jti": "Jt1", "sub": "user1", "iat": 1700000000, "exp": 1700003600,
              "scope": "read:products write:products", "client_id": "app1",
              "iss": ISSUER, "aud": API}
    claims.update(changes)
    return {**(extra or {}), **{k: v for k, v in claims.items() if v is not None}}


# The token shapes of the three permission models (LOGTO.md, 2.2).
MODEL1_USER = _payload()
MODEL1_M2M = _payload(sub="m2m1", client_id="m2m1", scope=None)
MODEL2_ORG = _payload(scope="invite:member", aud="urn:logto:organization:org1")
MODEL3_ORG_API = _payload({"organization_id": "org1"}, scope="read:products")
