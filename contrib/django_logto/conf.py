"""django_logto's settings, each read when used (override_settings works) and checked.

Every setting is documented in the package README. The ones that decide whom
Django trusts are refused when they would open a hole, rather than silently
accepted: a prefix clients could write, an ambiguous header prefix.
"""

import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

#: The module's LogtoClaimPrefix default.
DEFAULT_PREFIX = "LOGTO_"

#: The module's LogtoClaimHeaderPrefix default.
DEFAULT_HEADER_PREFIX = "Logto-"

#: Logto's default access-token lifetime (API resources; organization tokens are fixed at it).
DEFAULT_TOKEN_LIFETIME = 3600

#: The module's LogtoClockSkew default.
DEFAULT_CLOCK_SKEW = 60

#: The deny list must be readable by httpd's children, which run as another user.
DEFAULT_DENY_LIST_MODE = 0o644

MEMBERSHIP_REMOVAL_POLICIES = ("deny", "ignore")

# An HTTP token made of letters, digits and '-' only: '_' is refused because
# WSGI and ASGI servers turn both '-' and '_' into '_' in META, so a client
# header spelled with underscores would land on the same key (see
# header_meta_prefix()).
_HEADER_PREFIX = re.compile(r"[A-Za-z0-9-]+")


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


def trust_claim_headers():
    """settings.LOGTO_TRUST_CLAIM_HEADERS: read the claims from Logto-* request headers.

    Off by default: only a backend that nobody but httpd can reach may trust
    request headers (README, "Claims from request headers").
    """
    value = getattr(settings, "LOGTO_TRUST_CLAIM_HEADERS", False)
    if not isinstance(value, bool):
        raise ImproperlyConfigured("LOGTO_TRUST_CLAIM_HEADERS must be True or False")
    return value


def claim_header_prefix():
    """settings.LOGTO_CLAIM_HEADER_PREFIX, which must equal the module's LogtoClaimHeaderPrefix."""
    prefix = getattr(settings, "LOGTO_CLAIM_HEADER_PREFIX", DEFAULT_HEADER_PREFIX)
    if not isinstance(prefix, str) or not _HEADER_PREFIX.fullmatch(prefix):
        raise ImproperlyConfigured(
            "LOGTO_CLAIM_HEADER_PREFIX must be made of letters, digits and '-' (no '_': "
            "WSGI servers map '-' and '_' to the same META key)"
        )
    return prefix


def header_meta_prefix(prefix=None):
    """The META key prefix of the claim headers: Logto- -> HTTP_LOGTO_."""
    if prefix is None:
        prefix = claim_header_prefix()
    return "HTTP_" + prefix.upper().replace("-", "_")


def _required(name):
    value = getattr(settings, name, None)
    if not value:
        raise ImproperlyConfigured("%s must be set to use the Logto webhook" % name)
    return value


def webhook_signing_key():
    """settings.LOGTO_WEBHOOK_SIGNING_KEY: the webhook's signing key from the Logto console."""
    key = _required("LOGTO_WEBHOOK_SIGNING_KEY")
    if not isinstance(key, (str, bytes)):
        raise ImproperlyConfigured("LOGTO_WEBHOOK_SIGNING_KEY must be a string")
    return key.encode("utf-8") if isinstance(key, str) else key


def deny_list_path():
    """settings.LOGTO_DENY_LIST_PATH: the file the module's `LogtoDenyList` names."""
    return str(_required("LOGTO_DENY_LIST_PATH"))


def _seconds(name, default):
    value = getattr(settings, name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ImproperlyConfigured("%s must be a whole number of seconds, 0 or more" % name)
    return value


def token_lifetime():
    """settings.LOGTO_TOKEN_LIFETIME: the longest access-token lifetime of the tenant's APIs."""
    return _seconds("LOGTO_TOKEN_LIFETIME", DEFAULT_TOKEN_LIFETIME)


def clock_skew():
    """settings.LOGTO_CLOCK_SKEW: at least the module's LogtoClockSkew."""
    return _seconds("LOGTO_CLOCK_SKEW", DEFAULT_CLOCK_SKEW)


def deny_list_retention():
    """How long a deny entry must live: a token issued just before the event is
    accepted by the module until exp + LogtoClockSkew."""
    return token_lifetime() + clock_skew()


def deny_list_mode():
    """settings.LOGTO_DENY_LIST_MODE: the file's permission bits."""
    mode = getattr(settings, "LOGTO_DENY_LIST_MODE", DEFAULT_DENY_LIST_MODE)
    if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 0o777:
        raise ImproperlyConfigured("LOGTO_DENY_LIST_MODE must be permission bits, e.g. 0o644")
    return mode


def membership_removal():
    """settings.LOGTO_WEBHOOK_MEMBERSHIP_REMOVAL: what a removal from an organization does."""
    policy = getattr(settings, "LOGTO_WEBHOOK_MEMBERSHIP_REMOVAL", "deny")
    if policy not in MEMBERSHIP_REMOVAL_POLICIES:
        raise ImproperlyConfigured(
            "LOGTO_WEBHOOK_MEMBERSHIP_REMOVAL must be one of %s" % ", ".join(MEMBERSHIP_REMOVAL_POLICIES))
    return policy
