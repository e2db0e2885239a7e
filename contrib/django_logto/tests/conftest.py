"""Django configured in-process for the package's tests: no database, no pytest-django."""

import sys
from pathlib import Path

import django
from django.conf import settings

# contrib/ on sys.path, so `django_logto` imports from wherever pytest runs.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def pytest_configure(config):
    settings.configure(
        DEBUG=False,
        SECRET_KEY="django-logto-tests",
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
        REST_FRAMEWORK={
            # No django.contrib.auth: anonymous is None, not AnonymousUser.
            "UNAUTHENTICATED_USER": None,
            "DEFAULT_AUTHENTICATION_CLASSES": [],
            "DEFAULT_PERMISSION_CLASSES": [],
            "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        },
    )
    django.setup()
