from django.urls import path

from postmortems.views import (
    incidents,
    lists,
    postmortem_editor,
    postmortem_workflow,
    postmortems,
    timeline,
)

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

# The postmortem document: writing, review workflow, history, export.
urlpatterns += [
    path(
        "incidents/<int:pk>/postmortem/new/",
        postmortem_editor.postmortem_new,
        name="postmortem_create",
    ),
    path(
        "postmortems/<int:pk>/edit/",
        postmortem_editor.postmortem_edit,
        name="postmortem_edit",
    ),
    path(
        "postmortems/preview/",
        postmortem_editor.markdown_preview,
        name="markdown_preview",
    ),
    path(
        "postmortems/blame-check/",
        postmortem_editor.blame_check,
        name="blame_check",
    ),
    path(
        "postmortems/<int:pk>/submit/",
        postmortem_workflow.postmortem_submit_view,
        name="postmortem_submit",
    ),
    path(
        "postmortems/<int:pk>/approve/",
        postmortem_workflow.postmortem_approve_view,
        name="postmortem_approve",
    ),
    path(
        "postmortems/<int:pk>/send-back/",
        postmortem_workflow.postmortem_send_back_view,
        name="postmortem_send_back",
    ),
    path(
        "postmortems/<int:pk>/publish/",
        postmortem_workflow.postmortem_publish_view,
        name="postmortem_publish",
    ),
    path(
        "postmortems/<int:pk>/drafted/accept/",
        postmortem_workflow.postmortem_accept_drafted_view,
        name="postmortem_accept_drafted",
    ),
    path(
        "postmortems/<int:pk>/comments/",
        postmortem_workflow.comment_create_view,
        name="comment_create",
    ),
    path(
        "postmortems/<int:pk>/history/",
        postmortems.postmortem_history,
        name="postmortem_history",
    ),
    path(
        "postmortems/<int:pk>/export.md",
        postmortems.postmortem_export_markdown,
        name="postmortem_export_markdown",
    ),
    path(
        "postmortems/<int:pk>/print/",
        postmortems.postmortem_print,
        name="postmortem_print",
    ),
    path(
        "postmortems/<int:pk>/export.pdf",
        postmortems.postmortem_export_pdf,
        name="postmortem_export_pdf",
    ),
]
