"""Attach the Logto auth info to every request as request.auth."""

from .auth import LogtoAuth


class LogtoAuthMiddleware:
    """Sets request.auth to a LogtoAuth, or None for an anonymous request.

    It reads the environment, and the Logto-* request headers only when
    settings.LOGTO_TRUST_CLAIM_HEADERS is on (LogtoAuth.from_request).

    It never refuses a request: mod_auth_logto already answered 401/403 for
    the locations it protects, and other locations may be public on purpose.
    Views that want a second check use the decorators.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.auth = LogtoAuth.from_request(request)
        return self.get_response(request)
