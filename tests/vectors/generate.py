#!/usr/bin/python3
"""Writes the Logto-shaped test vectors of tests/vectors/ and checks all of them.

    /usr/bin/python3 tests/vectors/generate.py           # (re)write logto-* vectors and the
                                                         # fuzz seeds, then check
    /usr/bin/python3 tests/vectors/generate.py --check   # only check every vector

For humans: the generated files are committed and the C tests never run this.
It needs Debian's python3-jwt and python3-cryptography, nothing else.

Keys are derived from fixed seeds, so kids and JWKS stay the same from one run
to the next; ECDSA and RSA-PSS signatures are randomised and change on every
run. Regenerating may change signatures, never an expectation. Times are fixed
(NOW below) so no test depends on the clock.

The RFC known-answer vectors (rfc*) are copied from the RFCs and are not
written here; --check verifies them too, with PyJWT as a second, independent
implementation: every "ok" vector must verify, every "bad_signature" vector
must not.
"""

import base64
import hashlib
import json
import os
import random
import sys

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import get_default_algorithms

HERE = os.path.dirname(os.path.abspath(__file__))
# Folders of vectors from elsewhere, in their own format (tests/vectors/README.md).
FOREIGN = {"wycheproof"}

NOW = 1767225600  # 2026-01-01T00:00:00Z: the "now" of every token-mode vector
IAT = NOW - 600
EXP = IAT + 3600  # Logto's default access token TTL
ISSUER = "https://abc123.logto.app/oidc"
CUSTOM_ISSUER = "https://auth.example.com/oidc"
API = "https://api.example.com"
ORG = "org4kd9x2m1q"
USER = "u7x2k9q4m1pz"
APP = "app9m2kq7x1b4z8c6v3n5"
M2M = "m2m4kq9z7x1b2c3d4e5f6"


def b64e(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def int_bytes(value, length=None):
    if length is None:
        length = max(1, (value.bit_length() + 7) // 8)
    return value.to_bytes(length, "big")


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# ---- keys from seeds ---------------------------------------------------------

def _probable_prime(rng, bits):
    while True:
        cand = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if cand % 65537 == 1:
            continue
        if _miller_rabin(rng, cand):
            return cand


def _miller_rabin(rng, n, rounds=40):
    for small in (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % small == 0:
            return n == small
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for _ in range(rounds):
        a = rng.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def rsa_key(seed, bits):
    rng = random.Random(seed)
    e = 65537
    while True:
        p = _probable_prime(rng, bits // 2)
        q = _probable_prime(rng, bits // 2)
        if p != q and (p * q).bit_length() == bits:
            break
    if p < q:
        p, q = q, p
    d = pow(e, -1, (p - 1) * (q - 1))
    pub = rsa.RSAPublicNumbers(e, p * q)
    return rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q),
                                 rsa.rsa_crt_iqmp(p, q), pub).private_key()


CURVES = {
    "P-256": (ec.SECP256R1(), 32, "ES256"),
    "P-384": (ec.SECP384R1(), 48, "ES384"),
    "P-521": (ec.SECP521R1(), 66, "ES512"),
}
ORDERS = {
    "P-256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "P-384": int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
                 "581A0DB248B0A77AECEC196ACCC52973", 16),
    "P-521": int("01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA"
                 "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409", 16),
}


def ec_key(seed, crv):
    digest = hashlib.sha512(seed.encode()).digest()
    secret = int.from_bytes(digest, "big") % (ORDERS[crv] - 1) + 1
    return ec.derive_private_key(secret, CURVES[crv][0])


def ed_key(seed):
    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed.encode()).digest())


def thumbprint(required):
    """RFC 7638: SHA-256 over the required members, sorted, no whitespace."""
    canon = json.dumps(required, sort_keys=True, separators=(",", ":"))
    return b64e(hashlib.sha256(canon.encode()).digest())


def public_jwk(key, with_alg=True):
    """The public JWK as Logto's JWKS publishes it (LOGTO.md 1.3): kid is the
    RFC 7638 thumbprint, use "sig", alg only where one algorithm fits."""
    if isinstance(key, rsa.RSAPrivateKey):
        nums = key.public_key().public_numbers()
        req = {"e": b64e(int_bytes(nums.e)), "kty": "RSA", "n": b64e(int_bytes(nums.n))}
        return {"kty": "RSA", "use": "sig", "kid": thumbprint(req), "e": req["e"], "n": req["n"]}
    if isinstance(key, ec.EllipticCurvePrivateKey):
        crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[key.curve.name]
        size = CURVES[crv][1]
        nums = key.public_key().public_numbers()
        req = {"crv": crv, "kty": "EC", "x": b64e(int_bytes(nums.x, size)),
               "y": b64e(int_bytes(nums.y, size))}
        jwk = {"kty": "EC", "use": "sig", "kid": thumbprint(req)}
        if with_alg:
            jwk["alg"] = CURVES[crv][2]
        jwk.update({"crv": crv, "x": req["x"], "y": req["y"]})
        return jwk
    if isinstance(key, ed25519.Ed25519PrivateKey):
        from cryptography.hazmat.primitives import serialization
        raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
        req = {"crv": "Ed25519", "kty": "OKP", "x": b64e(raw)}
        jwk = {"kty": "OKP", "use": "sig", "kid": thumbprint(req)}
        if with_alg:
            jwk["alg"] = "EdDSA"
        jwk.update({"crv": "Ed25519", "x": req["x"]})
        return jwk
    raise TypeError(key)


def sign(alg, key, header, payload):
    """A compact JWS of exactly these JSON texts (header and payload are str)."""
    signing_input = b64e(header.encode()) + "." + b64e(payload.encode())
    sig = get_default_algorithms()[alg].sign(signing_input.encode(), key)
    return signing_input + "." + b64e(sig)


def logto_header(alg, kid, typ="at+jwt"):
    return compact({"alg": alg, "typ": typ, "kid": kid})


def logto_payload(extra=None, jti="Vq3xK8mZ2pL7nR4tY9wB1", sub=USER, iat=IAT, exp=EXP,
                  scope="read:products write:products", client_id=APP, iss=ISSUER, aud=API,
                  drop=()):
    """Logto's claim order (LOGTO.md 2.1): extra claims first, then jti, sub,
    iat, exp, scope, client_id, iss, aud. scope=None leaves it out."""
    claims = dict(extra or {})
    for name, value in (("jti", jti), ("sub", sub), ("iat", iat), ("exp", exp),
                        ("scope", scope), ("client_id", client_id), ("iss", iss),
                        ("aud", aud)):
        if value is not None and name not in drop:
            claims[name] = value
    return compact(claims)


# ---- writing -----------------------------------------------------------------

def write_case(name, token, keys, expect, description, policy=None, mode=None):
    folder = os.path.join(HERE, name)
    os.makedirs(folder, exist_ok=True)
    files = {
        "token": token,
        "jwks.json": json.dumps({"keys": keys}, indent=2),
        "expect": expect,
        "description": description,
    }
    if policy is not None:
        files["policy"] = "\n".join(policy)
    if mode is not None:
        files["mode"] = mode
    for stale in ("policy", "mode"):
        if stale not in files and os.path.exists(os.path.join(folder, stale)):
            os.unlink(os.path.join(folder, stale))
    for fname, text in files.items():
        with open(os.path.join(folder, fname), "w", encoding="utf-8") as out:
            out.write(text + "\n")


def default_policy(*extra, issuers=(ISSUER,), now=NOW):
    lines = ["issuer=" + i for i in issuers]
    lines.append("now=%d" % now)
    lines.extend(extra)
    return lines


def generate():
    es384 = ec_key("logto-current-es384", "P-384")
    es384_prev = ec_key("logto-previous-es384", "P-384")
    es256 = ec_key("logto-es256", "P-256")
    es512 = ec_key("logto-es512", "P-521")
    rsa4096 = rsa_key("logto-rs256-4096", 4096)
    rsa2048 = rsa_key("logto-ps256-2048", 2048)
    eddsa = ed_key("logto-eddsa")

    jes384 = public_jwk(es384)
    kid = jes384["kid"]
    hdr = logto_header("ES384", kid)

    def es(name, payload, expect, description, policy=None, header=hdr, keys=None):
        write_case(name, sign("ES384", es384, header, payload), keys or [jes384], expect,
                   description, policy or default_policy())

    # -- the three permission models (LOGTO.md 2.2), default ES384 -----------
    es("logto-es384-model1-user", logto_payload(), "ok",
       "Logto model 1 (global API resource), user token: ES384, at+jwt, aud = indicator")
    es("logto-es384-model1-m2m", logto_payload(sub=M2M, client_id=M2M, scope=None), "ok",
       "Logto model 1, M2M token: sub == client_id and no scope claim at all")
    es("logto-es384-model2-org", logto_payload(scope="invite:member",
                                               aud="urn:logto:organization:" + ORG), "ok",
       "Logto model 2 (organization token): aud urn:logto:organization:<id>, no organization_id")
    es("logto-es384-model2-empty-scope", logto_payload(scope="",
                                                       aud="urn:logto:organization:" + ORG),
       "ok", "Logto model 2 with scope \"\" (the Logto fork keeps an empty scope)")
    es("logto-es384-model3-org-api", logto_payload(extra={"organization_id": ORG},
                                                   scope="api:read"), "ok",
       "Logto model 3 (organization-level API resource): organization_id first, aud = indicator")
    es("logto-es384-custom-claims", logto_payload(extra={"roles": ["admin", "editor"],
                                                         "tenant": {"plan": "pro"}}), "ok",
       "Custom JWT claims (arrays, objects) before the standard claims are accepted")
    es("logto-es384-aud-array", logto_payload(aud=[API, "https://other.example.com"]), "ok",
       "aud as a JSON array of strings (valid JWT, not what Logto sends) is accepted")
    es("logto-es384-custom-domain", logto_payload(iss=CUSTOM_ISSUER), "ok",
       "Token issued under the tenant's custom domain; the policy lists both issuers",
       default_policy(issuers=(ISSUER, CUSTOM_ISSUER)))
    es("logto-es384-typ-application-prefix", logto_payload(), "ok",
       "typ \"application/at+jwt\" is the same media type as at+jwt (RFC 9068 section 2.1)",
       header=logto_header("ES384", kid, typ="application/at+jwt"))

    # -- every other algorithm Logto or an OIDC issuer may use ----------------
    jrsa4096 = public_jwk(rsa4096)
    write_case("logto-rs256-4096", sign("RS256", rsa4096, logto_header("RS256", jrsa4096["kid"]),
                                        logto_payload()),
               [jrsa4096], "ok",
               "Logto after a rotation to RSA: RS256, 4096-bit key, JWK without alg",
               default_policy())
    jrsa2048 = public_jwk(rsa2048)
    write_case("logto-ps256", sign("PS256", rsa2048, logto_header("PS256", jrsa2048["kid"]),
                                   logto_payload()),
               [jrsa2048], "ok", "PS256 (RSASSA-PSS) with a 2048-bit RSA key without alg",
               default_policy())
    jes256 = public_jwk(es256)
    write_case("logto-es256", sign("ES256", es256, logto_header("ES256", jes256["kid"]),
                                   logto_payload()),
               [jes256], "ok", "ES256 with a P-256 key (alg ES256)", default_policy())
    jes512 = public_jwk(es512)
    write_case("logto-es512", sign("ES512", es512, logto_header("ES512", jes512["kid"]),
                                   logto_payload()),
               [jes512], "ok", "ES512 with a P-521 key (alg ES512, 66-byte coordinates)",
               default_policy())
    jeddsa = public_jwk(eddsa)
    write_case("logto-eddsa", sign("EdDSA", eddsa, logto_header("EdDSA", jeddsa["kid"]),
                                   logto_payload()),
               [jeddsa], "ok", "EdDSA with an Ed25519 key", default_policy())

    # -- rotation: Current (RSA), Next and Previous (EC) in one set -----------
    jprev = public_jwk(es384_prev)
    rotation = [jrsa4096, jes384, jprev]
    write_case("logto-rotation-previous-key",
               sign("ES384", es384_prev, logto_header("ES384", jprev["kid"]), logto_payload()),
               rotation, "ok",
               "A set of three keys (RSA Current, EC Next, EC Previous): a token of the Previous key",
               default_policy())
    write_case("logto-rotation-current-rsa",
               sign("RS256", rsa4096, logto_header("RS256", jrsa4096["kid"]), logto_payload()),
               rotation, "ok", "The same three-key set: a token of the RSA Current key",
               default_policy())

    # -- refusals --------------------------------------------------------------
    es("logto-expired", logto_payload(), "expired",
       "exp passed by more than the leeway (now = exp + 61, leeway 60)",
       default_policy(now=EXP + 61))
    es("logto-expired-within-leeway", logto_payload(), "ok",
       "exp passed by less than the leeway (now = exp + 30, leeway 60)",
       default_policy(now=EXP + 30))
    es("logto-expired-no-leeway", logto_payload(), "expired",
       "now = exp with leeway 0: a token is valid only before exp (RFC 7519 4.1.4)",
       default_policy("leeway=0", now=EXP))
    es("logto-iss-trailing-slash", logto_payload(iss=ISSUER + "/"), "iss_mismatch",
       "iss compared as an exact string: a trailing slash is another issuer")
    es("logto-iss-other-tenant", logto_payload(iss="https://evil.logto.app/oidc"), "iss_mismatch",
       "Token of another tenant (its iss) is refused even if its kid is known")
    es("logto-id-token-typ-jwt", logto_payload(), "typ_not_allowed",
       "ID tokens (typ JWT) are signed by the same keys and must not pass as access tokens",
       header=logto_header("ES384", kid, typ="JWT"))
    es("logto-typ-any", logto_payload(), "ok",
       "typ JWT is accepted when the policy turns the typ check off (types=any)",
       default_policy("types=any"), header=logto_header("ES384", kid, typ="JWT"))
    es("logto-typ-missing", logto_payload(), "typ_not_allowed",
       "A header without typ is not an RFC 9068 access token",
       header=compact({"alg": "ES384", "kid": kid}))
    es("logto-alg-not-in-policy", logto_payload(), "alg_not_allowed",
       "ES384 token while the policy allows only RS256", default_policy("algorithms=RS256"))
    write_case("logto-rs256-policy-es384-only",
               sign("RS256", rsa4096, logto_header("RS256", jrsa4096["kid"]), logto_payload()),
               rotation, "alg_not_allowed",
               "RS256 token of a known key while the policy allows only ES384",
               default_policy("algorithms=ES384"))
    es("logto-unknown-kid", logto_payload(), "unknown_kid",
       "The token's kid is in no key of the set (a static set is never refetched)",
       header=logto_header("ES384", "bm90LWEta25vd24ta2V5LWlkLWF0LWFsbC0xMjM0NTY"))
    es("logto-nbf-future", logto_payload(extra={"nbf": NOW + 120}), "not_yet_valid",
       "nbf two minutes ahead of now, beyond the 60 s leeway")
    es("logto-iat-future", logto_payload(iat=NOW + 120, exp=NOW + 3720), "iat_future",
       "iat two minutes ahead of now, beyond the 60 s leeway")
    es("logto-sub-missing", logto_payload(drop=("sub",)), "claim_missing",
       "A token without sub has no user: refused")
    es("logto-scope-array", logto_payload(scope=["read:products"]), "claim_type",
       "scope must be one space-separated string, not an array")
    es("logto-exp-string", logto_payload(exp=str(EXP)), "claim_type",
       "exp as a JSON string is not a NumericDate")
    es("logto-exp-missing", logto_payload(drop=("exp",)), "exp_missing",
       "An access token without exp would never expire: refused")

    good = sign("ES384", es384, hdr, logto_payload())
    h, _, s = good.split(".")
    forged = ".".join([h, b64e(logto_payload(scope="read:products write:products admin").encode()), s])
    write_case("logto-payload-swapped", forged, [jes384], "bad_signature",
               "A good signature over another payload (scope widened): the signature must fail",
               default_policy())
    write_case("logto-alg-none", b64e(compact({"alg": "none", "typ": "at+jwt"}).encode()) + "." +
               b64e(logto_payload().encode()) + ".", [jes384], "alg_not_allowed",
               "alg none with an empty signature (RFC 8725 section 2.1)", default_policy())
    write_case("logto-opaque-token", "r8ZqL2vN5xK9mT4wY7bH3cJ6dF1gP0sA2eU8iO5nQkW", [jes384],
               "opaque_token",
               "A 43-character opaque access token (request without a resource) is no JWT",
               default_policy())
    write_case("logto-jwe-five-parts",
               "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.ZW5jcnlwdGVka2V5.aXZpdml2aXZpdml2"
               ".Y2lwaGVydGV4dA.dGFndGFndGFndGFn",
               [jes384], "jwe_token", "Five parts: an encrypted JWT (JWE) is not accepted",
               default_policy())


# ---- checking ----------------------------------------------------------------

def read(folder, name):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def load_key(jwk):
    algs = get_default_algorithms()
    if jwk["kty"] == "RSA":
        return algs["RS256"].from_jwk(json.dumps(jwk))
    if jwk["kty"] == "EC":
        return algs["ES256"].from_jwk(json.dumps(jwk))
    if jwk["kty"] == "OKP":
        return algs["EdDSA"].from_jwk(json.dumps(jwk))
    return None


def check():
    """Signature-level cross-check with PyJWT: what must verify does, what must
    not (bad_signature) does not. Claim-level expectations are the C tests'."""
    count = 0
    for name in sorted(os.listdir(HERE)):
        folder = os.path.join(HERE, name)
        if not os.path.isdir(folder) or name.startswith(".") or name in FOREIGN:
            continue
        token, expect = read(folder, "token"), read(folder, "expect")
        assert token is not None and expect is not None, name
        assert read(folder, "description"), name + ": description missing"
        keys = json.loads(read(folder, "jwks.json"))["keys"]
        count += 1
        parts = token.split(".")
        if len(parts) != 3 or expect in ("unknown_kid", "opaque_token", "jwe_token", "malformed"):
            continue
        header = json.loads(b64d(parts[0]))
        alg = header["alg"]
        if alg not in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                       "ES256", "ES384", "ES512", "EdDSA"):
            continue
        cands = [k for k in keys if k.get("kid") == header["kid"]] if "kid" in header else keys
        verified = False
        for jwk in cands:
            if "d" in jwk or jwk["kty"] == "oct":
                continue
            key = load_key(jwk)
            try:
                verified = get_default_algorithms()[alg].verify(
                    (parts[0] + "." + parts[1]).encode(), key, b64d(parts[2]))
            except Exception:  # wrong key type for this algorithm
                verified = False
            if verified:
                break
        want = expect != "bad_signature"
        if verified != want:
            sys.exit("%s: PyJWT says verified=%s, expect is %s" % (name, verified, expect))
    print("%d vectors checked" % count)


# ---- fuzz seed corpora -------------------------------------------------------

CORPUS = os.path.join(HERE, "..", "fuzz", "corpus")


def write_seed(kind, name, data):
    folder = os.path.join(CORPUS, kind)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(folder, name), "wb") as out:
        out.write(data)


def write_corpus():
    """Seeds named after the attacks they carry, plus every vector's token
    and key set. The fuzz targets know the vectors' keys (fuzz_jws.c), so
    the Logto tokens and RFC tokens reach signature checks."""
    import hmac
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    es384 = ec_key("logto-current-es384", "P-384")
    jwk = public_jwk(es384)
    kid = jwk["kid"]
    payload = logto_payload()
    good = sign("ES384", es384, logto_header("ES384", kid), payload)
    h, p, s = good.split(".")
    sig = b64d(s)
    n384 = ORDERS["P-384"].to_bytes(48, "big")

    def unsigned(header, body=payload, signature=""):
        return b64e(compact(header).encode()) + "." + b64e(body.encode()) + "." + signature

    pem = es384.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_input = (b64e(compact({"alg": "HS256", "typ": "at+jwt", "kid": kid}).encode()) + "." +
                b64e(payload.encode()))
    hs = hs_input + "." + b64e(hmac.new(pem, hs_input.encode(), hashlib.sha256).digest())
    der = encode_dss_signature(int.from_bytes(sig[:48], "big"), int.from_bytes(sig[48:], "big"))

    seeds = {
        "valid-logto-es384": good,
        "alg-none": unsigned({"alg": "none", "typ": "at+jwt"}),
        "alg-none-signed": unsigned({"alg": "none", "typ": "at+jwt", "kid": kid}, signature=s),
        "alg-none-uppercase": unsigned({"alg": "NONE"}),
        "alg-none-two-segments": b64e(b'{"alg":"none"}') + "." + b64e(payload.encode()),
        "alg-kty-mismatch": sign("ES384", es384, logto_header("RS256", kid), payload),
        "alg-es256-on-p384": sign("ES256", es384, logto_header("ES256", kid), payload),
        "hs256-public-key": hs,
        "five-segments": h + "." + p + "." + s + ".e30.e30",
        "four-segments": good + "." + s,
        "six-segments": good + ".e30.e30.e30",
        "two-segments": h + "." + p,
        "empty-segments": "..",
        "only-dots": "....",
        "empty": "",
        "trailing-dot": good + ".",
        "deep-json-header": b64e(('{"alg":"ES384","x":' + "[" * 10000).encode()) + "." + p + "." + s,
        "deep-json-payload": h + "." + b64e(("[" * 10000).encode()) + "." + s,
        "deep-json-objects": h + "." + b64e(('{"a":' * 2000 + "1" + "}" * 2000).encode()) + "." + s,
        "duplicate-alg": sign("ES384", es384, '{"alg":"ES384","typ":"at+jwt","kid":"%s","alg":"none"}'
                              % kid, payload),
        "duplicate-exp": sign("ES384", es384, logto_header("ES384", kid),
                              '{"exp":4102444800,' + payload[1:]),
        "duplicate-escaped-alg": sign("ES384", es384,
                                      '{"alg":"ES384","typ":"at+jwt","kid":"%s","\\u0061lg":"HS256"}'
                                      % kid, payload),
        "crit-unknown": sign("ES384", es384, compact({"alg": "ES384", "typ": "at+jwt", "kid": kid,
                                                      "crit": ["x-tenant"], "x-tenant": "t"}),
                             payload),
        "crit-empty": sign("ES384", es384, compact({"alg": "ES384", "kid": kid, "crit": []}),
                           payload),
        "crit-b64-false": sign("ES384", es384, compact({"alg": "ES384", "kid": kid, "b64": False,
                                                        "crit": ["b64"]}), payload),
        "ecdsa-zero-signature": h + "." + p + "." + b64e(bytes(96)),
        "ecdsa-order-signature": h + "." + p + "." + b64e(n384 + sig[48:]),
        "ecdsa-order-plus-one": h + "." + p + "." + b64e(n384[:-1] + bytes([n384[-1] + 1]) + sig[48:]),
        "der-signature": h + "." + p + "." + b64e(der),
        "truncated-signature": h + "." + p + "." + b64e(sig[:-1]),
        "extended-signature": h + "." + p + "." + b64e(b"\x00" + sig),
        "empty-signature": h + "." + p + ".",
        "embedded-jwk": sign("ES384", ec_key("attacker", "P-384"),
                             compact({"alg": "ES384", "typ": "at+jwt",
                                      "jwk": public_jwk(ec_key("attacker", "P-384"))}), payload),
        "jku-header": sign("ES384", ec_key("attacker", "P-384"),
                           compact({"alg": "ES384", "typ": "at+jwt", "kid": kid,
                                    "jku": "https://attacker.example/jwks.json"}), payload),
        "kid-attacker-key": sign("ES384", ec_key("attacker", "P-384"), logto_header("ES384", kid),
                                 payload),
        "opaque-token": "r8ZqL2vN5xK9mT4wY7bH3cJ6dF1gP0sA2eU8iO5nQkW",
        "oversized-token": "A" * 16385,
        "base64-padding": good + "==",
        "base64-standard-alphabet": good.replace("-", "+").replace("_", "/"),
        "base64-whitespace": h + ". " + p + "." + s + "\n",
        "base64-trailing-bits": h + "." + p + "." + s[:-1] + ("B" if s[-1] == "A" else "A"),
        "exp-string": sign("ES384", es384, logto_header("ES384", kid),
                           logto_payload(exp=str(EXP))),
        "exp-nan": sign("ES384", es384, logto_header("ES384", kid),
                        logto_payload(exp=0).replace('"exp":0', '"exp":NaN')),
        "exp-1e400": sign("ES384", es384, logto_header("ES384", kid),
                          logto_payload(exp=0).replace('"exp":0', '"exp":1e400')),
        "exp-missing": sign("ES384", es384, logto_header("ES384", kid),
                            logto_payload(drop=("exp",))),
        "nbf-future": sign("ES384", es384, logto_header("ES384", kid),
                           logto_payload(extra={"nbf": NOW + 3600})),
        "typ-jwt": sign("ES384", es384, logto_header("ES384", kid, typ="JWT"), payload),
        "iss-trailing-slash": sign("ES384", es384, logto_header("ES384", kid),
                                   logto_payload(iss=ISSUER + "/")),
        "aud-object": sign("ES384", es384, logto_header("ES384", kid),
                           logto_payload(aud={"x": 1})),
    }
    for name, token in seeds.items():
        write_seed("jws", name, token)

    rsa1024 = rsa_key("corpus-rsa-1024", 1024)
    p256 = public_jwk(ec_key("corpus-p256", "P-256"))
    off_curve = dict(p256, y=p256["y"][:-2] + ("AA" if p256["y"][-2:] != "AA" else "BA"))
    short = dict(p256, x=b64e(b64d(p256["x"])[1:]))
    priv = dict(jwk, d=b64e(int_bytes(es384.private_numbers().private_value, 48)))
    sets = {
        "logto-es384": {"keys": [jwk]},
        "private-key-d": {"keys": [priv]},
        "rsa-1024": {"keys": [public_jwk(rsa1024)]},
        "ec-off-curve": {"keys": [off_curve]},
        "ec-short-coordinate": {"keys": [short]},
        "oct-key": {"keys": [{"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}]},
        "unknown-kty": {"keys": [dict(jwk, kty="XYZ")]},
        "unknown-crv": {"keys": [dict(jwk, crv="P-192")]},
        "use-enc": {"keys": [dict(jwk, use="enc")]},
        "key-ops-encrypt": {"keys": [dict(jwk, key_ops=["encrypt"])]},
        "alg-kty-mismatch": {"keys": [dict(jwk, alg="RS256")]},
        "alg-none": {"keys": [dict(jwk, alg="none")]},
        "duplicate-kid": {"keys": [jwk, dict(public_jwk(ec_key("logto-previous-es384", "P-384")),
                                             kid=kid)]},
        "kid-not-string": {"keys": [dict(jwk, kid=42)]},
        "junk-members": {"keys": [1, "x", None, [], {}, {"kty": "RSA"}, jwk]},
        "no-keys": {"keys": []},
        "keys-not-array": {"keys": jwk},
        "too-many-keys": {"keys": [dict(jwk, kid="k%d" % i) for i in range(70)]},
    }
    for name, doc in sets.items():
        write_seed("jwks", name, json.dumps(doc))
    write_seed("jwks", "single-jwk", json.dumps(jwk))
    write_seed("jwks", "duplicate-keys-member",
               '{"keys":[%s],"keys":[]}' % json.dumps(jwk))
    write_seed("jwks", "deep-json", '{"keys":[' + "[" * 10000 + "]" * 10000 + "]}")
    write_seed("jwks", "deep-json-objects", '{"keys":[' + '{"a":' * 10000 + "1" + "}" * 10000 + "]}")
    write_seed("jwks", "empty", "")
    write_seed("jwks", "not-json", "keys")

    seen = set()
    for name in sorted(os.listdir(HERE)):
        folder = os.path.join(HERE, name)
        if not os.path.isdir(folder) or name.startswith(".") or name in FOREIGN:
            continue
        write_seed("jws", "vector-" + name, read(folder, "token"))
        doc = read(folder, "jwks.json")
        if doc not in seen:
            seen.add(doc)
            write_seed("jwks", "vector-" + name, doc)


def main():
    if "--check" not in sys.argv[1:]:
        generate()
        write_corpus()
    check()


if __name__ == "__main__":
    main()
