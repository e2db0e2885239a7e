"""Django REST framework authentication from mod_auth_logto's variables.

Optional: the rest of django_logto does not need DRF, so this module alone
imports it and says what is missing when it is not installed.
"""

try:
    from rest_framework.authentication import BaseAuthentication
except ImportError as exc:
    raise ImportError(
        "django_logto.drf needs Django REST framework: install djangorestframework "
        "(Debian: python3-djangorestframework), or use django_logto's middleware and "
        "decorators, which do not need it"
    ) from exc

from .auth import LogtoAuth


class LogtoUser:
    """A request's user built from the token, with no database row.

    DRF's permission classes only ask is_authenticated; username and pk give
    throttling and logging a stable identity (the token's sub).
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, auth):
        self.auth = auth
        self.username = auth.sub
        self.pk = self.id = auth.sub

    def get_username(self):
        return self.username

    def __str__(self):
        return self.username

    def __eq__(self, other):
        return isinstance(other, LogtoUser) and other.username == self.username

    def __hash__(self):
        return hash(self.username)


class LogtoAuthentication(BaseAuthentication):
    """(LogtoUser, LogtoAuth) when mod_auth_logto authenticated the request.

    Returns None otherwise, so DRF tries the next class or treats the request
    as anonymous; with IsAuthenticated that is a 401 carrying
    `WWW-Authenticate: Bearer`.
    """

    def authenticate(self, request):
        auth = LogtoAuth.from_request(request._request)
        if auth is None:
            return None
        return LogtoUser(auth), auth

    def authenticate_header(self, request):
        return "Bearer"
