"""Settings of the Django app the integration tests and the benchmark run under mod_wsgi.

Minimal on purpose: no database, no sessions, no templates, so that what a
request costs is routing plus the view, the same for every benchmark route.
"""

import os

DEBUG = False
SECRET_KEY = "mod-auth-logto-integration-tests-only"
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = []
DATABASES = {}

MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "django_logto.middleware.LogtoAuthMiddleware",
]

ROOT_URLCONF = "djangoapp.urls"
WSGI_APPLICATION = "djangoapp.wsgi.application"

# Must equal the module's LogtoClaimPrefix. httpd's own environment reaches
# the daemon processes, so a test of another prefix starts httpd with this set.
LOGTO_CLAIM_PREFIX = os.environ.get("DJANGOAPP_LOGTO_CLAIM_PREFIX", "LOGTO_")

USE_I18N = False
USE_TZ = True
# Django sets the process's TZ from this: UTC keeps the daemon's lines in
# httpd's error log on the same clock as httpd's own.
TIME_ZONE = "UTC"

# Unhandled exceptions (500) go to stderr, which mod_wsgi writes to httpd's
# error log as [wsgi:error], where the integration tests' log check fails
# them. Not WARNING: Django logs every 401/403 at that level, and those are
# the answers the tests expect.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # The level is the handler's: records propagated from django.request
    # are not filtered by the root logger's level.
    "handlers": {"stderr": {"class": "logging.StreamHandler", "level": "ERROR"}},
    "root": {"handlers": ["stderr"], "level": "ERROR"},
}
