"""A project URLconf for the tests that go through Django's full request cycle."""

from django.urls import include, path

urlpatterns = [
    path("logto/", include("django_logto.urls")),
]
