"""The token payload as data: strict parsing, and claim requirements with the
semantics of the module's `Require logto-claim`.

Shared by LogtoAuth.has_claim(), the require_claim() decorator and DRF's
HasClaim, so that the three answer exactly alike, and like the module.
"""

import json

__all__ = ["ClaimRequirement", "InvalidClaims", "parse_claims"]

_MISSING = object()


class InvalidClaims(ValueError):
    """What reached Django cannot be read as the module wrote it.

    Raised for values that are not UTF-8, claims that are not a JSON object,
    claims that disagree with the other values. Callers treat the request as
    anonymous: a value we cannot read must never become an identity.
    """


def _no_duplicates(pairs):
    """object_pairs_hook: the module refuses payloads with duplicate members,
    so a duplicate here means the JSON did not come from it."""
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise InvalidClaims("duplicate member %r" % key)
        obj[key] = value
    return obj


def _no_constants(name):
    raise InvalidClaims("%s is not JSON" % name)


def parse_claims(text):
    """The payload JSON as a dict: an object, without duplicate members or NaN/Infinity."""
    try:
        claims = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except InvalidClaims:
        raise
    except ValueError as exc:
        raise InvalidClaims("not JSON: %s" % exc) from None
    if not isinstance(claims, dict):
        raise InvalidClaims("not a JSON object")
    return claims


def json_text(value):
    """The text a value is compared as: a string as itself; a number or a
    boolean as the JSON json.dumps writes (true, false, 42, 1.5); anything
    else (null, objects, arrays) has no text and matches no value."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)
    return None


class ClaimRequirement:
    """`Require logto-claim NAME [VALUE...]` as a Python object.

    NAME is a claim, or a dotted path into nested objects (`act.sub`).
    With values: a string claim equals one; an array claim has an element
    that equals one (string elements as strings, numbers and booleans by
    their JSON text); a number or boolean claim's JSON text equals one.
    Without values: the claim is present and not null, false, "" or [].

    Values are text, as in the httpd configuration. For convenience a bool,
    int or float value is turned into its JSON text (True -> "true").
    """

    def __init__(self, name, *values):
        if not isinstance(name, str) or not name or "" in name.split("."):
            raise ValueError("claim name must be a claim or a dotted path without empty parts: %r"
                             % (name,))
        self.name = name
        self.path = tuple(name.split("."))
        self.values = tuple(self._text(value) for value in values)

    @staticmethod
    def _text(value):
        if isinstance(value, str):
            return value
        if isinstance(value, (bool, int, float)):
            return json.dumps(value)
        raise TypeError("claim values are strings (or bool/int/float, compared by JSON text), "
                        "not %s" % type(value).__name__)

    def lookup(self, claims):
        """The claim's value, or the module-private _MISSING when absent."""
        value = claims
        for part in self.path:
            if not isinstance(value, dict) or part not in value:
                return _MISSING
            value = value[part]
        return value

    def is_met(self, claims):
        """Whether a payload (a dict) satisfies the requirement."""
        value = self.lookup(claims)
        if value is _MISSING:
            return False
        if not self.values:
            # `is False`, not `== False`: 0 is present and passes, as in the module.
            return not (value is None or value is False or value == "" or value == [])
        if isinstance(value, list):
            return any(json_text(item) in self.values for item in value)
        return json_text(value) in self.values

    @property
    def message(self):
        """What failed, for a 403 body: names the claim and the accepted values."""
        if not self.values:
            return "Claim %s is missing or empty" % self.name
        return "Claim %s does not match %s" % (
            self.name, " or ".join(json.dumps(value, ensure_ascii=False) for value in self.values))

    def __repr__(self):
        return "ClaimRequirement(%s)" % ", ".join(repr(x) for x in (self.name,) + self.values)
