"""URLs of django_logto: include them under any prefix.

    urlpatterns = [path("logto/", include("django_logto.urls")), ...]

gives POST /logto/webhook/ for Logto's webhooks (reverse("django_logto:webhook")).
The location must not be behind `AuthType Logto`: Logto sends no bearer
token; the view checks the webhook's signature instead.
"""

from django.urls import path

from .webhooks import logto_webhook

app_name = "django_logto"

urlpatterns = [
    path("webhook/", logto_webhook, name="webhook"),
]
