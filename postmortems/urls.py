from django.urls import include, path

from postmortems.views import incidents, postmortems

app_name = "postmortems"

urlpatterns = [
    path("incidents/", incidents.incident_list, name="incident_list"),
    path("incidents/<int:pk>/", incidents.incident_detail, name="incident_detail"),
    path("postmortems/", postmortems.postmortem_list, name="postmortem_list"),
    path(
        "postmortems/<int:pk>/", postmortems.postmortem_detail, name="postmortem_detail"
    ),
    path("", include("postmortems.findings.urls")),
]
