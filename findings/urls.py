"""Finding pages, included from kb/urls.py at the site root (their paths start
with ``findings/``)."""

from django.urls import path

from findings import views

app_name = "findings"

urlpatterns = [
    path(
        "findings/analyzers/",
        views.analyzer_scorecards,
        name="analyzer_scorecards",
    ),
    path(
        "findings/incidents/<int:pk>/",
        views.incident_findings,
        name="incident_findings",
    ),
    path("findings/<int:pk>/", views.finding_detail, name="finding_detail"),
    path(
        "findings/<int:pk>/timeline/",
        views.finding_add_to_timeline,
        name="finding_add_to_timeline",
    ),
    path("findings/<int:pk>/verdict/", views.finding_verdict, name="finding_verdict"),
    path(
        "findings/suggestions/<int:pk>/accept/",
        views.finding_suggestion_accept,
        name="finding_suggestion_accept",
    ),
    path(
        "findings/suggestions/<int:pk>/dismiss/",
        views.finding_suggestion_dismiss,
        name="finding_suggestion_dismiss",
    ),
]
