from django.urls import path

from postmortems.views import incidents, lists, postmortems, timeline

app_name = "postmortems"

urlpatterns = [
    path("incidents/", incidents.incident_list, name="incident_list"),
    path("incidents/new/", incidents.incident_create, name="incident_create"),
    path("incidents/<int:pk>/", incidents.incident_detail, name="incident_detail"),
    path("incidents/<int:pk>/edit/", incidents.incident_edit, name="incident_edit"),
    path(
        "incidents/<int:pk>/correct/",
        incidents.incident_correct,
        name="incident_correct",
    ),
    path(
        "incidents/<int:pk>/timeline/",
        timeline.timeline_entries,
        name="timeline_entries",
    ),
    path(
        "incidents/<int:pk>/timeline/new/",
        timeline.timeline_entry_create,
        name="timeline_entry_create",
    ),
    path(
        "incidents/<int:pk>/timeline/<int:entry_pk>/edit/",
        timeline.timeline_entry_edit,
        name="timeline_entry_edit",
    ),
    path(
        "incidents/<int:pk>/timeline/<int:entry_pk>/delete/",
        timeline.timeline_entry_delete,
        name="timeline_entry_delete",
    ),
    path("postmortems/", lists.postmortem_list, name="postmortem_list"),
    path(
        "postmortems/<int:pk>/", postmortems.postmortem_detail, name="postmortem_detail"
    ),
]
