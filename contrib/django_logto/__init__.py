"""Django side of mod_auth_logto: request.auth from the variables the module exports.

drf.LogtoAuthentication is not imported here, so the package works without
Django REST framework.
"""

from .auth import LogtoAuth, get_auth
from .decorators import require_organization, require_scopes
from .middleware import LogtoAuthMiddleware

__all__ = [
    "LogtoAuth",
    "LogtoAuthMiddleware",
    "get_auth",
    "require_organization",
    "require_scopes",
]
