from django.urls import path

from . import guide, views

urlpatterns = [
    path("api/protected/", views.protected),
    path("api/env/", views.env),
    path("api/public/", views.public),
    path("orgs/<str:org>/members/", views.org_members),
    path("org-api/<str:org>/products/", views.org_members),
    path("bench/noauth/", views.bench),
    path("bench/logto/", views.bench),
    path("bench/guide/", guide.bench_guide),
]
