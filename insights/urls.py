from django.urls import path

from insights import views

app_name = "insights"

urlpatterns = [
    path("", views.report_detail, name="report"),
    path("report.md", views.report_markdown, name="report_markdown"),
    path("print/", views.report_print, name="report_print"),
    path("runs/", views.run_start, name="run_start"),
    path("runs/<int:pk>/progress/", views.run_progress, name="run_progress"),
    path("classes/<slug:slug>/", views.class_detail, name="class_detail"),
    path("classes/<slug:slug>/accept/", views.class_accept, name="class_accept"),
    path("classes/<slug:slug>/rename/", views.class_rename, name="class_rename"),
    path("classes/<slug:slug>/merge/", views.class_merge, name="class_merge"),
    path("classes/<slug:slug>/split/", views.class_split, name="class_split"),
    path(
        "postmortems/<int:pk>/confirm/",
        views.postmortem_confirm,
        name="postmortem_confirm",
    ),
    path(
        "postmortems/<int:pk>/statements/<str:key>/confirm/",
        views.statement_confirm,
        name="statement_confirm",
    ),
]
