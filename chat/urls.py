from django.urls import path

from chat.slack import views

app_name = "chat"

urlpatterns = [
    path("slack/events", views.slack_events, name="slack_events"),
    path("slack/commands", views.slack_commands, name="slack_commands"),
    path("slack/interactions", views.slack_interactions, name="slack_interactions"),
]
