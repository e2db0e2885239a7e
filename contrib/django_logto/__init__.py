"""Django side of mod_auth_logto: request.auth from the variables the module exports.

drf (LogtoAuthentication and the permission classes) is not imported here,
so the package works without Django REST framework; neither are the webhook
view and the deny list (django_logto.webhooks, django_logto.denylist).
"""

from .auth import LogtoAuth, get_auth
from .claims import ClaimRequirement
from .decorators import require_claim, require_organization, require_scopes
from .middleware import LogtoAuthMiddleware

__all__ = [
    "ClaimRequirement",
    "LogtoAuth",
    "LogtoAuthMiddleware",
    "get_auth",
    "require_claim",
    "require_organization",
    "require_scopes",
]
